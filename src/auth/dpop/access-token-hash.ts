import { createHash } from 'node:crypto';

/**
 * The `ath` claim value for an access token: base64url of the SHA-256 hash of the token's ASCII text
 * (RFC 9449 §4.2).
 *
 * @example accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU') // 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo'
 */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}
