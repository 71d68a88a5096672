import { Type, type Static } from 'typebox';
import { KEY_STATES, SUPPORTED_ALGORITHMS } from '../keys/index.js';

/**
 * The admin API's schemas: Fastify validates every request with them, serializes every response through them
 * (so a member not listed here, such as a private key member, can never be sent), and @fastify/swagger turns
 * them into the OpenAPI document.
 */
export const ErrorSchema = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }) },
  { $id: 'Error', description: 'Every error: a stable code and a message that says what to do.' },
);

/** Only public members are listed, so a private member could not be serialized even by mistake. */
export const PublicJwkSchema = Type.Object(
  {
    kid: Type.String(),
    kty: Type.String(),
    alg: Type.String(),
    use: Type.String(),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String()),
    n: Type.Optional(Type.String()),
    e: Type.Optional(Type.String()),
  },
  { $id: 'PublicJwk', description: 'A public JWK (RFC 7517): never a private member.' },
);

const nullableTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const KeyInfoSchema = Type.Object(
  {
    kid: Type.String({ description: 'RFC 7638 SHA-256 thumbprint of the key' }),
    kty: Type.String(),
    alg: Type.String(),
    use: Type.Union([Type.Literal('sig'), Type.Literal('enc')]),
    crv: Type.Union([Type.String(), Type.Null()]),
    state: Type.Union(KEY_STATES.map((s) => Type.Literal(s))),
    origin: Type.String(),
    hasPrivateKey: Type.Boolean(),
    published: Type.Boolean(),
    publicJwk: Type.Union([Type.Ref('PublicJwk'), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    activateAt: nullableTime,
    activatedAt: nullableTime,
    retiringAt: nullableTime,
    retireAt: nullableTime,
    retiredAt: nullableTime,
    revokedAt: nullableTime,
    revokeReason: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'KeyInfo' },
);

export const AlgSchema = Type.String({ description: `One of ${SUPPORTED_ALGORITHMS.join(', ')}`, minLength: 1, maxLength: 30 });

export const CreateKeyBody = Type.Object(
  {
    alg: AlgSchema,
    crv: Type.Optional(Type.String({ maxLength: 10 })),
    modulusLength: Type.Optional(Type.Integer({ description: 'RSA only: 2048, 3072 or 4096' })),
    state: Type.Optional(Type.Union([Type.Literal('next'), Type.Literal('active')], { description: 'next (default): published now, signing after the publication lead; active: signing at once' })),
  },
  { additionalProperties: false },
);

export const ImportKeyBody = Type.Object(
  {
    jwk: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'A JWK (RFC 7517), private or public' })),
    pem: Type.Optional(Type.String({ maxLength: 65536, description: 'PKCS#8 private key, SPKI public key or X.509 certificate' })),
    alg: Type.Optional(AlgSchema),
    use: Type.Optional(Type.Union([Type.Literal('sig'), Type.Literal('enc')])),
    state: Type.Optional(Type.Union([Type.Literal('next'), Type.Literal('active')])),
    publicOnly: Type.Optional(Type.Boolean({ description: 'Refuse the key if it carries private members' })),
  },
  { additionalProperties: false },
);

export const ImportKeySetBody = Type.Object(
  {
    jwks: Type.Object(
      { keys: Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, maxItems: 100, description: 'JWKs (RFC 7517), private or public' }) },
      { description: 'A JWK Set (RFC 7517 §5); members other than `keys` are ignored' },
    ),
    alg: Type.Optional(AlgSchema),
    use: Type.Optional(Type.Union([Type.Literal('sig'), Type.Literal('enc')])),
    state: Type.Optional(Type.Union([Type.Literal('next'), Type.Literal('active')])),
    publicOnly: Type.Optional(Type.Boolean({ description: 'Refuse the set if any key carries private members' })),
  },
  { additionalProperties: false },
);

export const RotateBody = Type.Object({ alg: AlgSchema }, { additionalProperties: false });
export const RevokeBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false });
/**
 * A string that is one of `values`, as one JSON Schema `enum` (its static type is still their union): a wrong value is
 * then told the values allowed, where a union of literals is told only "must be equal to constant".
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}) {
  return Type.Enum<[...T]>(values, { type: 'string', ...options });
}

/** The query of an endpoint that takes none: a parameter sent anyway (a filter it does not have) is refused, not ignored. */
export const NoQuery = Type.Object({}, { additionalProperties: false });

export const KidParams = Type.Object({ kid: Type.String({ minLength: 1, maxLength: 100 }) });

export const ListKeysQuery = Type.Object(
  {
    state: Type.Optional(StringEnum(KEY_STATES)),
    use: Type.Optional(StringEnum(['sig', 'enc'])),
    alg: Type.Optional(AlgSchema),
  },
  { additionalProperties: false },
);

export const ExportQuery = Type.Object({ format: Type.Optional(StringEnum(['jwk', 'pem'])) }, { additionalProperties: false });

const AlgList = Type.Array(AlgSchema, { minItems: 1, maxItems: 20 });

export const SignBody = Type.Object(
  {
    claims: Type.Record(Type.String(), Type.Unknown()),
    alg: Type.Optional(AlgSchema),
    ttlSeconds: Type.Integer({ minimum: 1 }),
    typ: Type.Optional(Type.String({ maxLength: 50 })),
  },
  { additionalProperties: false },
);

export const VerifyBody = Type.Object(
  {
    token: Type.String({ minLength: 1 }),
    algorithms: AlgList,
    issuer: Type.Optional(Type.String()),
    audience: Type.Optional(Type.String()),
    typ: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const EncryptBody = Type.Object(
  {
    plaintext: Type.String({ description: 'UTF-8 text to encrypt' }),
    alg: Type.Optional(AlgSchema),
    enc: Type.Optional(Type.String()),
    recipient: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'A public JWK to encrypt to instead of the gateway' })),
  },
  { additionalProperties: false },
);

export const DecryptBody = Type.Object(
  {
    jwe: Type.String({ minLength: 1 }),
    algorithms: Type.Optional(AlgList),
    encryptionAlgorithms: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 10 })),
  },
  { additionalProperties: false },
);

export type CreateKeyBodyType = Static<typeof CreateKeyBody>;
