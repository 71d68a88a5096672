import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sealerFor } from './seal-for-purpose.js';

const masterKey = randomBytes(32);
const sealer = sealerFor(masterKey, 'responses.reasoning.encrypted_content');

describe('sealerFor', () => {
  it('opens what it sealed, and seals the same text differently each time', () => {
    const token = sealer.seal('the thinking');
    expect(token).toMatch(/^kg1\.[A-Za-z0-9_-]+$/);
    expect(token).not.toContain('thinking');
    expect(sealer.open(token)).toBe('the thinking');
    expect(sealer.seal('the thinking')).not.toBe(token);
  });

  it('opens nothing from a token with one byte changed', () => {
    const token = sealer.seal('the thinking');
    const bytes = Buffer.from(token.slice(4), 'base64url');
    for (const at of [0, 13, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[at]! ^= 1;
      expect(sealer.open(`kg1.${tampered.toString('base64url')}`)).toBeUndefined();
    }
  });

  it('opens nothing sealed for another purpose, or under another master key', () => {
    const token = sealer.seal('the thinking');
    expect(sealerFor(masterKey, 'another purpose').open(token)).toBeUndefined();
    expect(sealerFor(randomBytes(32), 'responses.reasoning.encrypted_content').open(token)).toBeUndefined();
  });

  it("opens nothing that is not its format: another version's prefix, a short token, OpenAI's own encrypted_content", () => {
    const token = sealer.seal('the thinking');
    expect(sealer.open(`kg2.${token.slice(4)}`)).toBeUndefined();
    expect(sealer.open('kg1.AAAA')).toBeUndefined();
    expect(sealer.open('gAAAAABpF-some-fernet-token==')).toBeUndefined();
    expect(sealer.open('')).toBeUndefined();
  });
});
