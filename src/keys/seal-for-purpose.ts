import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * A value Keygate hands a client to give back later, sealed so that only Keygate can open it: synchronous, for the
 * places that cannot await (a stream's events are written from the provider socket's callback).
 */
export interface PurposeSealer {
  /** `plaintext` sealed: an opaque token, `kg1.` then base64url(IV ‖ ciphertext ‖ tag). */
  seal(plaintext: string): string;
  /** The plaintext of a token this sealer made; undefined for any other (malformed, tampered, another purpose or master key). */
  open(token: string): string | undefined;
}

/** The format's version prefix: a later format gets another, and tokens of this one keep opening as they did. */
const PREFIX = 'kg1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A sealer for one purpose: AES-256-GCM (NIST SP 800-38D) under a key derived from the master key with HKDF-SHA256
 * (RFC 5869), its `info` naming the purpose, and the purpose as additional authenticated data as well. A token sealed
 * for one purpose does not open for another, so a client cannot replay one kind of sealed value as another.
 *
 * @example
 * const sealer = sealerFor(masterKey, 'responses.reasoning.encrypted_content');
 * sealer.open(sealer.seal('hello')); // 'hello'
 */
export function sealerFor(masterKey: Uint8Array, purpose: string): PurposeSealer {
  const key = Buffer.from(hkdfSync('sha256', masterKey, 'keygate:purpose-seal', `keygate:purpose-seal:v1:${purpose}`, 32));
  const aad = Buffer.from(`${PREFIX}${purpose}`, 'utf8');
  return {
    seal(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
      const sealed = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return PREFIX + sealed.toString('base64url');
    },
    open(token) {
      if (!token.startsWith(PREFIX)) return undefined;
      const sealed = Buffer.from(token.slice(PREFIX.length), 'base64url');
      if (sealed.length < IV_BYTES + TAG_BYTES) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES)).setAAD(aad);
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}
