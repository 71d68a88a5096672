/**
 * The JOSE algorithms the key service manages keys for (RFC 7518, RFC 8037), with the key each needs.
 * Anything not listed here is refused with `unsupported_algorithm`.
 */
export type KeyUse = 'sig' | 'enc';
export type Kty = 'RSA' | 'EC' | 'OKP' | 'oct';

export interface AlgorithmSpec {
  alg: string;
  use: KeyUse;
  kty: Kty;
  /** Curves the algorithm accepts (EC and OKP); the first is the default. */
  curves?: readonly string[];
  /** Minimum key size in bits: RSA modulus, or oct secret length. */
  minBits?: number;
}

const RSA_MIN = 2048;
const ECDH_CURVES = ['P-256', 'P-384', 'P-521', 'X25519'] as const;

const SPECS: AlgorithmSpec[] = [
  // Signing — RFC 7518 §3, RFC 8037 §3.1
  ...['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'].map((alg) => ({ alg, use: 'sig' as const, kty: 'RSA' as const, minBits: RSA_MIN })),
  { alg: 'ES256', use: 'sig', kty: 'EC', curves: ['P-256'] },
  { alg: 'ES384', use: 'sig', kty: 'EC', curves: ['P-384'] },
  { alg: 'ES512', use: 'sig', kty: 'EC', curves: ['P-521'] },
  { alg: 'EdDSA', use: 'sig', kty: 'OKP', curves: ['Ed25519'] },
  // HMAC keys must be at least as long as the hash output (RFC 7518 §3.2).
  { alg: 'HS256', use: 'sig', kty: 'oct', minBits: 256 },
  { alg: 'HS384', use: 'sig', kty: 'oct', minBits: 384 },
  { alg: 'HS512', use: 'sig', kty: 'oct', minBits: 512 },
  // Encryption (key management) — RFC 7518 §4, RFC 8037 §3.2
  { alg: 'RSA-OAEP', use: 'enc', kty: 'RSA', minBits: RSA_MIN },
  { alg: 'RSA-OAEP-256', use: 'enc', kty: 'RSA', minBits: RSA_MIN },
  ...['ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW'].map((alg) => ({
    alg,
    use: 'enc' as const,
    kty: 'EC' as const,
    curves: ECDH_CURVES,
  })),
  { alg: 'A128KW', use: 'enc', kty: 'oct', minBits: 128 },
  { alg: 'A192KW', use: 'enc', kty: 'oct', minBits: 192 },
  { alg: 'A256KW', use: 'enc', kty: 'oct', minBits: 256 },
  { alg: 'A128GCMKW', use: 'enc', kty: 'oct', minBits: 128 },
  { alg: 'A256GCMKW', use: 'enc', kty: 'oct', minBits: 256 },
  { alg: 'dir', use: 'enc', kty: 'oct', minBits: 256 },
];

const BY_ALG = new Map(SPECS.map((s) => [s.alg, s]));

export const SUPPORTED_ALGORITHMS: readonly string[] = SPECS.map((s) => s.alg);
export const SIGNING_ALGORITHMS: readonly string[] = SPECS.filter((s) => s.use === 'sig').map((s) => s.alg);
export const ENCRYPTION_ALGORITHMS: readonly string[] = SPECS.filter((s) => s.use === 'enc').map((s) => s.alg);
/** Content encryption algorithms (RFC 7518 §5) accepted with any key management algorithm above. */
export const CONTENT_ENCRYPTION_ALGORITHMS: readonly string[] = ['A128GCM', 'A192GCM', 'A256GCM', 'A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512'];
export const KEY_TYPES: readonly Kty[] = ['RSA', 'EC', 'OKP', 'oct'];

export function algorithmSpec(alg: string): AlgorithmSpec | undefined {
  return BY_ALG.get(alg === 'Ed25519' ? 'EdDSA' : alg);
}

/** The kty an ECDH curve lives on: X25519 is an OKP curve (RFC 8037), the P-curves are EC. */
export function ktyForCurve(crv: string): Kty {
  return crv === 'X25519' || crv === 'Ed25519' ? 'OKP' : 'EC';
}

