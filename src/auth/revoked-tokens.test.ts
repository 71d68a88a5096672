import { describe, expect, it } from 'vitest';
import { RevokedTokens } from './revoked-tokens.js';

describe('the tokens a process was told were revoked', () => {
  it('holds a revoked jti until its token expires', () => {
    const revoked = new RevokedTokens();
    revoked.add('a', 2_000, 1_000);
    expect(revoked.has('a')).toBe(true);
    expect(revoked.has('b')).toBe(false);
  });

  it('forgets the revocations of expired tokens, so a loop of revocations does not grow it for ever', () => {
    const revoked = new RevokedTokens();
    // Ten thousand revocations, each of a token that lives one second, one every millisecond.
    for (let now = 0; now < 10_000; now++) revoked.add(`jti-${now}`, now + 1_000, now);
    expect(revoked.size).toBeLessThanOrEqual(2_000);
    expect(revoked.has('jti-9999')).toBe(true);
    expect(revoked.has('jti-0')).toBe(false);
  });

  it('keeps every revocation whose token is still live, however many there are', () => {
    const revoked = new RevokedTokens();
    for (let i = 0; i < 1_000; i++) revoked.add(`jti-${i}`, 60_000, i);
    expect(revoked.size).toBe(1_000);
  });
});
