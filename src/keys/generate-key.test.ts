import { describe, expect, it, beforeAll } from 'vitest';
import { expectKeygateError, privateMemberPaths, rfc7638Thumbprint } from '../../test/key-harness.js';
import { generateKey } from './generate-key.js';
import type { KeyMaterial } from './key-material.js';

interface Case {
  label: string;
  alg: string;
  crv?: string;
  kty: 'RSA' | 'EC' | 'OKP' | 'oct';
  use: 'sig' | 'enc';
  expectedCrv: string | null;
  /** For oct keys: the secret length in bits. */
  secretBits?: number;
}

/** Every key type generateKey supports, one algorithm or curve each where they differ. */
const CASES: Case[] = [
  { label: 'RSA RS256', alg: 'RS256', kty: 'RSA', use: 'sig', expectedCrv: null },
  { label: 'RSA RSA-OAEP-256', alg: 'RSA-OAEP-256', kty: 'RSA', use: 'enc', expectedCrv: null },
  { label: 'EC ES256', alg: 'ES256', kty: 'EC', use: 'sig', expectedCrv: 'P-256' },
  { label: 'EC ES384', alg: 'ES384', kty: 'EC', use: 'sig', expectedCrv: 'P-384' },
  { label: 'EC ES512', alg: 'ES512', kty: 'EC', use: 'sig', expectedCrv: 'P-521' },
  { label: 'EC ECDH-ES on P-256', alg: 'ECDH-ES', crv: 'P-256', kty: 'EC', use: 'enc', expectedCrv: 'P-256' },
  { label: 'OKP ECDH-ES on X25519', alg: 'ECDH-ES', crv: 'X25519', kty: 'OKP', use: 'enc', expectedCrv: 'X25519' },
  { label: 'OKP EdDSA', alg: 'EdDSA', kty: 'OKP', use: 'sig', expectedCrv: 'Ed25519' },
  { label: 'oct HS256', alg: 'HS256', kty: 'oct', use: 'sig', expectedCrv: null, secretBits: 256 },
  { label: 'oct A256KW', alg: 'A256KW', kty: 'oct', use: 'enc', expectedCrv: null, secretBits: 256 },
  { label: 'oct dir', alg: 'dir', kty: 'oct', use: 'enc', expectedCrv: null, secretBits: 256 },
];

describe.each(CASES)('generateKey for $label', (c) => {
  let key: KeyMaterial;

  beforeAll(async () => {
    key = await generateKey({ alg: c.alg, ...(c.crv ? { crv: c.crv } : {}) });
  });

  it('makes a key of the type, curve, algorithm and use asked for', () => {
    expect({ kty: key.kty, crv: key.crv, alg: key.alg, use: key.use }).toEqual({ kty: c.kty, crv: c.expectedCrv, alg: c.alg, use: c.use });
  });

  if (c.kty === 'oct') {
    it('sets the kid to the RFC 7638 thumbprint of its secret members', () => {
      expect(key.kid).toBe(rfc7638Thumbprint(key.privateJwk as Record<string, unknown>));
    });

    it('has no public JWK, since a shared secret is never published', () => {
      expect(key.publicJwk).toBeNull();
    });

    it(`holds a secret of ${c.secretBits} bits`, () => {
      expect(Buffer.from(String(key.privateJwk?.k), 'base64url').length * 8).toBe(c.secretBits);
    });
  } else {
    it('sets the kid to the RFC 7638 thumbprint of its public members', () => {
      expect(key.kid).toBe(rfc7638Thumbprint(key.publicJwk as Record<string, unknown>));
    });

    it('gives the public JWK its kid, alg and use', () => {
      expect(key.publicJwk).toMatchObject({ kid: key.kid, alg: c.alg, use: c.use, kty: c.kty });
    });

    it('leaves every private member out of the public JWK', () => {
      expect(privateMemberPaths(key.publicJwk)).toEqual([]);
    });

    it('keeps the same public members in the private JWK, so both name the same key', () => {
      expect(rfc7638Thumbprint(key.privateJwk as Record<string, unknown>)).toBe(key.kid);
    });
  }

  it('gives the private JWK its kid, alg and use', () => {
    expect(key.privateJwk).toMatchObject({ kid: key.kid, alg: c.alg, use: c.use, kty: c.kty });
  });
});

describe('generateKey refusals', () => {
  it('refuses an algorithm it does not support with unsupported_algorithm', async () => {
    await expectKeygateError(generateKey({ alg: 'ES256K' }), 'unsupported_algorithm', 400);
  });

  it('refuses an RSA modulus under 2048 bits with weak_key', async () => {
    await expectKeygateError(generateKey({ alg: 'RS256', modulusLength: 1024 }), 'weak_key', 400);
  });

  it('refuses a curve the algorithm does not use with invalid_request', async () => {
    await expectKeygateError(generateKey({ alg: 'ES256', crv: 'P-384' }), 'invalid_request', 400);
  });

  it('refuses a curve for an RSA algorithm with invalid_request', async () => {
    await expectKeygateError(generateKey({ alg: 'RS256', crv: 'P-256' }), 'invalid_request', 400);
  });

  it('refuses a modulus length for an algorithm whose keys are not RSA with invalid_request', async () => {
    await expectKeygateError(generateKey({ alg: 'ES384', modulusLength: 2048 }), 'invalid_request', 400);
  });
});
