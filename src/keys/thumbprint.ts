import { calculateJwkThumbprint, type JWK } from 'jose';

/**
 * The key id Keygate gives every key: its JWK SHA-256 thumbprint (RFC 7638 §3), so the same key always has the
 * same `kid`, on every node and after every import.
 *
 * @example await kidOf({ kty: 'RSA', e: 'AQAB', n: '0vx7…' }) // 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
 */
export function kidOf(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}
