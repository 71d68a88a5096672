import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, createTestDatabase, type TestDatabase } from '../../test/databases.js';
import { ManualClock } from '../clock.js';
import { openStore, type Store } from '../store/index.js';
import { ChangeNotices } from './change-notices.js';
import { LeaderLease } from './leader-lease.js';

describe.each(STORE_KINDS)('cluster coordination through the store (%s)', (kind) => {
  let db: TestDatabase;
  let a: Store;
  let b: Store;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    a = await openStore(db.url);
    b = await openStore(db.url);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('a lease has one holder at a time, and passes to another node only once it expires', async () => {
    const clock = new ManualClock();
    const first = new LeaderLease(a, 'job', 60_000, clock);
    const second = new LeaderLease(b, 'job', 60_000, clock);
    const results = await Promise.all([first.acquire(), second.acquire()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const [holder, other] = results[0] ? [first, second] : [second, first];
    expect(await holder.acquire()).toBe(true);
    expect(await other.acquire()).toBe(false);
    clock.advance(60_001);
    expect(await other.acquire()).toBe(true);
    expect(await holder.acquire()).toBe(false);
  });

  it('a released lease can be taken at once', async () => {
    const clock = new ManualClock();
    const first = new LeaderLease(a, 'released', 60_000, clock);
    const second = new LeaderLease(b, 'released', 60_000, clock);
    expect(await first.acquire()).toBe(true);
    await first.release();
    expect(await second.acquire()).toBe(true);
  });

  it('a change committed through one store handle is noticed by a node polling through another', async () => {
    const seen: number[] = [];
    const notices = new ChangeNotices({ store: b, interval: 60_000, listener: async (v) => void seen.push(v), onError: () => undefined });
    notices.start(await b.version());
    const { version } = await a.change({ actor: 'test', action: 'test.change', target: 'x' }, Date.now(), async () => undefined);
    await notices.poll();
    notices.stop();
    expect(seen).toEqual([version]);
  });

  it('a change whose application failed is applied on the next poll, whether it was polled or announced', async () => {
    const attempts: number[] = [];
    let failNext = 2;
    const errors: unknown[] = [];
    const notices = new ChangeNotices({
      store: b,
      interval: 60_000,
      listener: async (v) => {
        attempts.push(v);
        if (failNext-- > 0) throw new Error('the compile lost its connection');
      },
      onError: (error) => errors.push(error),
    });
    notices.start(await b.version());
    const polled = await a.change({ actor: 'test', action: 'test.change', target: 'x' }, Date.now(), async () => undefined);
    await notices.poll();
    expect(errors).toHaveLength(1);
    await notices.poll();
    expect(errors).toHaveLength(2);
    await notices.poll();
    await notices.poll();
    expect(attempts).toEqual([polled.version, polled.version, polled.version]);

    const announced = await a.change({ actor: 'test', action: 'test.change', target: 'y' }, Date.now(), async () => undefined);
    failNext = 1;
    await expect(notices.announce(announced.version)).rejects.toThrow('the compile lost its connection');
    await notices.poll();
    await notices.poll();
    notices.stop();
    expect(attempts.slice(3)).toEqual([announced.version, announced.version]);
  });

  it('a change that fails leaves neither its audit row nor a new version behind', async () => {
    const before = await a.version();
    const audits = await a.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await expect(a.change({ actor: 'test', action: 'test.fail', target: 'x' }, Date.now(), async () => {
      throw new Error('work failed');
    })).rejects.toThrow('work failed');
    expect(await a.version()).toBe(before);
    const after = await a.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(audits.n));
  });
});
