import {
  CompactEncrypt,
  CompactSign,
  compactDecrypt,
  compactVerify,
  exportJWK,
  importJWK,
  importPKCS8,
  importSPKI,
  importX509,
  type JWK,
} from 'jose';
import { KeygateError } from '../errors.js';
import { KEY_TYPES, algorithmSpec, ktyForCurve, type KeyUse, type Kty } from './algorithms.js';
import type { KeyMaterial } from './key-material.js';
import { hasPrivateMembers, privateJwkOf, publicJwkOf } from './public-jwk.js';
import { kidOf } from './thumbprint.js';

export interface ImportKeyInput {
  /** A JWK object (RFC 7517), public or private. */
  jwk?: unknown;
  /** A PEM text: PKCS#8 private key, SPKI public key or X.509 certificate. */
  pem?: string;
  /** Required for PEM; for a JWK, taken from its `alg` member when absent. */
  alg?: string;
  use?: KeyUse;
}

export interface ImportKeyOptions {
  /** Refuse private material: the caller asked for a public key (RFC 7517 §9.2: never share private keys). */
  publicOnly?: boolean;
}

/** Algorithms whose oct key must have exactly this many bits, not merely at least. */
const EXACT_OCT_BITS: Record<string, number> = { A128KW: 128, A192KW: 192, A256KW: 256, A128GCMKW: 128, A256GCMKW: 256, dir: 256 };
const MAX_JWK_MEMBER_LENGTH = 4096;
/** The members that hold key material, of every key type (RFC 7518 §6, RFC 8037 §2). */
const KEY_MEMBERS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi', 'x', 'y', 'k'] as const;

function invalid(message: string): KeygateError {
  return new KeygateError('invalid_jwk', message);
}

function base64urlBits(value: unknown, member: string): number {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) {
    throw invalid(`"${member}" member must be a base64url string`);
  }
  const bytes = Buffer.from(value, 'base64url');
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i) * 8 - Math.clz32(bytes[i] ?? 0) + 24;
}

/** Turns a PEM into a JWK through jose; legacy PKCS#1/SEC1 PEMs get a message saying how to convert them. */
async function pemToJwk(pem: string, alg: string | undefined): Promise<JWK> {
  if (!alg) throw new KeygateError('invalid_request', '"alg" is required when importing a PEM key');
  const text = pem.trim();
  try {
    if (text.startsWith('-----BEGIN PRIVATE KEY-----')) return await exportJWK(await importPKCS8(text, alg, { extractable: true }));
    if (text.startsWith('-----BEGIN PUBLIC KEY-----')) return await exportJWK(await importSPKI(text, alg, { extractable: true }));
    if (text.startsWith('-----BEGIN CERTIFICATE-----')) return await exportJWK(await importX509(text, alg, { extractable: true }));
  } catch (error) {
    throw invalid(`the PEM could not be read as a ${alg} key: ${(error as Error).message}`);
  }
  if (/^-----BEGIN (RSA|EC) PRIVATE KEY-----/.test(text)) {
    throw invalid('PKCS#1/SEC1 PEM keys are not accepted; convert with "openssl pkcs8 -topk8 -nocrypt -in key.pem" and import the result');
  }
  if (text.startsWith('-----BEGIN RSA PUBLIC KEY-----')) {
    throw invalid('PKCS#1 PEM public keys are not accepted; convert with "openssl rsa -RSAPublicKey_in -in key.pem -pubout" and import the result');
  }
  throw invalid('"pem" must be a PKCS#8 private key, an SPKI public key or an X.509 certificate');
}

/**
 * Validates a key offered from outside (JWK per RFC 7517, or PEM) and returns it as key material with the
 * RFC 7638 thumbprint as its `kid`. Refuses, with a message naming the problem: malformed members, unknown
 * `kty` or `alg`, a key type that does not fit its algorithm, weak keys (RSA under 2048 bits, oct keys shorter
 * than the algorithm needs), private parts that do not match the public ones, and, with `publicOnly`, any
 * private member.
 */
export async function importKey(input: ImportKeyInput, options: ImportKeyOptions = {}): Promise<KeyMaterial> {
  if ((input.jwk === undefined) === (input.pem === undefined)) {
    throw new KeygateError('invalid_request', 'give exactly one of "jwk" or "pem"');
  }
  const raw = input.pem !== undefined ? await pemToJwk(input.pem, input.alg) : input.jwk;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('"jwk" must be a JSON object');
  const jwk = raw as Record<string, unknown>;
  for (const [member, value] of Object.entries(jwk)) {
    if (typeof value === 'string' && value.length > MAX_JWK_MEMBER_LENGTH) throw invalid(`"${member}" member is too long`);
  }

  if (typeof jwk.kty !== 'string') throw invalid('"kty" (Key Type) Parameter missing or invalid');
  if (!KEY_TYPES.includes(jwk.kty as Kty)) {
    throw new KeygateError('unsupported_key_type', `"kty" (Key Type) ${JSON.stringify(jwk.kty)} is not supported; use RSA, EC, OKP or oct`);
  }
  const kty = jwk.kty as Kty;

  if (jwk.alg !== undefined && typeof jwk.alg !== 'string') throw invalid('"alg" (Algorithm) Parameter must be a string');
  // Two names of one algorithm (`Ed25519` for `EdDSA`) agree.
  if (input.alg !== undefined && jwk.alg !== undefined && input.alg !== jwk.alg && algorithmSpec(input.alg)?.alg !== algorithmSpec(jwk.alg as string)?.alg) {
    throw invalid(`"alg" ${JSON.stringify(input.alg)} does not match the key's own "alg" ${JSON.stringify(jwk.alg)}`);
  }
  const requestedAlg = input.alg ?? (jwk.alg as string | undefined);
  if (requestedAlg === undefined) throw invalid('"alg" (Algorithm) Parameter missing: give it in the JWK or the request');
  const spec = algorithmSpec(requestedAlg);
  if (!spec) throw new KeygateError('unsupported_algorithm', `"alg" (Algorithm) ${JSON.stringify(requestedAlg)} is not supported`);
  const alg = spec.alg;

  const use = input.use ?? (jwk.use as KeyUse | undefined) ?? spec.use;
  if (jwk.use !== undefined && jwk.use !== use) throw invalid(`"use" ${JSON.stringify(input.use)} does not match the key's own "use" ${JSON.stringify(jwk.use)}`);
  if (use !== spec.use) throw invalid(`"use" (Public Key Use) must be "${spec.use}" for ${alg}, got ${JSON.stringify(use)}`);

  let crv: string | null = null;
  if (kty === 'EC' || kty === 'OKP') {
    if (typeof jwk.crv !== 'string') throw invalid('"crv" (Curve) Parameter missing or invalid');
    crv = jwk.crv;
    if (!spec.curves?.includes(crv) || ktyForCurve(crv) !== kty) {
      throw invalid(`a ${kty} key on curve ${JSON.stringify(crv)} cannot be used for ${alg}`);
    }
  } else if (kty !== spec.kty) {
    throw invalid(`a ${kty} key cannot be used for ${alg}; it needs a ${spec.kty} key`);
  }

  if (kty === 'RSA') {
    const bits = base64urlBits(jwk.n, 'n');
    if (bits < (spec.minBits ?? 2048)) throw new KeygateError('weak_key', `RSA keys must have a modulus of at least 2048 bits, this one has ${bits}`);
    if (jwk.oth !== undefined) throw invalid('multi-prime RSA keys ("oth") are not supported');
  }
  if (kty === 'oct') {
    if (options.publicOnly) throw new KeygateError('private_key_not_allowed', 'an oct key is a shared secret; a public key was asked for');
    const bits = typeof jwk.k === 'string' ? Buffer.from(base64urlCheck(jwk.k, 'k'), 'base64url').length * 8 : -1;
    if (bits < 0) throw invalid('"k" (Key Value) Parameter missing or invalid');
    const exact = EXACT_OCT_BITS[alg];
    if (exact !== undefined && bits !== exact) throw new KeygateError('weak_key', `${alg} needs a key of exactly ${exact} bits, this one has ${bits}`);
    if (bits < (spec.minBits ?? 0)) throw new KeygateError('weak_key', `${alg} needs a key of at least ${spec.minBits} bits, this one has ${bits}`);
  }

  // Key members are base64url without padding (RFC 7515 §2; RFC 7518 §6, RFC 8037 §2): a `=` or a `+` is refused
  // here rather than read by a decoder that forgives it.
  for (const member of KEY_MEMBERS) if (jwk[member] !== undefined && (typeof jwk[member] !== 'string' || !/^[A-Za-z0-9_-]*$/.test(jwk[member]))) throw invalid(`"${member}" member must be a base64url string without padding`);

  const isPrivate = hasPrivateMembers(jwk);
  if (isPrivate && options.publicOnly) {
    throw new KeygateError('private_key_not_allowed', 'the JWK holds private key members; a public key was asked for, send only its public members');
  }

  let imported;
  try {
    imported = await importJWK({ ...jwk, alg, ext: true, key_ops: undefined, use: undefined } as JWK, alg, { extractable: true });
  } catch (error) {
    throw invalid(`the JWK is not a valid ${alg} key: ${(error as Error).message}`);
  }
  const normalized = imported instanceof Uint8Array ? ({ kty: 'oct', k: Buffer.from(imported).toString('base64url') } as JWK) : await exportJWK(imported);

  const kid = await kidOf(normalized);
  const meta = { kid, alg, use: spec.use };
  const material: KeyMaterial = {
    kid,
    kty,
    alg,
    use: spec.use,
    crv,
    publicJwk: publicJwkOf(normalized, meta),
    privateJwk: isPrivate ? privateJwkOf(normalized, meta) : null,
  };
  if (material.privateJwk && material.publicJwk) await assertKeyPairMatches(material);
  return material;
}

function base64urlCheck(value: string, member: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) throw invalid(`"${member}" member must be a base64url string`);
  return value;
}

/** A private key whose public members belong to another key would publish a key that verifies nothing. */
async function assertKeyPairMatches(material: KeyMaterial): Promise<void> {
  const probe = new TextEncoder().encode('keygate key pair check');
  const privateKey = await importJWK(material.privateJwk!, material.alg);
  const publicKey = await importJWK(material.publicJwk!, material.alg);
  try {
    if (material.use === 'sig') {
      const jws = await new CompactSign(probe).setProtectedHeader({ alg: material.alg }).sign(privateKey);
      await compactVerify(jws, publicKey);
    } else {
      const jwe = await new CompactEncrypt(probe).setProtectedHeader({ alg: material.alg, enc: 'A256GCM' }).encrypt(publicKey);
      await compactDecrypt(jwe, privateKey);
    }
  } catch {
    throw invalid('the private members of the JWK do not belong to its public members');
  }
}
