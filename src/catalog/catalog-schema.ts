import { Type, type Static } from 'typebox';

const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'lower-case letters, digits, ".", "_" and "-"' });

// Bounds far above any real budget, that refuse a value typed with too many zeros (or 1e300) instead of storing it.
const Money = Type.Number({ minimum: 0, maximum: 1e9, description: 'US dollars, up to a billion' });

export const TeamSchema = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 500 })),
    budget: Type.Optional(Type.Object({ dailyUsd: Type.Optional(Money), monthlyUsd: Type.Optional(Money) }, { additionalProperties: false, description: "spend on AI calls by all the team's apps" })),
  },
  { additionalProperties: false, $id: 'Team' },
);

export const AppSchema = Type.Object(
  {
    name: Name,
    team: Name,
    description: Type.Optional(Type.String({ maxLength: 500 })),
    scopes: Type.Optional(Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$', maxLength: 200 }), { description: 'scopes the app may be granted (RFC 6749 §3.3 syntax)', maxItems: 200 })),
    jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 20 }) }, { description: "the app's public keys, for private_key_jwt (RFC 7523)" })),
    jwksUri: Type.Optional(Type.String({ pattern: '^https?://', description: 'or where to fetch them' })),
    encryptionKey: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'a public JWK that responses are encrypted to' })),
    models: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'AI models and aliases the app may use ("provider/model", a model id, an alias, or "*"); all when absent' })),
    budget: Type.Optional(
      Type.Object(
        { dailyUsd: Type.Optional(Money), monthlyUsd: Type.Optional(Money), tokensPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e12 })) },
        { additionalProperties: false, description: 'limits on AI spend and token rate' },
      ),
    ),
  },
  { additionalProperties: false, $id: 'App' },
);

export type TeamSpec = Static<typeof TeamSchema>;
export type AppSpec = Static<typeof AppSchema>;

export const SUBSCRIPTION_STATES = ['pending', 'approved', 'rejected', 'revoked'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

export interface CredentialInfo {
  id: string;
  app: string;
  kind: 'api_key' | 'client_secret';
  prefix: string;
  label: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface SubscriptionInfo {
  app: string;
  service: string;
  state: SubscriptionState;
  requestedAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
}
