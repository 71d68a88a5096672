import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { JWK } from 'jose';
import { Type } from 'typebox';
import type { Clock } from '../clock.js';
import {
  CONTENT_ENCRYPTION_ALGORITHMS,
  SIGNING_ALGORITHMS,
  decryptJwe,
  encryptJwe,
  signJwt,
  verifyJwt,
  type KeyService,
  type KeySnapshot,
} from '../keys/index.js';
import {
  CreateKeyBody,
  DecryptBody,
  EncryptBody,
  ExportQuery,
  ImportKeyBody,
  ImportKeySetBody,
  KidParams,
  ListKeysQuery,
  NoQuery,
  RevokeBody,
  RotateBody,
  SignBody,
  VerifyBody,
} from './schemas.js';

export interface KeyRoutesContext {
  keys: KeyService;
  /** The key part of the snapshot this node serves; sign and verify use exactly what the data plane uses. */
  keySnapshot: () => KeySnapshot;
  clock: Clock;
  tokenMaxTtlSeconds: number;
}

/** Key management algorithms the encrypt/decrypt endpoints accept unless the caller narrows them. */
export const DEFAULT_JWE_ALGORITHMS = ['ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A256KW', 'RSA-OAEP-256', 'RSA-OAEP', 'A128KW', 'A256KW', 'dir'];
export const DEFAULT_JWE_ENCRYPTION = ['A256GCM', 'A128GCM', 'A256CBC-HS512', 'A128CBC-HS256'];

const keyRef = Type.Ref('KeyInfo');
const errorRef = Type.Ref('Error');
const errors = { 400: errorRef, 401: errorRef, 404: errorRef, 409: errorRef };

function actorOf(request: { ip: string }): string {
  return `admin@${request.ip}`;
}

export function registerKeyRoutes(server: FastifyInstance, ctx: KeyRoutesContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['keys'];

  app.get('/keys', {
    schema: { tags, summary: 'List keys', querystring: ListKeysQuery, response: { 200: Type.Object({ keys: Type.Array(keyRef) }), ...errors } },
  }, async (request) => ({ keys: await ctx.keys.list(request.query) }));

  app.post('/keys', {
    schema: { tags, summary: 'Generate a key', body: CreateKeyBody, response: { 201: keyRef, ...errors } },
  }, async (request, reply) => {
    const body = request.body;
    reply.status(201);
    return ctx.keys.create(body, actorOf(request));
  });

  app.post('/keys/import', {
    schema: { tags, summary: 'Import a JWK or PEM key', body: ImportKeyBody, response: { 201: keyRef, ...errors } },
  }, async (request, reply) => {
    const body = request.body;
    const key = await ctx.keys.import(body, actorOf(request));
    reply.status(201);
    return key;
  });

  app.post('/keys/import-set', {
    schema: { tags, summary: 'Import the keys of a JWK Set, all or none', body: ImportKeySetBody, response: { 201: Type.Object({ keys: Type.Array(keyRef) }), ...errors } },
  }, async (request, reply) => {
    const { jwks, ...options } = request.body;
    const keys = await ctx.keys.importSet({ keys: jwks.keys, ...options }, actorOf(request));
    reply.status(201);
    return { keys };
  });

  app.post('/keys/rotate', {
    schema: { tags, summary: 'Activate the next key of an algorithm (or a new one) and start retiring the active one', body: RotateBody, response: { 200: Type.Object({ activated: keyRef, retiring: Type.Union([keyRef, Type.Null()]) }), ...errors } },
  }, async (request) => ctx.keys.rotate(request.body.alg, actorOf(request)));

  app.post('/keys/schedule', {
    schema: { tags, summary: 'Run the rotation schedule now (it also runs by itself)', response: { 200: Type.Object({ events: Type.Array(Type.Object({ action: Type.String(), kid: Type.String(), alg: Type.String(), use: Type.String() })) }), ...errors } },
  }, async (request) => ({ events: await ctx.keys.runSchedule(actorOf(request)) }));

  app.get('/keys/:kid', {
    schema: { tags, summary: 'One key', params: KidParams, querystring: NoQuery, response: { 200: keyRef, ...errors } },
  }, async (request) => ctx.keys.get(request.params.kid));

  app.get('/keys/:kid/public', {
    schema: { tags, summary: 'Export the public key as a JWK (default) or an SPKI PEM', params: KidParams, querystring: ExportQuery, response: { 200: Type.Union([Type.Ref('PublicJwk'), Type.String()]), ...errors } },
  }, async (request, reply) => {
    const format = request.query.format ?? 'jwk';
    const exported = await ctx.keys.exportPublic(request.params.kid, format);
    if (format === 'pem') return reply.type('application/x-pem-file').serializer((v: unknown) => String(v)).send(exported);
    return exported;
  });

  app.post('/keys/:kid/revoke', {
    schema: { tags, summary: 'Revoke a key: out of the JWKS and unusable at once', params: KidParams, body: Type.Optional(RevokeBody), response: { 200: keyRef, ...errors } },
  }, async (request) => ctx.keys.revoke(request.params.kid, request.body?.reason, actorOf(request)));

  const jose = ['jose'];
  app.post('/jose/sign', {
    schema: { tags: jose, summary: 'Sign a JWT with the active key', body: SignBody, response: { 200: Type.Object({ token: Type.String() }), ...errors } },
  }, async (request) => {
    const body = request.body;
    const token = await signJwt(ctx.keySnapshot(), body.claims, {
      alg: body.alg,
      algorithms: SIGNING_ALGORITHMS,
      ttlSeconds: body.ttlSeconds,
      maxTtlSeconds: ctx.tokenMaxTtlSeconds,
      typ: body.typ,
      now: ctx.clock.now(),
    });
    return { token };
  });

  app.post('/jose/verify', {
    schema: { tags: jose, summary: 'Verify a JWT against the live keys', body: VerifyBody, response: { 200: Type.Object({ kid: Type.String(), header: Type.Record(Type.String(), Type.Unknown()), payload: Type.Record(Type.String(), Type.Unknown()) }), ...errors } },
  }, async (request) => {
    const body = request.body;
    const { kid, header, payload } = await verifyJwt(ctx.keySnapshot(), body.token, { ...body, now: ctx.clock.now() });
    return { kid, header, payload };
  });

  app.post('/jose/encrypt', {
    schema: { tags: jose, summary: 'Encrypt to the gateway (or to a recipient JWK) as a compact JWE', body: EncryptBody, response: { 200: Type.Object({ jwe: Type.String() }), ...errors } },
  }, async (request) => {
    const body = request.body;
    const jwe = await encryptJwe(ctx.keySnapshot(), new TextEncoder().encode(body.plaintext), {
      alg: body.alg,
      enc: body.enc,
      algorithms: DEFAULT_JWE_ALGORITHMS,
      encryptionAlgorithms: DEFAULT_JWE_ENCRYPTION,
      recipient: body.recipient as JWK | undefined,
    });
    return { jwe };
  });

  app.post('/jose/decrypt', {
    schema: { tags: jose, summary: 'Decrypt a compact JWE addressed to the gateway', body: DecryptBody, response: { 200: Type.Object({ plaintext: Type.String() }), ...errors } },
  }, async (request) => {
    const body = request.body;
    const { plaintext } = await decryptJwe(ctx.keySnapshot(), body.jwe, {
      algorithms: body.algorithms ?? DEFAULT_JWE_ALGORITHMS,
      encryptionAlgorithms: (body.encryptionAlgorithms ?? DEFAULT_JWE_ENCRYPTION).filter((e) => CONTENT_ENCRYPTION_ALGORITHMS.includes(e)),
    });
    return { plaintext: new TextDecoder().decode(plaintext) };
  });
}
