import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { PROVIDER_NAME_PATTERN, ProviderNameSchema } from '../ai/ai-schema.js';
import { CatalogModelSchema, type ModelCatalog } from '../ai/catalog/index.js';
import type { ProviderKeyService } from '../ai/provider-keys.js';
import type { ProxyConfigService } from '../proxy/proxy-config-service.js';
import { KeygateError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { Store } from '../store/index.js';
import { registerAiCallRoutes } from './ai-call-routes.js';
import { registerAiUsageRoutes, type AiUsageRoutesContext } from './ai-usage-routes.js';
import { NoQuery, StringEnum } from './schemas.js';

export interface AiRoutesContext extends AiUsageRoutesContext {
  providerKeys: ProviderKeyService;
  store: Store;
  clock: Clock;
  proxyConfig: ProxyConfigService;
  /** The catalog this node prices with: shipped entries with the config's overrides. */
  modelCatalog: () => ModelCatalog;
}

const errorRef = Type.Ref('Error');
const errors = { 400: errorRef, 401: errorRef, 404: errorRef, 409: errorRef };
const PROVIDER_NAME = new RegExp(PROVIDER_NAME_PATTERN);

/** Provider key pools (secrets in, never out), the model catalog, and the usage and spend of AI calls. */
export function registerAiRoutes(server: FastifyInstance, ctx: AiRoutesContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const actor = (request: { ip: string }) => `admin@${request.ip}`;
  const tags = ['ai'];

  app.post('/ai/providers/:name/keys', {
    schema: {
      tags,
      summary: "Add an API key to a provider's pool (sealed at rest; never shown again)",
      params: Type.Object({ name: ProviderNameSchema }),
      body: Type.Object({ secret: Type.String({ minLength: 1, maxLength: 4096 }), label: Type.Optional(Type.String({ maxLength: 200 })), priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'lower is tried first' })) }, { additionalProperties: false }),
      response: { 201: Type.Object({ id: Type.String(), provider: Type.String(), label: Type.Union([Type.String(), Type.Null()]), priority: Type.Integer(), last4: Type.String(), createdAt: Type.String() }), ...errors },
    },
  }, async (request, reply) => reply.status(201).send(await ctx.providerKeys.add(request.params.name, request.body.secret, request.body, actor(request))));

  app.get('/ai/providers/:name/keys', { schema: { tags, summary: "A provider's key pool, without the secrets", params: Type.Object({ name: Type.String() }), querystring: NoQuery } }, async (request) => {
    const { name } = request.params;
    const keys = await ctx.providerKeys.list(name);
    // An empty pool would hide a misspelt name. Keys earlier releases took under such a name are still listed (and
    // DELETE still takes it), so that they can be found and removed.
    if (keys.length === 0 && !PROVIDER_NAME.test(name)) throw new KeygateError('not_found', `no provider can be named "${name}" (lower-case letters, digits, ".", "_" and "-", as in the config's ai.providers), and no keys are stored under it`);
    return { keys };
  });

  app.delete('/ai/providers/:name/keys/:id', {
    schema: { tags, summary: 'Remove a key from the pool', params: Type.Object({ name: Type.String(), id: Type.String() }), response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    await ctx.providerKeys.remove(request.params.name, request.params.id, actor(request));
    return reply.status(204).send(null);
  });

  app.get('/ai/catalog', {
    schema: { tags, summary: 'The model catalog: context windows, output limits, prices per million tokens, capabilities', querystring: Type.Object({ provider: Type.Optional(Type.String()), kind: Type.Optional(StringEnum(['chat', 'embedding'])) }, { additionalProperties: false }) },
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

  registerAiUsageRoutes(server, ctx);
  registerAiCallRoutes(server, ctx);
}
