import type { Dialect } from './store.js';
import { sql, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/** A UTC day: the unit of ai_spend_daily. */
export const DAY_MS = 86_400_000;

/**
 * The one list of migrations, run in order on SQLite and PostgreSQL alike. Times are milliseconds since the
 * epoch in bigint columns; JSON is stored as text so both dialects read it the same way.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  return {
  '0001_foundation': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('meta')
        .addColumn('name', 'varchar(100)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('store_version')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .execute();
      await sql`insert into store_version (id, version) values (1, 1)`.execute(db);
      await db.schema
        .createTable('audit_log')
        .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'varchar(200)', (c) => c.notNull())
        .addColumn('action', 'varchar(100)', (c) => c.notNull())
        .addColumn('target', 'varchar(300)', (c) => c.notNull())
        .addColumn('detail', 'text')
        .execute();
      await db.schema
        .createTable('leases')
        .addColumn('name', 'varchar(100)', (c) => c.primaryKey())
        .addColumn('holder', 'varchar(200)', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('jwk_keys')
        .addColumn('kid', 'varchar(100)', (c) => c.primaryKey())
        .addColumn('kty', 'varchar(10)', (c) => c.notNull())
        .addColumn('alg', 'varchar(30)', (c) => c.notNull())
        .addColumn('use', 'varchar(3)', (c) => c.notNull())
        .addColumn('crv', 'varchar(10)')
        .addColumn('state', 'varchar(10)', (c) => c.notNull())
        .addColumn('public_jwk', 'text')
        .addColumn('sealed_private', 'text')
        .addColumn('origin', 'varchar(10)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('activate_at', 'bigint')
        .addColumn('activated_at', 'bigint')
        .addColumn('retiring_at', 'bigint')
        .addColumn('retire_at', 'bigint')
        .addColumn('retired_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('revoke_reason', 'text')
        .execute();
      // At most one signing (or encrypting) key per algorithm, and one waiting to take over: enforced by the
      // store itself, so two nodes racing to rotate cannot both win.
      await sql`create unique index jwk_keys_one_active on jwk_keys (use, alg) where state = 'active'`.execute(db);
      await sql`create unique index jwk_keys_one_next on jwk_keys (use, alg) where state = 'next'`.execute(db);
      await db.schema.createIndex('jwk_keys_state').on('jwk_keys').column('state').execute();
    },
  },
  '0002_services_routes': {
    async up(db: Kysely<unknown>) {
      // The spec is the validated JSON of the config file's entry, so the file and the store say the same thing.
      await db.schema
        .createTable('services')
        .addColumn('name', 'varchar(63)', (c) => c.primaryKey())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('routes')
        .addColumn('name', 'varchar(63)', (c) => c.primaryKey())
        .addColumn('service', 'varchar(63)', (c) => c.notNull().references('services.name'))
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0003_apps_credentials_subscriptions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('teams')
        .addColumn('name', 'varchar(63)', (c) => c.primaryKey())
        .addColumn('description', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('apps')
        .addColumn('name', 'varchar(63)', (c) => c.primaryKey())
        .addColumn('team', 'varchar(63)', (c) => c.notNull().references('teams.name'))
        .addColumn('description', 'text')
        // JSON: scopes the app may be granted, its JWKS or jwks_uri (private_key_jwt), its encryption JWK.
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('credentials')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('app', 'varchar(63)', (c) => c.notNull().references('apps.name'))
        .addColumn('kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('prefix', 'varchar(40)', (c) => c.notNull())
        // SHA-256 of the secret: the secret itself is shown once at creation and never stored.
        .addColumn('hash', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('label', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('subscriptions')
        .addColumn('app', 'varchar(63)', (c) => c.notNull().references('apps.name'))
        .addColumn('service', 'varchar(63)', (c) => c.notNull())
        .addColumn('state', 'varchar(10)', (c) => c.notNull())
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .addColumn('decided_at', 'bigint')
        .addColumn('decided_by', 'varchar(200)')
        .addPrimaryKeyConstraint('subscriptions_pk', ['app', 'service'])
        .execute();
      // Sections of the config file that are one JSON document each (issuers, and more to come).
      await db.schema
        .createTable('config_sections')
        .addColumn('name', 'varchar(63)', (c) => c.primaryKey())
        .addColumn('spec', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('revoked_tokens')
        .addColumn('jti', 'varchar(100)', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0004_routes_without_service_column': {
    // A route is proxied to a service or served by the AI gateway: its spec says which, so the column (and its
    // foreign key) goes. Rebuilt rather than altered, because SQLite cannot drop a referencing column.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('routes_next')
        .addColumn('name', 'varchar(63)', (c) => c.primaryKey())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await sql`insert into routes_next (name, spec, position, updated_at) select name, spec, position, updated_at from routes`.execute(db);
      await db.schema.dropTable('routes').execute();
      await db.schema.alterTable('routes_next').renameTo('routes').execute();
    },
  },
  '0005_ai_keys_usage': {
    async up(db: Kysely<unknown>) {
      // Provider API keys, sealed under the master key like private JWKs; only the last four characters show.
      await db.schema
        .createTable('provider_keys')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('provider', 'varchar(63)', (c) => c.notNull())
        .addColumn('label', 'text')
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('last4', 'varchar(8)', (c) => c.notNull())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('ai_usage')
        .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('request_id', 'varchar(100)', (c) => c.notNull())
        .addColumn('app', 'varchar(63)')
        .addColumn('team', 'varchar(63)')
        .addColumn('route', 'varchar(63)', (c) => c.notNull())
        .addColumn('provider', 'varchar(63)')
        .addColumn('model', 'varchar(200)', (c) => c.notNull())
        .addColumn('input_tokens', 'integer', (c) => c.notNull())
        .addColumn('output_tokens', 'integer', (c) => c.notNull())
        .addColumn('cached_tokens', 'integer', (c) => c.notNull())
        .addColumn('estimated', 'integer', (c) => c.notNull())
        .addColumn('cost_usd', 'double precision', (c) => c.notNull())
        .addColumn('latency_ms', 'integer', (c) => c.notNull())
        .addColumn('ttft_ms', 'integer')
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('cache_hit', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ai_usage_at').on('ai_usage').column('at').execute();
      await db.schema.createIndex('ai_usage_app_at').on('ai_usage').columns(['app', 'at']).execute();
      await db.schema.alterTable('teams').addColumn('budget', 'text').execute();
    },
  },
  '0006_replay_guard': {
    async up(db: Kysely<unknown>) {
      // One-time values (DPoP proof and client assertion jtis), shared by every worker and node, kept until the
      // moment their proof or assertion could no longer be accepted anyway. The key is a SHA-256 in hex.
      await db.schema
        .createTable('replay_guard')
        .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('replay_guard_expires_at').on('replay_guard').column('expires_at').execute();
    },
  },
  '0007_ai_spend_daily': {
    async up(db: Kysely<unknown>) {
      // Spend per app and team per UTC day (AiSpendDailyTable), from the usage rows already stored. On PostgreSQL
      // other nodes wait to append until this commits: a row written between the sums below and the trigger would
      // be in neither. (Kysely runs PostgreSQL's migrations in a transaction.)
      if (dialect === 'postgres') await sql`LOCK TABLE ai_usage IN SHARE ROW EXCLUSIVE MODE`.execute(db);
      await db.schema
        .createTable('ai_spend_daily')
        .addColumn('scope', 'varchar(8)', (c) => c.notNull())
        .addColumn('name', 'varchar(63)', (c) => c.notNull())
        .addColumn('day', 'bigint', (c) => c.notNull())
        .addColumn('cost_usd', 'double precision', (c) => c.notNull())
        .addPrimaryKeyConstraint('ai_spend_daily_pk', ['scope', 'name', 'day'])
        .execute();
      for (const scope of ['app', 'team'] as const) {
        await sql`INSERT INTO ai_spend_daily (scope, name, day, cost_usd)
          SELECT ${sql.lit(scope)}, ${sql.ref(scope)}, at - at % ${sql.lit(DAY_MS)}, sum(cost_usd) FROM ai_usage
          WHERE ${sql.ref(scope)} IS NOT NULL AND cost_usd > 0 GROUP BY ${sql.ref(scope)}, at - at % ${sql.lit(DAY_MS)}`.execute(db);
      }
      if (dialect !== 'postgres') return;
      // On PostgreSQL, where several nodes share the store and an upgrade may go one node at a time, a trigger keeps
      // the sums, so that rows any writer inserts are counted: one statement per insert statement, in a fixed order
      // of keys (two writers never wait on each other's rows crosswise). SQLite's one writer adds them itself.
      await sql`CREATE FUNCTION keygate_add_daily_spend() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO ai_spend_daily (scope, name, day, cost_usd)
          SELECT scope, name, day, sum(cost_usd) FROM (
            SELECT 'app' AS scope, app AS name, at - at % ${sql.lit(DAY_MS)} AS day, cost_usd FROM appended WHERE app IS NOT NULL AND cost_usd > 0
            UNION ALL
            SELECT 'team', team, at - at % ${sql.lit(DAY_MS)}, cost_usd FROM appended WHERE team IS NOT NULL AND cost_usd > 0
          ) AS spend GROUP BY scope, name, day ORDER BY scope, name, day
          ON CONFLICT (scope, name, day) DO UPDATE SET cost_usd = ai_spend_daily.cost_usd + excluded.cost_usd;
          RETURN NULL;
        END $$`.execute(db);
      await sql`CREATE TRIGGER ai_usage_daily_spend AFTER INSERT ON ai_usage REFERENCING NEW TABLE AS appended
        FOR EACH STATEMENT EXECUTE FUNCTION keygate_add_daily_spend()`.execute(db);
    },
  },
  '0008_ai_responses': {
    async up(db: Kysely<unknown>) {
      // Responses kept for OpenAI's Responses API (`store`, `previous_response_id`, GET and DELETE /v1/responses/{id}).
      // `owner` is whose they are (an app, a caller that is no app, or an open route): only the same may read, continue or delete
      // one. `sealed` holds the Response and its own request's input items, sealed under the master key bound to the
      // id and owner: conversations are user data. `previous_id` links a Response to the one it continued: a chain is
      // walked from its newest row by primary key, so it needs no index of its own. Rows past `expires_at` are never
      // read, and are swept.
      await db.schema
        .createTable('ai_responses')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('app', 'varchar(63)')
        .addColumn('team', 'varchar(63)')
        .addColumn('route', 'varchar(63)', (c) => c.notNull())
        .addColumn('previous_id', 'varchar(64)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ai_responses_expires_at').on('ai_responses').column('expires_at').execute();
    },
  },
  '0009_ai_usage_record_key': {
    async up(db: Kysely<unknown>) {
      // Each usage record's own key (AiUsageTable.record_key), unique: a batch written again after the answer to its
      // commit was lost adds none of its rows twice. Rows of earlier releases have none (nulls do not collide).
      await db.schema.alterTable('ai_usage').addColumn('record_key', 'varchar(64)').execute();
      await db.schema.createIndex('ai_usage_record_key').unique().on('ai_usage').column('record_key').execute();
    },
  },
  '0010_ai_usage_credential': {
    async up(db: Kysely<unknown>) {
      // The API key a call was made with (its credential id), for usage per key: which of an app's keys spends.
      // Rows of earlier releases, and calls made otherwise (a token, no auth), have none.
      await db.schema.alterTable('ai_usage').addColumn('credential', 'varchar(64)').execute();
    },
  },
  '0011_ai_responses_retention': {
    async up(db: Kysely<unknown>) {
      // The retention each stored Response is kept for from its last keeping (its save, or its chain continued), so
      // that a retention changed in the config applies to the rows already stored (StoredResponses.purge): a row's
      // expiry is moved by the difference. Indexed, so the sweep finds the rows kept for another retention (none,
      // but after a change) without reading the table. Rows of earlier releases have none: the sweep gives them one.
      await db.schema.alterTable('ai_responses').addColumn('retention_ms', 'bigint').execute();
      await db.schema.createIndex('ai_responses_retention_ms').on('ai_responses').column('retention_ms').execute();
    },
  },
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
