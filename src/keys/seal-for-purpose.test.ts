import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sealerFor } from './seal-for-purpose.js';

const masterKey = randomBytes(32);
const PURPOSE = 'responses.reasoning.encrypted_content';
const sealer = sealerFor(masterKey, PURPOSE);
const APP_A = JSON.stringify(['app', 'app-a']);
const APP_B = JSON.stringify(['app', 'app-b']);

/** A token of the format before holders: `kg1.`, the same key, the purpose alone as additional data. */
function kg1Token(plaintext: string): string {
  const key = Buffer.from(hkdfSync('sha256', masterKey, 'keygate:purpose-seal', `keygate:purpose-seal:v1:${PURPOSE}`, 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(`kg1.${PURPOSE}`));
  return `kg1.${Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64url')}`;
}

describe('sealerFor', () => {
  it('opens what it sealed, and seals the same text differently each time', () => {
    const token = sealer.seal('the thinking', APP_A);
    expect(token).toMatch(/^kg2\.[A-Za-z0-9_-]+$/);
    expect(token).not.toContain('thinking');
    expect(sealer.open(token, APP_A)).toBe('the thinking');
    expect(sealer.seal('the thinking', APP_A)).not.toBe(token);
  });

  it('opens nothing from a token with one byte changed', () => {
    const token = sealer.seal('the thinking', APP_A);
    const bytes = Buffer.from(token.slice(4), 'base64url');
    for (const at of [0, 13, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[at]! ^= 1;
      expect(sealer.open(`kg2.${tampered.toString('base64url')}`, APP_A)).toBeUndefined();
    }
  });

  it('opens nothing sealed for another holder', () => {
    const token = sealer.seal('the thinking', APP_A);
    expect(sealer.open(token, APP_B)).toBeUndefined();
    expect(sealer.open(token, '')).toBeUndefined();
    expect(sealer.open(sealer.seal('the thinking', ''), APP_A)).toBeUndefined();
  });

  it('opens nothing sealed for another purpose, or under another master key', () => {
    const token = sealer.seal('the thinking', APP_A);
    expect(sealerFor(masterKey, 'another purpose').open(token, APP_A)).toBeUndefined();
    expect(sealerFor(randomBytes(32), PURPOSE).open(token, APP_A)).toBeUndefined();
  });

  it('opens no token of the format before holders (kg1.), whatever its prefix says', () => {
    const old = kg1Token('the thinking');
    expect(sealer.open(old, APP_A)).toBeUndefined();
    expect(sealer.open(`kg2.${old.slice(4)}`, APP_A)).toBeUndefined();
  });

  it("opens nothing that is not its format: another version's prefix, a short token, OpenAI's own encrypted_content", () => {
    const token = sealer.seal('the thinking', APP_A);
    expect(sealer.open(`kg3.${token.slice(4)}`, APP_A)).toBeUndefined();
    expect(sealer.open('kg2.AAAA', APP_A)).toBeUndefined();
    expect(sealer.open('gAAAAABpF-some-fernet-token==', APP_A)).toBeUndefined();
    expect(sealer.open('', APP_A)).toBeUndefined();
  });
});
