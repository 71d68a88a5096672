import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { CatalogModelSchema, type ModelCatalog } from '../ai/catalog/index.js';
import type { ProviderKeyService } from '../ai/provider-keys.js';
import type { ProxyConfigService } from '../proxy/proxy-config-service.js';
import { KeygateError } from '../errors.js';
import type { Store } from '../store/index.js';

export interface AiRoutesContext {
  providerKeys: ProviderKeyService;
  store: Store;
  proxyConfig: ProxyConfigService;
  /** The catalog this node prices with: shipped entries with the config's overrides. */
  modelCatalog: () => ModelCatalog;
}

const errorRef = Type.Ref('Error');
const errors = { 400: errorRef, 401: errorRef, 404: errorRef, 409: errorRef };
const GROUPS = ['app', 'team', 'model', 'provider', 'route', 'status'] as const;

/** Provider key pools (secrets in, never out) and the usage and spend of AI calls. */
export function registerAiRoutes(server: FastifyInstance, ctx: AiRoutesContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const actor = (request: { ip: string }) => `admin@${request.ip}`;
  const tags = ['ai'];

  app.post('/ai/providers/:name/keys', {
    schema: {
      tags,
      summary: "Add an API key to a provider's pool (sealed at rest; never shown again)",
      params: Type.Object({ name: Type.String({ maxLength: 63 }) }),
      body: Type.Object({ secret: Type.String({ minLength: 1, maxLength: 4096 }), label: Type.Optional(Type.String({ maxLength: 200 })), priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'lower is tried first' })) }, { additionalProperties: false }),
      response: { 201: Type.Object({ id: Type.String(), provider: Type.String(), label: Type.Union([Type.String(), Type.Null()]), priority: Type.Integer(), last4: Type.String(), createdAt: Type.String() }), ...errors },
    },
  }, async (request, reply) => reply.status(201).send(await ctx.providerKeys.add(request.params.name, request.body.secret, request.body, actor(request))));

  app.get('/ai/providers/:name/keys', { schema: { tags, summary: "A provider's key pool, without the secrets", params: Type.Object({ name: Type.String() }) } }, async (request) => ({ keys: await ctx.providerKeys.list(request.params.name) }));

  app.delete('/ai/providers/:name/keys/:id', {
    schema: { tags, summary: 'Remove a key from the pool', params: Type.Object({ name: Type.String(), id: Type.String() }), response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    await ctx.providerKeys.remove(request.params.name, request.params.id, actor(request));
    return reply.status(204).send(null);
  });

  app.get('/ai/catalog', {
    schema: { tags, summary: 'The model catalog: context windows, output limits, prices per million tokens, capabilities', querystring: Type.Object({ provider: Type.Optional(Type.String()), kind: Type.Optional(Type.Union([Type.Literal('chat'), Type.Literal('embedding')])) }, { additionalProperties: false }) },
  }, async (request) => ({ models: ctx.modelCatalog().list({ provider: request.query.provider, kind: request.query.kind, includeDeprecated: true }) }));

  app.put('/ai/catalog/:provider/:id', {
    schema: { tags, summary: "Add or replace a catalog entry (kept in the config's ai.models)", params: Type.Object({ provider: Type.String(), id: Type.String() }), body: CatalogModelSchema, response: { 200: CatalogModelSchema, ...errors } },
  }, async (request) => {
    if (request.params.provider !== request.body.provider || request.params.id !== request.body.id) {
      throw new KeygateError('invalid_request', 'the provider and id in the path and in the body differ');
    }
    return ctx.proxyConfig.putCatalogModel(request.body, actor(request));
  });

  app.delete('/ai/catalog/:provider/:id', {
    schema: { tags, summary: 'Remove a catalog entry added through the config (a replaced shipped entry comes back)', params: Type.Object({ provider: Type.String(), id: Type.String() }), response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    await ctx.proxyConfig.deleteCatalogModel(request.params.provider, request.params.id, actor(request));
    return reply.status(204).send(null);
  });

  app.get('/ai/usage', {
    schema: {
      tags,
      summary: 'Usage and spend of AI calls, grouped by app, team, model, provider, route or status over a period; failed calls count, with no tokens and no cost but for the parts of an embeddings request a provider answered before one failed',
      querystring: Type.Object(
        {
          groupBy: Type.Optional(Type.Union(GROUPS.map((g) => Type.Literal(g)))),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          app: Type.Optional(Type.String()),
          team: Type.Optional(Type.String()),
          model: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    },
  }, async (request) => {
    const q = request.query;
    const group = q.groupBy ?? 'app';
    let query = ctx.store.db
      .selectFrom('ai_usage')
      .select([
        sql<string | number>`${sql.ref(group)}`.as('key'),
        (eb) => eb.fn.countAll<number>().as('calls'),
        (eb) => eb.fn.sum<number>(eb.case().when('status', '>=', 400).then(1).else(0).end()).as('failedCalls'),
        (eb) => eb.fn.sum<number>('input_tokens').as('inputTokens'),
        (eb) => eb.fn.sum<number>('output_tokens').as('outputTokens'),
        (eb) => eb.fn.sum<number>('cached_tokens').as('cachedTokens'),
        (eb) => eb.fn.sum<number>('cost_usd').as('costUsd'),
        (eb) => eb.fn.sum<number>('estimated').as('estimatedCalls'),
        (eb) => eb.fn.sum<number>('cache_hit').as('cacheHits'),
        (eb) => eb.fn.avg<number>('latency_ms').as('avgLatencyMs'),
        (eb) => eb.fn.avg<number>('ttft_ms').as('avgTtftMs'),
      ])
      .groupBy(group);
    if (q.from) query = query.where('at', '>=', instantOf(q.from, 'from'));
    if (q.to) query = query.where('at', '<', instantOf(q.to, 'to'));
    // An empty filter asks for the records without one (a route without auth has no app), not for every record.
    for (const name of ['app', 'team', 'model'] as const) {
      const value = q[name];
      if (value !== undefined) query = value === '' ? query.where(name, 'is', null) : query.where(name, '=', value);
    }
    const rows = await query.execute();
    return {
      groupBy: group,
      rows: rows.map((r) => ({
        [group]: r.key,
        calls: Number(r.calls),
        failedCalls: Number(r.failedCalls ?? 0),
        inputTokens: Number(r.inputTokens ?? 0),
        outputTokens: Number(r.outputTokens ?? 0),
        cachedTokens: Number(r.cachedTokens ?? 0),
        costUsd: Math.round(Number(r.costUsd ?? 0) * 1e9) / 1e9,
        estimatedCalls: Number(r.estimatedCalls ?? 0),
        cacheHits: Number(r.cacheHits ?? 0),
        avgLatencyMs: r.avgLatencyMs === null ? null : Math.round(Number(r.avgLatencyMs)),
        avgTtftMs: r.avgTtftMs === null ? null : Math.round(Number(r.avgTtftMs)),
      })),
    };
  });
}

/**
 * A query's date-time as milliseconds. The schema's `date-time` format lets through forms Date.parse reads as nothing
 * (an offset without minutes, `+05`; a leap second, `23:59:60Z`): those are refused, not compared as NaN (no rows on
 * SQLite, a 500 on PostgreSQL).
 */
function instantOf(text: string, name: string): number {
  const at = Date.parse(text);
  if (!Number.isFinite(at)) throw new KeygateError('invalid_request', `querystring/${name} "${text}" is not a date-time Keygate can read; write it as 2026-11-01T00:00:00Z or with a full offset (+05:00)`);
  return at;
}
