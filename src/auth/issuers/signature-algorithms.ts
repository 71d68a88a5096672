/**
 * The JWS algorithms a token from an outside issuer may be signed with, and the public key each needs:
 * RSA (RFC 7518 §3.3, §3.5), ECDSA (RFC 7518 §3.4) and Ed25519 (RFC 8037 §3.1; `Ed25519` is its fully
 * specified name, RFC 9864 §2.2). HMAC is absent on purpose: a JWK Set is public, so a symmetric key found in one
 * is a secret everybody knows (RFC 8725 §2.1, §3.1).
 */
const KEY_FOR_ALGORITHM: Readonly<Record<string, { kty: string; crv?: string }>> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
};

export const ISSUER_SIGNATURE_ALGORITHMS: readonly string[] = Object.keys(KEY_FOR_ALGORITHM);

/** Whether `alg` is one of {@link ISSUER_SIGNATURE_ALGORITHMS}: never `none`, never `HS*`. */
export function isIssuerSignatureAlgorithm(alg: unknown): alg is string {
  return typeof alg === 'string' && Object.hasOwn(KEY_FOR_ALGORITHM, alg);
}

/** The algorithms a public key of this `kty` (and `crv`) can verify; empty for any other key. */
export function algorithmsForKey(kty: unknown, crv: unknown): string[] {
  return ISSUER_SIGNATURE_ALGORITHMS.filter((alg) => {
    const need = KEY_FOR_ALGORITHM[alg]!;
    return need.kty === kty && (need.crv === undefined || need.crv === crv);
  });
}
