import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';
import type { AppSpec, TeamSpec } from './catalog-schema.js';

export interface CredentialEntry {
  id: string;
  app: string;
  expiresAt: number | null;
}

/** An app as the data plane reads it: its spec, its team, and when it was made (ms), which tells it from an earlier app of its name. */
export type AppEntry = AppSpec & { team: string; createdAt: number };

/** Who may call, as the data plane reads it: Map look-ups only. */
export interface CatalogSnapshot {
  readonly apps: ReadonlyMap<string, AppEntry>;
  readonly teams: ReadonlyMap<string, TeamSpec>;
  /** SHA-256 (hex) of an API key → the key's entry. */
  readonly apiKeys: ReadonlyMap<string, CredentialEntry>;
  /** App → SHA-256 (hex) of each live client secret → entry. */
  readonly clientSecrets: ReadonlyMap<string, ReadonlyMap<string, CredentialEntry>>;
  /** `${app}\n${service}` of every approved subscription. */
  readonly subscriptions: ReadonlySet<string>;
  /** jti → expiry (ms) of revoked tokens of ours. */
  readonly revokedTokens: ReadonlyMap<string, number>;
}

export const subscriptionKey = (app: string, service: string): string => `${app}\n${service}`;

export async function compileCatalogSnapshot(db: Kysely<Database>, now: number): Promise<CatalogSnapshot> {
  const [teams, apps, credentials, subscriptions, revoked] = await Promise.all([
    db.selectFrom('teams').select(['name', 'description', 'budget']).execute(),
    db.selectFrom('apps').select(['name', 'team', 'spec', 'created_at']).execute(),
    db.selectFrom('credentials').select(['id', 'app', 'kind', 'hash', 'expires_at']).where('revoked_at', 'is', null).execute(),
    db.selectFrom('subscriptions').select(['app', 'service']).where('state', '=', 'approved').execute(),
    db.selectFrom('revoked_tokens').select(['jti', 'expires_at']).where('expires_at', '>', now).execute(),
  ]);
  const apiKeys = new Map<string, CredentialEntry>();
  const clientSecrets = new Map<string, Map<string, CredentialEntry>>();
  for (const c of credentials) {
    const entry = { id: c.id, app: c.app, expiresAt: c.expires_at === null ? null : Number(c.expires_at) };
    if (c.kind === 'api_key') apiKeys.set(c.hash, entry);
    else {
      let forApp = clientSecrets.get(c.app);
      if (!forApp) clientSecrets.set(c.app, (forApp = new Map()));
      forApp.set(c.hash, entry);
    }
  }
  return {
    apps: new Map(apps.map((a) => [a.name, { ...(JSON.parse(a.spec) as AppSpec), team: a.team, createdAt: Number(a.created_at) }])),
    teams: new Map(teams.map((t) => [t.name, { name: t.name, ...(t.description ? { description: t.description } : {}), ...(t.budget ? { budget: JSON.parse(t.budget) as TeamSpec['budget'] } : {}) }])),
    apiKeys,
    clientSecrets,
    subscriptions: new Set(subscriptions.map((s) => subscriptionKey(s.app, s.service))),
    revokedTokens: new Map(revoked.map((r) => [r.jti, Number(r.expires_at)])),
  };
}
