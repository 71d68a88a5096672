import type { Clock } from '../clock.js';
import { validateConfig, type ConfigFile } from '../config/config-file.js';
import { KeygateError } from '../errors.js';
import type { Store } from '../store/index.js';
import { aiCredentialsInClear, readProxyConfig, replaceProxyConfig, sealAiCredentials, storedHeadersOf, type ProxyConfig } from './proxy-config-store.js';
import type { CatalogModel } from '../ai/catalog/index.js';
import { restoreCredentialHeaders, withCredentialHeadersMasked } from '../ai/secret-redaction.js';
import type { RouteSpec } from './route-schema.js';
import type { ServiceSpec } from './service-schema.js';

/**
 * The control plane of services and routes. Every change, a whole file or one entry, is validated as the whole
 * config it produces, then written in one transaction: a config that does not validate is refused whole and
 * nothing is half-applied. AI providers' credential headers are sealed under the master key in the store, and
 * opened when the config is read.
 */
export class ProxyConfigService {
  constructor(
    private readonly store: Store,
    private readonly masterKey: Uint8Array,
    private readonly clock: Clock,
    private readonly onChange: (version: number) => Promise<void>,
  ) {}

  /** The config, credential headers opened; one that does not open is left out and told to `onUnopenable`. */
  read(onUnopenable?: (provider: string, header: string) => void): Promise<ProxyConfig> {
    return readProxyConfig(this.store.db, this.masterKey, onUnopenable);
  }

  /**
   * Seals the AI providers' credential headers that releases before sealing stored in clear, changing nothing else
   * (the config is not validated again: a node must start from any config it stored). Resolves to whether there were any.
   */
  async sealCredentialsInClear(actor: string): Promise<boolean> {
    if (!(await aiCredentialsInClear(this.store.db))) return false;
    const { version } = await this.store.change({ actor, action: 'config.seal', target: 'ai' }, this.clock.now(), (tx) => sealAiCredentials(tx, this.masterKey));
    await this.onChange(version);
    return true;
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
    const { version } = await this.#change(actor, 'config.apply', 'config', async (current) => fromFile(config, current));
    return { version, services: config.services?.length ?? 0, routes: config.routes?.length ?? 0 };
  }

  /**
   * `apply` as a dry run: every check it makes, against the config stored now (a `[redacted]` credential header
   * must have a stored value), and nothing written. A file this passes, `apply` takes unless the store changes meanwhile.
   */
  async validate(file: unknown): Promise<void> {
    const config = validateConfig(file);
    await edited(await this.read(), async (current) => fromFile(config, current));
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
      const unopened: Array<[string, string]> = [];
      const next = await edited(await readProxyConfig(tx, this.masterKey, (provider, header) => unopened.push([provider, header])), edit);
      // A sealed value that does not open is left out of what the change reads: every change but a whole new config
      // (apply, which says what it wants) keeps it stored, for the warning to go on until its value is applied again.
      const kept = unopened.length > 0 && action !== 'config.apply' ? await storedHeadersOf(tx, unopened) : undefined;
      await replaceProxyConfig(tx, next, now, this.masterKey, kept);
    });
    await this.onChange(version);
    return { version };
  }
}

/** The config `edit` makes of `current`, validated whole: what a change stores, and what a dry run checks. */
async function edited(current: ProxyConfig, edit: (current: ProxyConfig) => Promise<ProxyConfig>): Promise<ProxyConfig> {
  const next = await edit(current);
  validateConfig({ version: 1, services: next.services, routes: next.routes, issuers: next.issuers, ...(next.ai ? { ai: next.ai } : {}) });
  return next;
}

/** The stored config a validated file replaces `current` with: `[redacted]` credential headers keep their stored values. */
function fromFile(file: ConfigFile, current: ProxyConfig): ProxyConfig {
  const next = { services: file.services ?? [], routes: file.routes ?? [], issuers: file.issuers ?? [], ai: file.ai };
  return next.ai ? { ...next, ai: restoreCredentialHeaders(next.ai, current.ai) } : next;
}

function upsert<T extends { name: string }>(list: T[], item: T): T[] {
  const i = list.findIndex((x) => x.name === item.name);
  return i === -1 ? [...list, item] : list.map((x, j) => (j === i ? item : x));
}
