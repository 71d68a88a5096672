import { hash, randomBytes } from 'node:crypto';

/** Prefixes say what a secret is when it turns up somewhere it should not (a log, a repository). */
const PREFIX = { api_key: 'kg_key_', client_secret: 'kg_secret_' } as const;

export interface NewSecret {
  secret: string;
  /** Enough of the secret to recognise it in a list, too little to use it. */
  prefix: string;
  hash: string;
}

/**
 * A new API key or client secret: 256 random bits. Only its SHA-256 is stored: with that much entropy a fast
 * hash is as safe as a slow one, and it lets the data plane check a key with one hash and one Map look-up.
 */
export function newSecret(kind: keyof typeof PREFIX): NewSecret {
  const secret = `${PREFIX[kind]}${randomBytes(32).toString('base64url')}`;
  return { secret, prefix: secret.slice(0, PREFIX[kind].length + 6), hash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  // One-shot hashing: no Hash object per call on the request path.
  return hash('sha256', secret, 'hex');
}
