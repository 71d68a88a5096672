import { Type, type Static } from 'typebox';
import { RouteAiSchema } from '../ai/ai-schema.js';
import { HEADER_NAME_PATTERN } from '../ai/provider-header-names.js';
import { Name, Size } from './service-schema.js';

export const ClaimRuleSchema = Type.Object(
  {
    claim: Type.String({ minLength: 1, description: 'a claim path such as "tenant" or "realm_access.roles"' }),
    equals: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    contains: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: 'the claim (an array, or a space-separated string) contains this value' })),
    oneOf: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]), { minItems: 1 })),
  },
  { additionalProperties: false },
);

export const RouteAuthSchema = Type.Object(
  {
    methods: Type.Array(Type.String({ pattern: '^(api-key|gateway-token|issuer:[a-z0-9][a-z0-9._-]{0,62})$' }), {
      minItems: 1,
      description: 'accepted authenticators: api-key, gateway-token (tokens from this gateway\'s token endpoint), issuer:<name> (an outside issuer)',
    }),
    audiences: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: 'accepted "aud" of gateway tokens; default ["keygate"]' })),
    scopes: Type.Optional(Type.Array(Type.String(), { description: 'every one of these scopes is required' })),
    claims: Type.Optional(Type.Array(ClaimRuleSchema)),
    dpop: Type.Optional(Type.Union([Type.Literal('required'), Type.Literal('optional')], { description: 'required: only sender-constrained (DPoP) tokens; optional: DPoP-bound tokens still need their proof' })),
    subscription: Type.Optional(Type.Boolean({ description: 'require an approved subscription of the calling app to the service (default true)' })),
    forwardClaims: Type.Optional(
      Type.Record(Type.String({ pattern: HEADER_NAME_PATTERN }), Type.String(), {
        additionalProperties: false,
        description: 'request header → claim path, set from the verified token; names in any case, compared and set in lower case (two that differ only in case are refused)',
      }),
    ),
    forwardCredential: Type.Optional(Type.Boolean({ description: 'forward the caller\'s own credential upstream (default false)' })),
  },
  { additionalProperties: false },
);

export const RouteLimitSchema = Type.Object(
  {
    per: Type.Union([Type.Literal('app'), Type.Literal('route'), Type.Literal('app-route')]),
    requests: Type.Integer({ minimum: 1 }),
    window: Type.Union([Type.Literal('1s'), Type.Literal('1m'), Type.Literal('1h'), Type.Literal('1d')]),
  },
  { additionalProperties: false },
);

const KEY_MANAGEMENT = ['ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A256KW', 'RSA-OAEP-256', 'RSA-OAEP'] as const;
const CONTENT_ENCRYPTION = ['A256GCM', 'A128GCM', 'A256CBC-HS512', 'A128CBC-HS256'] as const;
const KeyManagement = Type.Array(Type.Union(KEY_MANAGEMENT.map((a) => Type.Literal(a))), { minItems: 1 });
const ContentEncryption = Type.Array(Type.Union(CONTENT_ENCRYPTION.map((a) => Type.Literal(a))), { minItems: 1 });

/** Encryption beyond TLS (RFC 7516): request bodies to the gateway, responses to the calling app. */
export const RouteEncryptionSchema = Type.Object(
  {
    request: Type.Optional(
      Type.Object(
        {
          required: Type.Optional(Type.Boolean({ description: 'refuse bodies that are not a JWE (application/jose); default true' })),
          algorithms: Type.Optional(KeyManagement),
          encryptionAlgorithms: Type.Optional(ContentEncryption),
        },
        { additionalProperties: false },
      ),
    ),
    response: Type.Optional(
      Type.Object(
        {
          algorithm: Type.Optional(Type.Union(KEY_MANAGEMENT.map((a) => Type.Literal(a)), { description: "default: the app key's own alg, else ECDH-ES+A256KW" })),
          encryptionAlgorithm: Type.Optional(Type.Union(CONTENT_ENCRYPTION.map((a) => Type.Literal(a)))),
          fields: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'encrypt only these JSON fields (dotted paths); the whole body when absent' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export const RouteSchema = Type.Object(
  {
    name: Name,
    service: Type.Optional(Name),
    ai: Type.Optional(RouteAiSchema),
    hosts: Type.Optional(Type.Array(Type.String({ pattern: '^(\\*\\.)?[a-z0-9.-]+(:\\d+)?$' }), { description: 'exact host names, or *.example.com' })),
    paths: Type.Array(Type.String({ pattern: '^/' }), {
      minItems: 1,
      description: '/exact, /users/:id (a parameter segment), /static/* (a prefix)',
    }),
    methods: Type.Optional(Type.Array(Type.Union(METHODS.map((m) => Type.Literal(m))), { minItems: 1 })),
    headers: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z0-9-]+$' }), Type.String(), { description: 'request headers that must equal these values' })),
    stripPrefix: Type.Optional(Type.Boolean({ description: 'remove the matched prefix (the part before *) before forwarding' })),
    rewrite: Type.Optional(Type.String({ pattern: '^/', description: 'a path template using :params and * from the match' })),
    preserveHost: Type.Optional(Type.Boolean({ description: 'forward the client Host header instead of the target host' })),
    maxBodySize: Type.Optional(Size),
    auth: Type.Optional(RouteAuthSchema),
    limits: Type.Optional(Type.Array(RouteLimitSchema, { maxItems: 10 })),
    encryption: Type.Optional(RouteEncryptionSchema),
  },
  { additionalProperties: false, $id: 'Route' },
);

export type RouteSpec = Static<typeof RouteSchema>;
