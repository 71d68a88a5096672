import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ConfigFileSchema, configToYaml, parseConfigText } from '../config/config-file.js';
import { KeygateError } from '../errors.js';
import type { ProxyConfigService } from '../proxy/proxy-config-service.js';
import { RouteSchema } from '../proxy/route-schema.js';
import { ServiceSchema } from '../proxy/service-schema.js';
import { NoQuery, StringEnum } from './schemas.js';

export interface ConfigRoutesContext {
  proxyConfig: ProxyConfigService;
}

const errorRef = Type.Ref('Error');
const errors = { 400: errorRef, 401: errorRef, 404: errorRef, 409: errorRef };
const NameParams = Type.Object({ name: Type.String({ maxLength: 63 }) });
const FormatQuery = Type.Object({ format: Type.Optional(StringEnum(['json', 'yaml'])) }, { additionalProperties: false });

/** The body of PUT /config: a JSON object, or YAML text sent as application/yaml. */
function configBody(body: unknown): unknown {
  return typeof body === 'string' ? parseConfigText(body, 'the request body') : body;
}

function sameName(param: string, body: { name: string }): void {
  if (param !== body.name) throw new KeygateError('invalid_request', `the name in the path ("${param}") and in the body ("${body.name}") differ`);
}

export function registerConfigRoutes(server: FastifyInstance, ctx: ConfigRoutesContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  server.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  const actor = (request: { ip: string }) => `admin@${request.ip}`;
  const tags = ['config'];

  app.get('/config', {
    schema: { tags, summary: 'Export the whole config (services and routes) as JSON or YAML', querystring: FormatQuery },
  }, async (request, reply) => {
    const config = await ctx.proxyConfig.export();
    if (request.query.format === 'yaml') return reply.type('application/yaml').send(configToYaml(config));
    return config;
  });

  app.put('/config', {
    schema: { tags, summary: 'Apply a whole config: it replaces every service and route, or nothing if it does not validate', body: Type.Unknown({ description: 'the config file, as JSON or application/yaml (see GET /config/schema)' }), response: { 200: Type.Object({ version: Type.Integer(), services: Type.Integer(), routes: Type.Integer() }), ...errors } },
  }, async (request) => ctx.proxyConfig.apply(configBody(request.body), actor(request)));

  app.post('/config/validate', {
    schema: { tags, summary: 'Validate a config without applying it: every check PUT /config makes, against the stored config, and nothing written', body: Type.Unknown(), response: { 200: Type.Object({ valid: Type.Literal(true) }), ...errors } },
  }, async (request) => {
    await ctx.proxyConfig.validate(configBody(request.body));
    return { valid: true as const };
  });

  app.get('/config/schema', { schema: { tags, summary: 'The JSON Schema of the config file', querystring: NoQuery } }, async () => ConfigFileSchema);

  app.get('/services', { schema: { tags, summary: 'List services', querystring: NoQuery } }, async () => ({ services: (await ctx.proxyConfig.read()).services }));
  app.get('/services/:name', { schema: { tags, params: NameParams, querystring: NoQuery, summary: 'One service' } }, async (request) => {
    const found = (await ctx.proxyConfig.read()).services.find((s) => s.name === request.params.name);
    if (!found) throw new KeygateError('not_found', `no service is named "${request.params.name}"`);
    return found;
  });
  app.put('/services/:name', { schema: { tags, params: NameParams, body: ServiceSchema, summary: 'Create or replace a service', response: errors } }, async (request) => {
    sameName(request.params.name, request.body);
    return ctx.proxyConfig.putService(request.body, actor(request));
  });
  app.delete('/services/:name', { schema: { tags, params: NameParams, summary: 'Delete a service no route uses', response: { 204: Type.Null(), ...errors } } }, async (request, reply) => {
    await ctx.proxyConfig.deleteService(request.params.name, actor(request));
    return reply.status(204).send(null);
  });

  app.get('/routes', { schema: { tags, summary: 'List routes', querystring: NoQuery } }, async () => ({ routes: (await ctx.proxyConfig.read()).routes }));
  app.get('/routes/:name', { schema: { tags, params: NameParams, querystring: NoQuery, summary: 'One route' } }, async (request) => {
    const found = (await ctx.proxyConfig.read()).routes.find((r) => r.name === request.params.name);
    if (!found) throw new KeygateError('not_found', `no route is named "${request.params.name}"`);
    return found;
  });
  app.put('/routes/:name', { schema: { tags, params: NameParams, body: RouteSchema, summary: 'Create or replace a route', response: errors } }, async (request) => {
    sameName(request.params.name, request.body);
    return ctx.proxyConfig.putRoute(request.body, actor(request));
  });
  app.delete('/routes/:name', { schema: { tags, params: NameParams, summary: 'Delete a route', response: { 204: Type.Null(), ...errors } } }, async (request, reply) => {
    await ctx.proxyConfig.deleteRoute(request.params.name, actor(request));
    return reply.status(204).send(null);
  });
}
