import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../../test/databases.js';
import { expectKeygateError, jwksKids, openKeyHarness, TEST_POLICY, type KeyHarness } from '../../test/key-harness.js';
import { RETIRE_GRACE_MS } from './key-service.js';
import type { KeySnapshot } from './key-snapshot.js';
import { signJwt } from './sign-jwt.js';
import { verifyJwt } from './verify-jwt.js';

/** What one node serves after the scheduler ran at a moment of the rotation. */
interface Stage {
  name: string;
  at: number;
  snapshot: KeySnapshot;
}

interface Token {
  jwt: string;
  iat: number;
  /** Expiry in milliseconds. */
  exp: number;
}

describe.each(STORE_KINDS)('key rotation driven by the clock (%s)', (kind) => {
  let h: KeyHarness;
  const stages: Stage[] = [];
  let oldKid: string;
  let newKid: string;
  let tokenBeforePublish: Token;
  let tokenBeforeActivation: Token;
  let tokenAfterActivation: Token;
  let slotsBefore: Map<string, string>;

  const stage = (name: string): Stage => {
    const found = stages.find((s) => s.name === name);
    if (!found) throw new Error(`no stage ${name}`);
    return found;
  };
  const signingKid = (s: Stage): string | undefined => s.snapshot.signingKeys.get('ES256')?.kid;
  const activeBySlot = async (): Promise<Map<string, string>> =>
    new Map((await h.service.list({ state: 'active' })).map((k) => [`${k.use}:${k.alg}`, k.kid]));

  /** Moves the clock, runs the scheduler as every node does, and records the snapshot the node then serves. */
  async function runAt(name: string, at: number): Promise<Stage> {
    h.clock.set(at);
    await h.service.runSchedule();
    const recorded = { name, at, snapshot: await h.snapshot() };
    stages.push(recorded);
    return recorded;
  }

  /** Signs with the longest lifetime the policy allows, on the snapshot the node served last. */
  async function signNow(subject: string): Promise<Token> {
    const ttlSeconds = h.service.policy.tokenMaxTtl / 1000;
    const now = h.clock.now();
    const jwt = await signJwt(stages.at(-1)!.snapshot, { sub: subject }, { algorithms: ['ES256'], ttlSeconds, maxTtlSeconds: ttlSeconds, now });
    return { jwt, iat: now, exp: (Math.floor(now / 1000) + ttlSeconds) * 1000 };
  }

  beforeAll(async () => {
    h = await openKeyHarness(kind);
    const { rotationInterval, publishLead, tokenMaxTtl } = h.service.policy;
    const start = h.clock.now();
    const due = start + rotationInterval;

    oldKid = signingKid(await runAt('bootstrap', start))!;
    slotsBefore = await activeBySlot();

    h.clock.set(due - publishLead);
    tokenBeforePublish = await signNow('signed just before publish-next');
    await runAt('publish-next', due - publishLead);
    newKid = (await h.service.list({ alg: 'ES256', state: 'next' }))[0]!.kid;
    await runAt('one millisecond before activation', due - 1);

    h.clock.set(due);
    tokenBeforeActivation = await signNow('signed just before activation');
    await runAt('activation', due);
    tokenAfterActivation = await signNow('signed just after activation');

    await runAt('last second of the longest token', tokenBeforeActivation.exp - 1000);
    await runAt('expiry of the longest token', tokenBeforeActivation.exp);
    await runAt('retirement', due + tokenMaxTtl + RETIRE_GRACE_MS);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('signs with the bootstrapped key until the rotation is due', () => {
    expect(signingKid(stage('publish-next'))).toBe(oldKid);
    expect(signingKid(stage('one millisecond before activation'))).toBe(oldKid);
  });

  it('publishes the next key publishLead before the rotation is due', () => {
    expect(jwksKids(stage('bootstrap').snapshot)).not.toContain(newKid);
    expect(jwksKids(stage('publish-next').snapshot)).toContain(newKid);
  });

  it('has the next key in the JWKS a full publishLead before it signs with it', () => {
    const firstPublished = stages.find((s) => jwksKids(s.snapshot).includes(newKid))!;
    const firstSigning = stages.find((s) => signingKid(s) === newKid)!;
    expect(firstSigning.at - firstPublished.at).toBeGreaterThanOrEqual(h.service.policy.publishLead);
  });

  it('signs with the next key once the rotation is due', async () => {
    expect(signingKid(stage('activation'))).toBe(newKid);
    const verified = await verifyJwt(stage('activation').snapshot, tokenAfterActivation.jwt, { algorithms: ['ES256'], now: tokenAfterActivation.iat });
    expect(verified.kid).toBe(newKid);
  });

  it('keeps verifying a token signed just before publish-next, in every later snapshot, until its exp', async () => {
    const live = stages.filter((s) => s.at >= tokenBeforePublish.iat && s.at < tokenBeforePublish.exp);
    expect(live.map((s) => s.name)).toEqual(['publish-next', 'one millisecond before activation']);
    for (const s of live) {
      const verified = await verifyJwt(s.snapshot, tokenBeforePublish.jwt, { algorithms: ['ES256'], now: s.at });
      expect(verified.kid).toBe(oldKid);
    }
  });

  it('keeps verifying a token signed just before activation, in every later snapshot, until its exp', async () => {
    const live = stages.filter((s) => s.at >= tokenBeforeActivation.iat && s.at < tokenBeforeActivation.exp);
    expect(live.map((s) => s.name)).toEqual(['activation', 'last second of the longest token']);
    for (const s of live) {
      const verified = await verifyJwt(s.snapshot, tokenBeforeActivation.jwt, { algorithms: ['ES256'], now: s.at });
      expect(verified.kid).toBe(oldKid);
    }
  });

  it('refuses that token from its exp on', async () => {
    const s = stage('expiry of the longest token');
    await expectKeygateError(verifyJwt(s.snapshot, tokenBeforeActivation.jwt, { algorithms: ['ES256'], now: s.at }), 'token_invalid');
  });

  it('keeps the old key in the JWKS until the longest token it signed has expired', () => {
    for (const s of stages.filter((x) => x.at <= tokenBeforeActivation.exp)) expect(jwksKids(s.snapshot)).toContain(oldKid);
  });

  it('removes the old key from the JWKS and from the verifiers once it is retired', async () => {
    const s = stage('retirement');
    expect(jwksKids(s.snapshot)).not.toContain(oldKid);
    expect(s.snapshot.verificationKeys.has(oldKid)).toBe(false);
    expect((await h.service.get(oldKid)).state).toBe('retired');
  });

  it('keeps the new key signing and published after the old one retired', () => {
    const s = stage('retirement');
    expect(signingKid(s)).toBe(newKid);
    expect(jwksKids(s.snapshot)).toContain(newKid);
  });

  it('rotates every managed slot on the same schedule', async () => {
    const after = await activeBySlot();
    for (const slot of h.service.policy.managedSlots) {
      const key = `${slot.use}:${slot.alg}`;
      expect(after.get(key)).toBeDefined();
      expect(after.get(key)).not.toBe(slotsBefore.get(key));
      expect((await h.service.get(slotsBefore.get(key)!)).state).toBe('retired');
    }
  });
});

describe.each(STORE_KINDS)('a next key created in a slot that has no active key (%s)', (kind) => {
  let h: KeyHarness;
  let kid: string;

  beforeAll(async () => {
    h = await openKeyHarness(kind, { policy: { ...TEST_POLICY, managedSlots: [] } });
    kid = (await h.service.create({ alg: 'ES384' }, 'test')).kid;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is published at once but does not sign until a full publishLead has passed', async () => {
    await h.service.runSchedule();
    h.clock.advance(h.service.policy.publishLead - 1);
    await h.service.runSchedule();
    const snapshot = await h.snapshot();
    expect(jwksKids(snapshot)).toContain(kid);
    expect(snapshot.signingKeys.has('ES384')).toBe(false);
    expect((await h.service.get(kid)).state).toBe('next');
  });

  it('is activated by the scheduler once publishLead has passed', async () => {
    h.clock.advance(1);
    await h.service.runSchedule();
    expect((await h.snapshot()).signingKeys.get('ES384')?.kid).toBe(kid);
  });
});
