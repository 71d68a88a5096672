import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppSchema, SUBSCRIPTION_STATES, TeamSchema, type CatalogService } from '../catalog/index.js';
import { KeygateError } from '../errors.js';
import { NoQuery, StringEnum } from './schemas.js';

export interface CatalogRoutesContext {
  catalog: CatalogService;
}

const errorRef = Type.Ref('Error');
const errors = { 400: errorRef, 401: errorRef, 404: errorRef, 409: errorRef };
const NameParams = Type.Object({ name: Type.String({ maxLength: 63 }) });
const CredentialBody = Type.Object(
  {
    label: Type.Optional(Type.String({ maxLength: 200 })),
    expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'when the credential stops working' })),
  },
  { additionalProperties: false },
);

function sameName(param: string, body: { name: string }): void {
  if (param !== body.name) throw new KeygateError('invalid_request', `the name in the path ("${param}") and in the body ("${body.name}") differ`);
}

function expiry(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new KeygateError('invalid_request', '"expiresAt" must be an RFC 3339 date-time');
  return ms;
}

/** Teams, apps, their credentials (shown once), and subscriptions with their approval. */
export function registerCatalogRoutes(server: FastifyInstance, ctx: CatalogRoutesContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  // POSTs whose body is optional may come with none at all.
  server.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && (request.body === undefined || request.body === null) && /\/(api-keys|client-secrets|revoke)$/.test(request.url.split('?', 1)[0] ?? '')) request.body = {};
  });
  const actor = (request: { ip: string }) => `admin@${request.ip}`;

  app.get('/teams', { schema: { tags: ['teams'], summary: 'List teams', querystring: NoQuery } }, async () => ({ teams: await ctx.catalog.listTeams() }));
  app.put('/teams/:name', { schema: { tags: ['teams'], summary: 'Create or update a team', params: NameParams, body: TeamSchema, response: errors } }, async (request) => {
    sameName(request.params.name, request.body);
    return ctx.catalog.putTeam(request.body, actor(request));
  });
  app.delete('/teams/:name', { schema: { tags: ['teams'], summary: 'Delete a team that has no apps', params: NameParams, response: { 204: Type.Null(), ...errors } } }, async (request, reply) => {
    await ctx.catalog.deleteTeam(request.params.name, actor(request));
    return reply.status(204).send(null);
  });

  app.get('/apps', { schema: { tags: ['apps'], summary: 'List apps', querystring: NoQuery } }, async () => ({ apps: await ctx.catalog.listApps() }));
  app.get('/apps/:name', { schema: { tags: ['apps'], summary: 'One app', params: NameParams, querystring: NoQuery } }, async (request) => ctx.catalog.getApp(request.params.name));
  app.put('/apps/:name', { schema: { tags: ['apps'], summary: 'Create or update an app (a consumer of APIs)', params: NameParams, body: AppSchema, response: errors } }, async (request) => {
    sameName(request.params.name, request.body);
    return ctx.catalog.putApp(request.body, actor(request));
  });
  app.delete('/apps/:name', { schema: { tags: ['apps'], summary: 'Delete an app with its credentials, subscriptions and stored Responses', params: NameParams, response: { 204: Type.Null(), ...errors } } }, async (request, reply) => {
    await ctx.catalog.deleteApp(request.params.name, actor(request));
    return reply.status(204).send(null);
  });

  for (const [path, kind] of [['api-keys', 'api_key'], ['client-secrets', 'client_secret']] as const) {
    app.post(`/apps/:name/${path}`, {
      schema: { tags: ['apps'], summary: `Create ${kind === 'api_key' ? 'an API key' : 'a client secret'}: the secret is in this response only`, params: NameParams, body: Type.Optional(CredentialBody), response: { 201: Type.Unknown(), ...errors } },
    }, async (request, reply) => {
      const created = await ctx.catalog.createCredential(request.params.name, kind, { label: request.body?.label, expiresAt: expiry(request.body?.expiresAt) }, actor(request));
      return reply.status(201).header('cache-control', 'no-store').send(created);
    });
  }
  app.get('/apps/:name/credentials', { schema: { tags: ['apps'], summary: "An app's credentials, without their secrets", params: NameParams, querystring: NoQuery } }, async (request) => ({ credentials: await ctx.catalog.listCredentials(request.params.name) }));
  app.post('/apps/:name/credentials/:id/revoke', {
    schema: { tags: ['apps'], summary: 'Revoke an API key or client secret', params: Type.Object({ name: Type.String(), id: Type.String() }), response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    await ctx.catalog.revokeCredential(request.params.name, request.params.id, actor(request));
    return reply.status(204).send(null);
  });

  app.post('/apps/:name/subscriptions', {
    schema: { tags: ['subscriptions'], summary: 'Subscribe an app to a service: approved at once if the service is open, pending otherwise', params: NameParams, body: Type.Object({ service: Type.String() }, { additionalProperties: false }), response: { 201: Type.Unknown(), ...errors } },
  }, async (request, reply) => reply.status(201).send(await ctx.catalog.subscribe(request.params.name, request.body.service, actor(request))));
  app.get('/subscriptions', {
    schema: { tags: ['subscriptions'], summary: 'List subscriptions', querystring: Type.Object({ app: Type.Optional(Type.String()), service: Type.Optional(Type.String()), state: Type.Optional(StringEnum(SUBSCRIPTION_STATES)) }, { additionalProperties: false }) },
  }, async (request) => ({ subscriptions: await ctx.catalog.listSubscriptions(request.query) }));
  for (const decision of ['approve', 'reject', 'revoke'] as const) {
    app.post(`/subscriptions/:app/:service/${decision}`, {
      schema: { tags: ['subscriptions'], summary: `${decision[0]!.toUpperCase()}${decision.slice(1)} a subscription`, params: Type.Object({ app: Type.String(), service: Type.String() }), response: errors },
    }, async (request) => ctx.catalog.decide(request.params.app, request.params.service, decision, actor(request)));
  }
}
