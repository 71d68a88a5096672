import { Type, type Static } from 'typebox';

/** An outside issuer whose tokens routes may accept (`issuer:<name>` in a route's auth methods). */
export const IssuerSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' }),
    issuer: Type.Optional(Type.String({ pattern: '^https?://', description: 'the issuer URL: "iss" must equal it, and without jwksUri its JWKS is found by OpenID Connect discovery' })),
    jwksUri: Type.Optional(Type.String({ pattern: '^https?://', description: 'the JWKS URL, when there is no discovery document; give issuer too so "iss" is checked' })),
    audiences: Type.Array(Type.String(), { minItems: 1, description: 'accepted "aud" values' }),
    algorithms: Type.Array(Type.Union(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'].map((a) => Type.Literal(a))), { minItems: 1 }),
    clockToleranceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
    claimMappings: Type.Optional(
      Type.Object(
        {
          subject: Type.Optional(Type.String()),
          scope: Type.Optional(Type.String({ description: 'where scopes are: "scope" (space-separated) by default, "scp", or e.g. "realm_access.roles"' })),
          clientId: Type.Optional(Type.String({ description: 'the calling client: "azp" or "client_id"' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'Issuer' },
);

export type IssuerSpec = Static<typeof IssuerSchema>;
