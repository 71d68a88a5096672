import type { Generated } from 'kysely';

/** Key service: one row per JWK, its private part sealed under the master key. Owned by src/keys. */
export interface JwkKeysTable {
  kid: string;
  kty: string;
  alg: string;
  use: string;
  crv: string | null;
  /** next | active | retiring | retired | revoked | trusted */
  state: string;
  /** Public members only (null for oct keys, which are never published). */
  public_jwk: string | null;
  /** The private JWK sealed as a JWE bound to this row; null for public keys imported to be trusted. */
  sealed_private: string | null;
  origin: string;
  created_at: number;
  activate_at: number | null;
  activated_at: number | null;
  retiring_at: number | null;
  retire_at: number | null;
  retired_at: number | null;
  revoked_at: number | null;
  revoke_reason: string | null;
}

/** Small named values: the master-key check, the admin token hash. */
export interface MetaTable {
  name: string;
  value: string;
}

/** A monotonically increasing number, bumped by every committed change; the snapshot version. */
export interface StoreVersionTable {
  id: number;
  version: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: string | null;
}

/** Leader locks for background jobs: one holder at a time across all nodes sharing a store. */
export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: number;
}

/** Services and routes of the data plane, each the JSON of its config-file entry. Owned by src/proxy. */
export interface ServicesTable {
  name: string;
  spec: string;
  /** Declaration order, which decides precedence between otherwise equal routes. */
  position: number;
  updated_at: number;
}

export interface RoutesTable {
  name: string;
  spec: string;
  position: number;
  updated_at: number;
}

/** Teams, apps, their credentials and subscriptions, and revoked tokens. Owned by src/catalog and src/auth. */
export interface TeamsTable {
  name: string;
  description: string | null;
  /** JSON: the team's AI budget. */
  budget: string | null;
  created_at: number;
}

export interface AppsTable {
  name: string;
  team: string;
  description: string | null;
  spec: string;
  created_at: number;
}

export interface CredentialsTable {
  id: string;
  app: string;
  /** api_key | client_secret */
  kind: string;
  prefix: string;
  hash: string;
  label: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface SubscriptionsTable {
  app: string;
  service: string;
  /** pending | approved | rejected | revoked */
  state: string;
  requested_at: number;
  decided_at: number | null;
  decided_by: string | null;
}

export interface RevokedTokensTable {
  jti: string;
  expires_at: number;
}

export interface ConfigSectionsTable {
  name: string;
  spec: string;
}

/** Provider API keys (sealed) and the record of every AI call. Owned by src/ai. */
export interface ProviderKeysTable {
  id: string;
  provider: string;
  label: string | null;
  priority: number;
  last4: string;
  sealed: string;
  created_at: number;
}

export interface AiUsageTable {
  id: Generated<number>;
  at: number;
  request_id: string;
  app: string | null;
  team: string | null;
  route: string;
  provider: string | null;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  estimated: number;
  cost_usd: number;
  latency_ms: number;
  ttft_ms: number | null;
  status: number;
  cache_hit: number;
  /**
   * The record's own key, unique (the recorder gives each one: its process's random prefix and a counter): a batch
   * written again after its commit's answer was lost adds no row twice (PostgreSQL: ON CONFLICT DO NOTHING). Null
   * for rows of releases before it.
   */
  record_key: string | null;
  /** The id of the API key the call was made with; null for other credentials, no auth, and rows before it. */
  credential: string | null;
}

/**
 * Spend per app and per team per UTC day, kept with the usage rows (each append adds its rows' costs in the same
 * transaction): a budget's first read of a period sums at most 31 of these, not a month of usage rows.
 */
export interface AiSpendDailyTable {
  scope: 'app' | 'team';
  name: string;
  /** The UTC day's first millisecond. */
  day: number;
  cost_usd: number;
}

export interface ReplayGuardTable {
  /** SHA-256 (hex) of what may be used once. */
  key: string;
  expires_at: number;
}

/**
 * Responses kept for OpenAI's Responses API, one row per stored Response: its Response object and its own request's
 * input items (not the earlier responses'), sealed as one JWE under the master key, linked to the Response it
 * continued by `previous_id`. Owned by src/ai.
 */
export interface AiResponsesTable {
  /** The Response's id, `resp_…`. */
  id: string;
  /** Whose it is: only the same caller (cacheSpace in the AI handler) reads, continues or deletes it. */
  owner: string;
  app: string | null;
  team: string | null;
  route: string;
  /** The Response this one continued (`previous_response_id`); null for the first of a chain. */
  previous_id: string | null;
  created_at: number;
  expires_at: number;
  /**
   * The retention `expires_at` counts from the row's last keeping (its save, or its chain continued): a changed
   * retention moves `expires_at` by the difference. Null for rows of releases before it, until the sweep sets it.
   */
  retention_ms: number | null;
  sealed: string;
}

export interface Database {
  ai_responses: AiResponsesTable;
  provider_keys: ProviderKeysTable;
  ai_usage: AiUsageTable;
  ai_spend_daily: AiSpendDailyTable;
  config_sections: ConfigSectionsTable;
  teams: TeamsTable;
  apps: AppsTable;
  credentials: CredentialsTable;
  subscriptions: SubscriptionsTable;
  revoked_tokens: RevokedTokensTable;
  services: ServicesTable;
  routes: RoutesTable;
  jwk_keys: JwkKeysTable;
  meta: MetaTable;
  store_version: StoreVersionTable;
  audit_log: AuditLogTable;
  leases: LeasesTable;
  replay_guard: ReplayGuardTable;
}
