import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * A value Keygate hands a client to give back later, sealed so that only Keygate can open it, and only for the holder
 * it was handed to: synchronous, for the places that cannot await (a stream's events are written from the provider
 * socket's callback).
 */
export interface PurposeSealer {
  /** `plaintext` sealed for `holder` (who is handed the token): an opaque token, `kg2.` then base64url(IV ‖ ciphertext ‖ tag). */
  seal(plaintext: string, holder: string): string;
  /** The plaintext of a token this sealer made for `holder`; undefined for any other (malformed, tampered, another holder, purpose or master key). */
  open(token: string, holder: string): string | undefined;
}

/**
 * The format's version prefix. `kg2.` binds each token to its holder; `kg1.` tokens (bound to the purpose alone) do not
 * open at all: a token that opened for anyone who had it is what the holder binding closes, and a purpose's sealed
 * values are worth little once refused (a reasoning item answered without Claude's thinking), so there is no
 * transition in which they still open.
 */
const PREFIX = 'kg2.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A sealer for one purpose: AES-256-GCM (NIST SP 800-38D) under a key derived from the master key with HKDF-SHA256
 * (RFC 5869), its `info` naming the purpose, and the purpose and the holder as additional authenticated data. A token
 * sealed for one purpose does not open for another, so a client cannot replay one kind of sealed value as another;
 * nor for another holder, so a token that leaks from one app opens nothing for the next. The holder is bound as
 * additional data rather than in the key so that the key is derived once, not on every call.
 *
 * @example
 * const sealer = sealerFor(masterKey, 'responses.reasoning.encrypted_content');
 * sealer.open(sealer.seal('hello', '["app","billing"]'), '["app","billing"]'); // 'hello'
 */
export function sealerFor(masterKey: Uint8Array, purpose: string): PurposeSealer {
  const key = Buffer.from(hkdfSync('sha256', masterKey, 'keygate:purpose-seal', `keygate:purpose-seal:v1:${purpose}`, 32));
  // JSON: a purpose and holder that share characters cannot make another pair's bytes.
  const aadOf = (holder: string) => Buffer.from(`${PREFIX}${JSON.stringify([purpose, holder])}`, 'utf8');
  return {
    seal(plaintext, holder) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aadOf(holder));
      const sealed = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return PREFIX + sealed.toString('base64url');
    },
    open(token, holder) {
      if (!token.startsWith(PREFIX)) return undefined;
      const sealed = Buffer.from(token.slice(PREFIX.length), 'base64url');
      if (sealed.length < IV_BYTES + TAG_BYTES) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES)).setAAD(aadOf(holder));
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}
