import { SIGNING_ALGORITHMS } from '../../keys/index.js';

export const TOKEN_PATH = '/oauth/token';
export const INTROSPECTION_PATH = '/oauth/introspect';
export const REVOCATION_PATH = '/oauth/revoke';
export const METADATA_PATHS = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];

/** Asymmetric algorithms only: a client assertion or DPoP proof is never verified with a shared secret here. */
export const ASYMMETRIC_ALGORITHMS = SIGNING_ALGORITHMS.filter((a) => !a.startsWith('HS'));

/**
 * Authorization server metadata (RFC 8414 §2), also served as an OpenID discovery document: it names the token
 * endpoint and the key service's JWKS, so relying parties find the keys that sign Keygate's access tokens.
 */
export function authorizationServerMetadata(issuer: string, signingAlgs: readonly string[]): Record<string, unknown> {
  return {
    issuer,
    token_endpoint: `${issuer}${TOKEN_PATH}`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    introspection_endpoint: `${issuer}${INTROSPECTION_PATH}`,
    revocation_endpoint: `${issuer}${REVOCATION_PATH}`,
    grant_types_supported: ['client_credentials'],
    response_types_supported: ['token'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASYMMETRIC_ALGORITHMS,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    dpop_signing_alg_values_supported: ASYMMETRIC_ALGORITHMS,
    access_token_signing_alg_values_supported: signingAlgs,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: signingAlgs,
  };
}
