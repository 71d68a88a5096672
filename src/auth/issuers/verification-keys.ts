import { importJWK, type CryptoKey, type JWK } from 'jose';
import { IssuerUnavailableError } from './issuer-errors.js';
import { algorithmsForKey } from './signature-algorithms.js';

/** One public key from an issuer's JWK Set, bound to the algorithms it may verify. */
export interface VerificationKey {
  readonly kid: string | undefined;
  /** Its own `alg` alone when the JWK names one; otherwise every algorithm its `kty`/`crv` allows. */
  readonly algorithms: ReadonlySet<string>;
  /** The key imported for `alg` (one of `algorithms`), imported once and kept. */
  cryptoKey(alg: string): Promise<CryptoKey>;
}

/** Members that hold private or secret material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
/** The public members each key type is made of; nothing else is handed to the importer. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };
const MIN_RSA_BITS = 2048;

/**
 * Takes, from a JWK Set (RFC 7517 §5), the keys usable to verify signatures: `use` absent or `sig` (§4.2),
 * `key_ops` absent or holding `verify` (§4.3), an RSA, EC or Ed25519 public key. Skipped: encryption keys,
 * symmetric (`oct`) keys — an HMAC secret is never taken from a JWKS — keys that publish private members,
 * RSA keys under 2048 bits (RFC 7518 §3.3), keys whose `alg` does not fit their type, and keys that do not import.
 * Throws {@link IssuerUnavailableError} `not_jwks` when the document is not a JWK Set, and `no_usable_keys`
 * when none of its keys is usable.
 */
export async function importVerificationKeys(jwks: unknown): Promise<VerificationKey[]> {
  if (!isObject(jwks) || !Array.isArray(jwks.keys)) throw new IssuerUnavailableError('not_jwks');
  const imported = await Promise.all(jwks.keys.map(async (jwk: unknown) => (isObject(jwk) ? usableKey(jwk) : undefined)));
  const keys = imported.filter((key): key is VerificationKey => key !== undefined);
  if (keys.length === 0) throw new IssuerUnavailableError('no_usable_keys');
  return keys;
}

async function usableKey(jwk: Record<string, unknown>): Promise<VerificationKey | undefined> {
  const { kty, crv, kid, alg, use, key_ops: keyOps } = jwk;
  if (use !== undefined && use !== 'sig') return undefined;
  if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes('verify'))) return undefined;
  if (kid !== undefined && typeof kid !== 'string') return undefined;
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) return undefined;
  const members = typeof kty === 'string' ? PUBLIC_MEMBERS[kty] : undefined;
  if (!members || !members.every((member) => typeof jwk[member] === 'string')) return undefined;
  if (kty === 'RSA' && modulusBits(jwk.n as string) < MIN_RSA_BITS) return undefined;
  const fitting = algorithmsForKey(kty, crv);
  const algorithms = alg === undefined ? fitting : fitting.filter((a) => a === alg);
  if (algorithms.length === 0) return undefined;

  const publicJwk: JWK = { kty: kty as string, ...Object.fromEntries(members.map((member) => [member, jwk[member]])) };
  const imports = new Map<string, Promise<CryptoKey>>();
  const cryptoKey = (forAlg: string): Promise<CryptoKey> => {
    let pending = imports.get(forAlg);
    if (!pending) {
      pending = importJWK(publicJwk, forAlg).then((key) => {
        if (key instanceof Uint8Array || key.type !== 'public') throw new TypeError('not a public key');
        return key;
      });
      imports.set(forAlg, pending);
    }
    return pending;
  };
  try {
    await cryptoKey(algorithms[0]!);
  } catch {
    return undefined;
  }
  return { kid, algorithms: new Set(algorithms), cryptoKey };
}

/** The bit length of an RSA modulus given as Base64urlUInt (RFC 7518 §2). */
function modulusBits(n: string): number {
  const bytes = Buffer.from(n, 'base64url');
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start += 1;
  if (start === bytes.length) return 0;
  return (bytes.length - start - 1) * 8 + (32 - Math.clz32(bytes[start]!));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
