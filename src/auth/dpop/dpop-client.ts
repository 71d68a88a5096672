import { randomUUID } from 'node:crypto';
import { exportJWK, SignJWT, type CryptoKey, type JWK, type JWTHeaderParameters, type JWTPayload } from 'jose';

export interface DpopProofInput {
  /** The client's DPoP key pair: the private half signs, the public half goes in the `jwk` header. */
  keyPair: { privateKey: CryptoKey; publicKey: CryptoKey };
  /** The proof's `alg`; ES256 by default. */
  alg?: string;
  /** The request's HTTP method (`htm`). */
  method: string;
  /** The request URL; its query and fragment are left out of `htu` (RFC 9449 §4.2). */
  url: string;
  /** `iat`, in seconds since the epoch. */
  iat: number;
  /** `jti`; a random UUID by default. */
  jti?: string;
  /** `ath`, the access token's hash: `accessTokenHash(accessToken)`. */
  ath?: string;
  /** `nonce`, the last value the server sent in `DPoP-Nonce`. */
  nonce?: string;
  /** Extra or replacing header parameters, e.g. another `jwk` or `typ`, for proofs that must be refused. */
  header?: Partial<JWTHeaderParameters> & { jwk?: JWK };
  /** Extra or replacing claims; a claim set to `undefined` is left out. */
  claims?: JWTPayload;
}

/**
 * Makes a DPoP proof JWT (RFC 9449 §4.2) the way a client does, with jose. Used by tests, and by any client
 * code of Keygate's that calls a DPoP-protected API.
 *
 * @example
 * const keyPair = await generateKeyPair('ES256');
 * const proof = await createDpopProof({ keyPair, method: 'GET', url: 'https://api.example.com/orders', iat: 1767225600, ath });
 */
export async function createDpopProof(input: DpopProofInput): Promise<string> {
  const url = new URL(input.url);
  url.search = '';
  url.hash = '';
  const claims: JWTPayload = {
    jti: input.jti ?? randomUUID(),
    htm: input.method,
    htu: url.href,
    iat: input.iat,
    ...(input.ath !== undefined ? { ath: input.ath } : {}),
    ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
    ...input.claims,
  };
  const jwk = await exportJWK(input.keyPair.publicKey);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: input.alg ?? 'ES256', typ: 'dpop+jwt', jwk, ...input.header })
    .sign(input.keyPair.privateKey);
}
