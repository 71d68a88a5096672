import { CompiledQuery } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from '../../test/databases.js';
import { openStore, type Store } from '../store/index.js';
import { callsQuery } from './ai-call-routes.js';

const record = (i: number) => ({
  at: Date.UTC(2026, 11, 1) + i, request_id: `req-${i}`, app: `app-${i % 7}`, team: null, route: 'ai', provider: 'openai', model: 'gpt-4o-mini',
  input_tokens: 10, output_tokens: 5, cached_tokens: 0, estimated: 0, cost_usd: 0.0001, latency_ms: 3, ttft_ms: null, status: 200, cache_hit: 0, record_key: `k-${i}`,
});

describe.each(STORE_KINDS)('the call log on %s', (kind) => {
  let database: TestDatabase | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    await database?.drop();
  });

  // Request ids are random (UUIDs, or the client's own): an index of them would put each usage row on a random page,
  // which measured 40-78 µs a row to write on SQLite past 100,000 rows against 6 without it. A look-up is bounded by
  // time instead, which reads the index of times.
  it('finds a call by its request id within a time range through the index of times, without reading every record', async () => {
    database = await createTestDatabase(kind);
    store = await openStore(database.url);
    for (let i = 0; i < 4_000; i += 500) await store.appendUsage(Array.from({ length: 500 }, (_, j) => record(i + j)));
    await store.db.executeQuery(CompiledQuery.raw('ANALYZE'));
    const filter = { requestId: 'req-1234', from: new Date(Date.UTC(2026, 11, 1) + 1_200).toISOString(), to: new Date(Date.UTC(2026, 11, 1) + 1_300).toISOString() };
    const compiled = callsQuery(store.db, filter, 50).compile();
    expect((await callsQuery(store.db, filter, 50).execute()).map((r) => r.request_id)).toEqual(['req-1234']);
    const plan = await store.db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(`EXPLAIN ${kind === 'sqlite' ? 'QUERY PLAN ' : ''}${compiled.sql}`, [...compiled.parameters]));
    const text = plan.rows.map((row) => String(row.detail ?? row['QUERY PLAN'])).join('\n');
    expect(text).toMatch(/ai_usage_(app_)?at/);
  });
});
