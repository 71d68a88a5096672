import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from '../../test/databases.js';
import { TEST_POLICY } from '../../test/key-harness.js';
import { ManualClock } from '../clock.js';
import { openStore, type Store } from '../store/index.js';
import { KeyService, type KeyEvent } from './key-service.js';
import { loadMasterKey, newMasterKeyText } from './master-key.js';

/**
 * Holds each node's first write of a round until every node has reached one, so both schedulers decide from the
 * same state and the race is certain to happen, not merely likely.
 */
class StartLine {
  readonly #waiting = new Set<number>();
  readonly #passed = new Set<number>();
  readonly #all: Promise<void>;
  #release!: () => void;

  constructor(readonly runners: number) {
    this.#all = new Promise((resolve) => (this.#release = resolve));
  }

  async arrive(runner: number): Promise<void> {
    if (this.#passed.has(runner)) return;
    this.#waiting.add(runner);
    if (this.#waiting.size === this.runners) this.#release();
    await this.#all;
    this.#passed.add(runner);
  }
}

/** A node's view of the shared store: its writes wait at the start line, and the ones the store refuses are counted. */
function racingStore(store: Store, runner: number, round: () => StartLine, onRefused: (error: unknown) => void): Store {
  return {
    db: store.db,
    dialect: store.dialect,
    version: () => store.version(),
    appendUsage: (rows) => store.appendUsage(rows),
    close: () => store.close(),
    async change(record, at, work) {
      await round().arrive(runner);
      try {
        return await store.change(record, at, work);
      } catch (error) {
        onRefused(error);
        throw error;
      }
    },
  };
}

interface Node {
  store: Store;
  clock: ManualClock;
  service: KeyService;
  dataDir: string;
}

type SlotStates = Record<'active' | 'next' | 'retiring' | 'retired', string[]>;

/** The kids of each managed slot, by state. */
async function slots(store: Store): Promise<Map<string, SlotStates>> {
  const out = new Map<string, SlotStates>();
  for (const slot of TEST_POLICY.managedSlots) out.set(`${slot.use}:${slot.alg}`, { active: [], next: [], retiring: [], retired: [] });
  for (const row of await store.db.selectFrom('jwk_keys').selectAll().orderBy('kid').execute()) {
    out.get(`${row.use}:${row.alg}`)?.[row.state as keyof SlotStates]?.push(row.kid);
  }
  return out;
}

/** How many times the nodes together reported `action` for each slot. */
function countEvents(events: KeyEvent[], action: KeyEvent['action']): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const slot of TEST_POLICY.managedSlots) counts[`${slot.use}:${slot.alg}`] = 0;
  for (const e of events) if (e.action === action) counts[`${e.use}:${e.alg}`] = (counts[`${e.use}:${e.alg}`] ?? 0) + 1;
  return counts;
}

const eachSlot = (value: number): Record<string, number> => Object.fromEntries(TEST_POLICY.managedSlots.map((s) => [`${s.use}:${s.alg}`, value]));

describe.each(STORE_KINDS)('two nodes running the scheduler at once (%s)', (kind) => {
  let db: TestDatabase;
  let nodes: Node[];
  const seen = new Map<string, { slots: Map<string, SlotStates>; events: KeyEvent[]; refused: unknown[] }>();
  let startLine = new StartLine(2);
  let refused: unknown[] = [];
  const { rotationInterval, publishLead } = TEST_POLICY;

  /** Sets both nodes' clocks to `at` and runs both schedulers concurrently, as two nodes waking at once. */
  async function bothAt(name: string, at: number): Promise<void> {
    for (const node of nodes) node.clock.set(at);
    startLine = new StartLine(nodes.length);
    refused = [];
    const events = (await Promise.all(nodes.map((node, i) => node.service.runSchedule(`node-${i}`)))).flat();
    seen.set(name, { slots: await slots(nodes[0]!.store), events, refused });
  }
  const at = (name: string) => seen.get(name)!;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const masterKeyText = newMasterKeyText();
    // Each PostgreSQL node has its own connection pool. better-sqlite3 is synchronous, so a second connection in
    // this one process would block on a lock the first can never release; SQLite nodes share one handle here.
    const first = await openStore(db.url);
    const stores = [first, kind === 'postgres' ? await openStore(db.url) : first];
    nodes = await Promise.all(
      stores.map(async (store, i) => {
        const dataDir = mkdtempSync(join(tmpdir(), 'keygate-node-'));
        const master = await loadMasterKey(store, dataDir, masterKeyText);
        const clock = new ManualClock();
        const racing = racingStore(store, i, () => startLine, (error) => refused.push(error));
        return { store, clock, dataDir, service: new KeyService({ store: racing, masterKey: master.key, clock, policy: TEST_POLICY, onChange: async () => undefined }) };
      }),
    );

    const start = nodes[0]!.clock.now();
    const firstDue = start + rotationInterval;
    await bothAt('bootstrap', start);
    await bothAt('publish-next', firstDue - publishLead);
    await bothAt('activation', firstDue);
    // The second cycle: both nodes wake only when the rotation is already due, with no next key published yet.
    const secondDue = firstDue + rotationInterval;
    await bothAt('late wake-up', secondDue);
    await bothAt('late activation', secondDue + publishLead);
  });
  afterAll(async () => {
    for (const store of new Set(nodes?.map((n) => n.store))) await store.close();
    for (const node of nodes ?? []) rmSync(node.dataDir, { recursive: true, force: true });
    await db?.drop();
  });

  it('really races: every step one node took, the other node also tried and the store refused', () => {
    for (const [, { events, refused: lost }] of seen) {
      expect(events.length).toBeGreaterThan(0);
      expect(lost).toHaveLength(events.length);
    }
  });

  it('never has more than one active or one next key in a slot', () => {
    for (const [, { slots: bySlot }] of seen) {
      for (const states of bySlot.values()) {
        expect(states.active).toHaveLength(1);
        expect(states.next.length).toBeLessThanOrEqual(1);
      }
    }
  });

  it('creates exactly one key per slot when both bootstrap an empty store', () => {
    const { slots: bySlot, events } = at('bootstrap');
    for (const states of bySlot.values()) expect(states).toEqual({ active: [expect.any(String)], next: [], retiring: [], retired: [] });
    expect(countEvents(events, 'created')).toEqual(eachSlot(1));
  });

  it('publishes exactly one next key per slot when both reach the publish time', () => {
    const { slots: bySlot, events } = at('publish-next');
    for (const [slot, states] of bySlot) {
      expect(states.active).toEqual(at('bootstrap').slots.get(slot)!.active);
      expect(states.next).toHaveLength(1);
    }
    expect(countEvents(events, 'created')).toEqual(eachSlot(1));
  });

  it('activates the next key once per slot, and retires only the key it replaced, when both reach the due time', () => {
    const { slots: bySlot, events } = at('activation');
    for (const [slot, states] of bySlot) {
      const published = at('publish-next').slots.get(slot)!;
      expect(states).toEqual({ active: published.next, next: [], retiring: published.active, retired: [] });
    }
    expect(countEvents(events, 'activated')).toEqual(eachSlot(1));
    expect(countEvents(events, 'created')).toEqual(eachSlot(0));
  });

  it('publishes only one next key per slot when both wake after the due time with none published', () => {
    const { slots: bySlot, events } = at('late wake-up');
    for (const [slot, states] of bySlot) {
      expect(states.active).toEqual(at('activation').slots.get(slot)!.active);
      expect(states.next).toHaveLength(1);
    }
    expect(countEvents(events, 'created')).toEqual(eachSlot(1));
    expect(countEvents(events, 'activated')).toEqual(eachSlot(0));
  });

  it('then activates that key once per slot, a publishLead later', () => {
    const { slots: bySlot, events } = at('late activation');
    for (const [slot, states] of bySlot) {
      const late = at('late wake-up').slots.get(slot)!;
      expect(states.active).toEqual(late.next);
      expect(states.next).toEqual([]);
      expect(states.retiring).toEqual(late.active);
    }
    expect(countEvents(events, 'activated')).toEqual(eachSlot(1));
  });
});
