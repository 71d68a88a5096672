import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Kysely } from 'kysely';
import type { Database, Store } from '../store/index.js';
import { rangeOf } from './time-range.js';
import { MAX_PAGE, DEFAULT_PAGE, idOf, pageOf, pageSize } from './page-cursor.js';

export interface AiCallRoutesContext {
  store: Store;
}

/** Columns a record may leave empty (the model and the route it always has). */
const NULLABLE: ReadonlySet<string> = new Set(['app', 'team', 'credential', 'provider']);

/** What GET /ai/calls filters by: its query, as the schema has checked it. */
export interface CallsFilter {
  app?: string;
  team?: string;
  credential?: string;
  route?: string;
  provider?: string;
  model?: string;
  status?: string;
  requestId?: string;
  from?: string;
  to?: string;
  before?: string;
}

/** A page of the call log, the last recorded first: `limit` records and one more, which tells whether a further page exists. */
export function callsQuery(db: Kysely<Database>, q: CallsFilter, limit: number) {
  let query = db.selectFrom('ai_usage').selectAll().orderBy('id', 'desc').limit(limit + 1);
  for (const name of ['app', 'team', 'credential', 'route', 'provider', 'model'] as const) {
    const value = q[name];
    // Empty: the records without one (no app on a route without auth; no provider for a cache hit), as /ai/usage.
    if (value !== undefined) query = value === '' && NULLABLE.has(name) ? query.where(name, 'is', null) : query.where(name, '=', value);
  }
  if (q.status !== undefined) query = query.where('status', '=', Number(q.status));
  if (q.requestId !== undefined) query = query.where('request_id', '=', q.requestId);
  const { from, to } = rangeOf(q);
  if (from !== undefined) query = query.where('at', '>=', from);
  if (to !== undefined) query = query.where('at', '<', to);
  if (q.before !== undefined) query = query.where('id', '<', idOf(q.before));
  return query;
}

/** The log of AI calls, one record each: what a request id, an app's failures or a key's last calls were. */
export function registerAiCallRoutes(server: FastifyInstance, ctx: AiCallRoutesContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/ai/calls', {
    schema: {
      tags: ['ai'],
      summary: 'The AI calls recorded, the last recorded first, one page at a time: each with its request id, app, key, model, tokens, cost, latency and status',
      querystring: Type.Object(
        {
          app: Type.Optional(Type.String()),
          team: Type.Optional(Type.String()),
          credential: Type.Optional(Type.String({ description: "an API key's id" })),
          route: Type.Optional(Type.String()),
          provider: Type.Optional(Type.String()),
          model: Type.Optional(Type.String()),
          // Query strings are text (the admin API coerces nothing): numbers by their pattern.
          status: Type.Optional(Type.String({ pattern: '^[1-5][0-9]{2}$', description: 'an HTTP status, 200 or 429 say' })),
          requestId: Type.Optional(Type.String({ description: "a call's x-request-id" })),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: `calls a page holds, 1 to ${MAX_PAGE} (${DEFAULT_PAGE} by default)` })),
          before: Type.Optional(Type.String({ description: 'the `next` of the page before' })),
        },
        { additionalProperties: false },
      ),
    },
  }, async (request) => {
    const q = request.query;
    const limit = pageSize(q.limit);
    const rows = await callsQuery(ctx.store.db, q, limit).execute();
    const page = pageOf(rows, limit);
    return {
      calls: page.rows.map((r) => ({
        requestId: r.request_id,
        at: new Date(Number(r.at)).toISOString(),
        app: r.app,
        team: r.team,
        credential: r.credential,
        route: r.route,
        provider: r.provider,
        model: r.model,
        status: r.status,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        cachedTokens: r.cached_tokens,
        estimated: r.estimated === 1,
        costUsd: r.cost_usd,
        latencyMs: r.latency_ms,
        ttftMs: r.ttft_ms,
        cacheHit: r.cache_hit === 1,
      })),
      // A further page when this one is full and more matched: ids only grow, so a page is never seen twice; and none
      // is missed, since records become visible in the order of their ids (SQLite has one writer; on PostgreSQL each
      // append holds an advisory lock while it inserts, see store.ts).
      next: page.next,
    };
  });
}
