import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { KeygateError } from '../errors.js';
import type { AdminToken } from './admin-token.js';
import { ErrorSchema, KeyInfoSchema, PublicJwkSchema } from './schemas.js';
import { registerAiRoutes, type AiRoutesContext } from './ai-routes.js';
import { registerAuditRoutes } from './audit-routes.js';
import { registerCatalogRoutes, type CatalogRoutesContext } from './catalog-routes.js';
import { registerConfigRoutes, type ConfigRoutesContext } from './config-routes.js';
import { registerKeyRoutes, type KeyRoutesContext } from './key-routes.js';

export interface AdminServerOptions extends KeyRoutesContext, ConfigRoutesContext, CatalogRoutesContext, AiRoutesContext {
  logger: Logger;
  token: AdminToken;
  version: string;
  status: () => Record<string, unknown>;
  /** PEM certificate and key (and SNI callback) when the admin port serves HTTPS. */
  https?: { cert: Buffer; key: Buffer };
  /** True once shutdown began: responses then close their connection so the port can drain. */
  closing: () => boolean;
}

const PUBLIC_PATHS = new Set(['/status', '/openapi.json']);

/**
 * The longest path segment routed. A catalog model id is a segment of up to 200 code points; the router measures a
 * segment decoded, in UTF-16 units (400 at most), so Fastify's 100 cut ids short. 2,400 covers even such an id
 * measured percent-encoded (12 characters a code point), should the router ever count it that way.
 */
const MAX_PARAM_LENGTH = 2400;

/**
 * The admin API: Fastify, every route validated by and documented from the same TypeBox schemas, every route
 * but /status and /openapi.json behind the admin bearer token.
 */
export async function createAdminServer(options: AdminServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    loggerInstance: options.logger.child({ plane: 'admin' }) as unknown as FastifyBaseLogger,
    // One concise line per request (onResponse below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // What the router refuses before any route runs does not reach the error handler: answered in the one shape.
    frameworkErrors: (error, _request, reply) => refuseUnroutable(error, reply as FastifyReply),
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Keygate admin API', version: options.version, description: 'Keys, and (in later releases) services, routes, apps and AI providers.' },
      components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'KEYGATE_ADMIN_TOKEN, or the token in <data-dir>/admin-token' } } },
      security: [{ adminToken: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.addSchema(ErrorSchema);
  app.addSchema(PublicJwkSchema);
  app.addSchema(KeyInfoSchema);

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '';
    if (PUBLIC_PATHS.has(path)) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    if (!match?.[1] || !options.token.matches(match[1].trim())) {
      reply.header('www-authenticate', 'Bearer realm="keygate-admin"');
      throw new KeygateError('unauthorized', 'send the admin token as "Authorization: Bearer <token>" (KEYGATE_ADMIN_TOKEN, or the file named in the start log)');
    }
  });

  // PostgreSQL refuses text holding a NUL character (SQLSTATE 22021): one in a path, a query or a body would end as
  // a 500 deep in a store call, and on SQLite as a name no one can type. Refused first, for every route.
  app.addHook('preValidation', async (request) => {
    for (const [where, value] of [['path', request.params], ['query', request.query], ['body', request.body]] as const) {
      if (holdsNul(value)) throw new KeygateError('invalid_request', `the request's ${where} holds a NUL character (\\u0000), which no name, id or text may hold`);
    }
  });

  app.addHook('onSend', async (_request, reply) => {
    if (options.closing()) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, url: request.url.split('?', 1)[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'admin request');
  });

  app.setErrorHandler((error: FastifyError | KeygateError, request, reply) => {
    if (error instanceof KeygateError) return reply.status(error.status).send(error.toJSON());
    if ((error as FastifyError).validation) {
      const validation = (error as FastifyError).validation ?? [];
      const first = validation[0];
      const where = `${(error as FastifyError).validationContext ?? 'request'}${first?.instancePath ?? ''}`;
      // A union of literals (a service's balancing) fails one "must be equal to constant" per literal: their values are the list.
      const literals = first?.keyword === 'const' ? validation.filter((e) => e.keyword === 'const' && e.instancePath === first.instancePath).map((e) => e.params.allowedValue) : [];
      const detail =
        first?.keyword === 'additionalProperties'
          ? `has an unknown member "${String(first.params.additionalProperty)}"`
          : first?.keyword === 'enum'
            ? `must be one of ${(first.params.allowedValues as unknown[]).join(', ')}`
            : literals.length > 1
              ? `must be one of ${literals.join(', ')}`
              : (first?.message ?? 'is invalid');
      return reply.status(400).send({ error: { code: 'invalid_request', message: `${where} ${detail}` } });
    }
    const status = (error as FastifyError).statusCode ?? 500;
    if (status < 500) {
      const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'invalid_request';
      return reply.status(status).send({ error: { code, message: error.message } });
    }
    request.log.error({ err: { type: error.name, message: error.message } }, 'admin request failed');
    return reply.status(500).send({ error: { code: 'internal_error', message: 'the request failed inside Keygate; the admin log has the details' } });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: { code: 'not_found', message: `no admin route matches ${request.method} ${request.url.split('?', 1)[0]}` } });
  });

  app.get('/status', { schema: { tags: ['system'], summary: 'Liveness and the snapshot version this node serves', security: [] } }, async () => options.status());
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerKeyRoutes(app, options);
  registerConfigRoutes(app, options);
  registerCatalogRoutes(app, options);
  registerAiRoutes(app, options);
  registerAuditRoutes(app, options);
  await app.ready();
  return app;
}

/** The router's refusals in the one error shape: a path segment over maxParamLength, or a malformed percent-encoding. */
function refuseUnroutable(error: FastifyError, reply: FastifyReply): FastifyReply {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return reply.status(414).send(new KeygateError('uri_too_long', `a path segment is longer than any name or id can be (${MAX_PARAM_LENGTH} characters); check the path`).toJSON());
  }
  return reply.status(400).send(new KeygateError('invalid_request', 'the path is not a valid URL path: encode each segment with encodeURIComponent').toJSON());
}

/** Whether a request's parsed path, query or body holds a NUL character in any text of it (its keys included). */
function holdsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (typeof value !== 'object' || value === null || depth > 32) return false;
  if (Array.isArray(value)) return value.some((item) => holdsNul(item, depth + 1));
  return Object.entries(value).some(([key, item]) => key.includes('\u0000') || holdsNul(item, depth + 1));
}
