import { createHash } from 'node:crypto';
import type { JWK } from 'jose';

export interface JwksDocument {
  keys: JWK[];
  /** The serialized JSON Web Key Set, ready to write. */
  body: Buffer;
  /** A strong entity tag over the body (RFC 9110 §8.8.3). */
  etag: string;
}

/**
 * Builds the JWK Set (RFC 7517 §5) from public JWKs, in a stable order (signing keys first, then by kid) so every
 * node serving the same keys serves the same bytes and the same ETag.
 */
export function buildJwks(publicKeys: readonly JWK[]): JwksDocument {
  // Code-point order, not localeCompare: a node's locale must not change the bytes it serves.
  const byKid = (a: JWK, b: JWK): number => (String(a.kid) < String(b.kid) ? -1 : String(a.kid) > String(b.kid) ? 1 : 0);
  const keys = [...publicKeys].sort((a, b) => (a.use === b.use ? byKid(a, b) : a.use === 'sig' ? -1 : 1));
  const body = Buffer.from(JSON.stringify({ keys }));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
  return { keys, body, etag };
}

/**
 * Whether an `If-None-Match` header matches the current ETag (RFC 9110 §13.1.2: weak comparison, a list or `*`).
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === bare);
}
