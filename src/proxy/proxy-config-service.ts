import type { Clock } from '../clock.js';
import { validateConfig, type ConfigFile } from '../config/config-file.js';
import { KeygateError } from '../errors.js';
import type { Store } from '../store/index.js';
import { readProxyConfig, replaceProxyConfig, type ProxyConfig } from './proxy-config-store.js';
import type { CatalogModel } from '../ai/catalog/index.js';
import { restoreCredentialHeaders, withCredentialHeadersMasked } from '../ai/secret-redaction.js';
import type { RouteSpec } from './route-schema.js';
import type { ServiceSpec } from './service-schema.js';

/**
 * The control plane of services and routes. Every change, a whole file or one entry, is validated as the whole
 * config it produces, then written in one transaction: a config that does not validate is refused whole and
 * nothing is half-applied.
 */
export class ProxyConfigService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly onChange: (version: number) => Promise<void>,
  ) {}

  read(): Promise<ProxyConfig> {
    return readProxyConfig(this.store.db);
  }

  /** The whole config as the admin API shows it: AI providers' credential headers read `[redacted]`. */
  async export(): Promise<ConfigFile> {
    const config = await this.read();
    return { version: 1, services: config.services, routes: config.routes, ...(config.issuers.length > 0 ? { issuers: config.issuers } : {}), ...(config.ai ? { ai: withCredentialHeadersMasked(config.ai) } : {}) };
  }

  /**
   * Replaces services and routes with the file's (declarative apply). A credential header reading `[redacted]`, as
   * `export` shows it, keeps the value stored for it.
   */
  async apply(file: unknown, actor: string): Promise<{ version: number; services: number; routes: number }> {
    const config = validateConfig(file);
    const next = { services: config.services ?? [], routes: config.routes ?? [], issuers: config.issuers ?? [], ai: config.ai };
    const { version } = await this.#change(actor, 'config.apply', 'config', async (current) => (next.ai ? { ...next, ai: restoreCredentialHeaders(next.ai, current.ai) } : next));
    return { version, services: next.services.length, routes: next.routes.length };
  }

  async putService(spec: ServiceSpec, actor: string): Promise<ServiceSpec> {
    await this.#change(actor, 'service.put', spec.name, async (current) => {
      const services = upsert(current.services, spec);
      return { ...current, services };
    });
    return spec;
  }

  async deleteService(name: string, actor: string): Promise<void> {
    await this.#change(actor, 'service.delete', name, async (current) => {
      if (!current.services.some((s) => s.name === name)) throw new KeygateError('not_found', `no service is named "${name}"`);
      const users = current.routes.filter((r) => r.service === name).map((r) => r.name);
      if (users.length > 0) throw new KeygateError('config_conflict', `service "${name}" is used by route(s) ${users.join(', ')}; delete or move them first`);
      return { ...current, services: current.services.filter((s) => s.name !== name) };
    });
  }

  /** Adds or replaces a model catalog entry in the config's `ai.models` (same provider and id replaces). */
  async putCatalogModel(entry: CatalogModel, actor: string): Promise<CatalogModel> {
    await this.#change(actor, 'ai.model.put', `${entry.provider}/${entry.id}`, async (current) => {
      if (!current.ai) throw new KeygateError('config_conflict', 'the config has no "ai" section; apply one with providers first');
      const models = (current.ai.models ?? []).filter((m) => !(m.provider === entry.provider && m.id === entry.id));
      return { ...current, ai: { ...current.ai, models: [...models, entry] } };
    });
    return entry;
  }

  async deleteCatalogModel(provider: string, id: string, actor: string): Promise<void> {
    await this.#change(actor, 'ai.model.delete', `${provider}/${id}`, async (current) => {
      const models = current.ai?.models ?? [];
      if (!models.some((m) => m.provider === provider && m.id === id)) throw new KeygateError('not_found', `the config has no catalog entry ${provider}/${id} (shipped entries can be replaced, not deleted)`);
      return { ...current, ai: { ...current.ai!, models: models.filter((m) => !(m.provider === provider && m.id === id)) } };
    });
  }

  async putRoute(spec: RouteSpec, actor: string): Promise<RouteSpec> {
    await this.#change(actor, 'route.put', spec.name, async (current) => ({ ...current, routes: upsert(current.routes, spec) }));
    return spec;
  }

  async deleteRoute(name: string, actor: string): Promise<void> {
    await this.#change(actor, 'route.delete', name, async (current) => {
      if (!current.routes.some((r) => r.name === name)) throw new KeygateError('not_found', `no route is named "${name}"`);
      return { ...current, routes: current.routes.filter((r) => r.name !== name) };
    });
  }

  /** Reads the current config inside the change's transaction (serialized by the store), edits, validates, writes. */
  async #change(actor: string, action: string, target: string, edit: (current: ProxyConfig) => Promise<ProxyConfig>): Promise<{ version: number }> {
    const now = this.clock.now();
    const { version } = await this.store.change({ actor, action, target }, now, async (tx) => {
      const next = await edit(await readProxyConfig(tx));
      validateConfig({ version: 1, services: next.services, routes: next.routes, issuers: next.issuers, ...(next.ai ? { ai: next.ai } : {}) });
      await replaceProxyConfig(tx, next, now);
    });
    await this.onChange(version);
    return { version };
  }
}

function upsert<T extends { name: string }>(list: T[], item: T): T[] {
  const i = list.findIndex((x) => x.name === item.name);
  return i === -1 ? [...list, item] : list.map((x, j) => (j === i ? item : x));
}
