import type { StoreTx } from '../store/index.js';
import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import type { AiSection } from '../ai/ai-schema.js';
import { holdsCredentialsInClear, openCredentialHeaders, sealCredentialHeaders, type StoredAiSection, type StoredHeaderValue } from '../ai/sealed-headers.js';
import type { IssuerSpec } from '../auth/issuer-schema.js';
import type { RouteSpec } from './route-schema.js';
import type { ServiceSpec } from './service-schema.js';

export interface ProxyConfig {
  services: ServiceSpec[];
  routes: RouteSpec[];
  issuers: IssuerSpec[];
  ai: AiSection | undefined;
}

/**
 * Services and routes in declaration order, and the config's sections, AI providers' credential headers opened with
 * `masterKey` (one that does not open is left out and told to `onUnopenable`).
 */
export async function readProxyConfig(db: Kysely<Database> | StoreTx, masterKey: Uint8Array, onUnopenable: (provider: string, header: string) => void = () => undefined): Promise<ProxyConfig> {
  const services = await db.selectFrom('services').select('spec').orderBy('position').execute();
  const routes = await db.selectFrom('routes').select('spec').orderBy('position').execute();
  const sections = await db.selectFrom('config_sections').select(['name', 'spec']).execute();
  const issuers = sections.find((r) => r.name === 'issuers');
  const ai = sections.find((r) => r.name === 'ai');
  return {
    services: services.map((r) => JSON.parse(r.spec) as ServiceSpec),
    routes: routes.map((r) => JSON.parse(r.spec) as RouteSpec),
    issuers: issuers ? (JSON.parse(issuers.spec) as IssuerSpec[]) : [],
    ai: ai ? await openCredentialHeaders(JSON.parse(ai.spec) as StoredAiSection, masterKey, onUnopenable) : undefined,
  };
}

/**
 * Replaces every service and route with `config`, inside the caller's transaction: all or nothing. AI providers'
 * credential headers are sealed under `masterKey`; `kept` (storedHeadersOf) goes back as it was stored into the
 * providers that still have no such header.
 */
export async function replaceProxyConfig(tx: StoreTx, config: ProxyConfig, now: number, masterKey: Uint8Array, kept?: ReadonlyMap<string, Readonly<Record<string, StoredHeaderValue>>>): Promise<void> {
  const ai = config.ai ? withKeptHeaders(await sealCredentialHeaders(config.ai, masterKey), kept) : undefined;
  await tx.deleteFrom('routes').execute();
  await tx.deleteFrom('services').execute();
  if (config.services.length > 0) {
    await tx
      .insertInto('services')
      .values(config.services.map((spec, position) => ({ name: spec.name, spec: JSON.stringify(spec), position, updated_at: now })))
      .execute();
  }
  await tx.deleteFrom('config_sections').where('name', 'in', ['issuers', 'ai']).execute();
  if (ai) await tx.insertInto('config_sections').values({ name: 'ai', spec: JSON.stringify(ai) }).execute();
  if (config.issuers.length > 0) await tx.insertInto('config_sections').values({ name: 'issuers', spec: JSON.stringify(config.issuers) }).execute();
  if (config.routes.length > 0) {
    await tx
      .insertInto('routes')
      .values(config.routes.map((spec, position) => ({ name: spec.name, spec: JSON.stringify(spec), position, updated_at: now })))
      .execute();
  }
}

/** Whether the stored `ai` section holds a credential header in clear, as releases before sealing stored them. */
export async function aiCredentialsInClear(db: Kysely<Database> | StoreTx): Promise<boolean> {
  const row = await db.selectFrom('config_sections').select('spec').where('name', '=', 'ai').executeTakeFirst();
  return row !== undefined && holdsCredentialsInClear(JSON.parse(row.spec) as StoredAiSection);
}

/** Seals the credential headers the stored `ai` section holds in clear; nothing else in it changes. */
export async function sealAiCredentials(tx: StoreTx, masterKey: Uint8Array): Promise<void> {
  const row = await tx.selectFrom('config_sections').select('spec').where('name', '=', 'ai').executeTakeFirst();
  if (!row) return;
  const sealed = await sealCredentialHeaders(JSON.parse(row.spec) as StoredAiSection, masterKey);
  await tx.updateTable('config_sections').set({ spec: JSON.stringify(sealed) }).where('name', '=', 'ai').execute();
}

/**
 * The sealed values stored for these providers' headers (the ones that did not open: a change the config is read
 * for would drop them, and with them the warning that says to apply their values again).
 */
export async function storedHeadersOf(tx: StoreTx, which: ReadonlyArray<readonly [provider: string, header: string]>): Promise<Map<string, Record<string, StoredHeaderValue>>> {
  const kept = new Map<string, Record<string, StoredHeaderValue>>();
  const row = await tx.selectFrom('config_sections').select('spec').where('name', '=', 'ai').executeTakeFirst();
  if (!row) return kept;
  const stored = JSON.parse(row.spec) as StoredAiSection;
  for (const [provider, header] of which) {
    const value = stored.providers.find((p) => p.name === provider)?.headers?.[header];
    if (value !== undefined) kept.set(provider, { ...kept.get(provider), [header]: value });
  }
  return kept;
}

/** `ai` with the `kept` stored header values of the providers it still has, where it has no value of its own. */
function withKeptHeaders(ai: StoredAiSection, kept: ReadonlyMap<string, Readonly<Record<string, StoredHeaderValue>>> | undefined): StoredAiSection {
  if (!kept || kept.size === 0) return ai;
  return {
    ...ai,
    providers: ai.providers.map((provider) => {
      const values = kept.get(provider.name);
      if (!values) return provider;
      const missing = Object.entries(values).filter(([header]) => provider.headers?.[header] === undefined);
      return missing.length === 0 ? provider : { ...provider, headers: { ...provider.headers, ...Object.fromEntries(missing) } };
    }),
  };
}
