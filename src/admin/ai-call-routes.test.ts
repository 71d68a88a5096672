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

  it('finds a call by its request id through an index, without reading every record', async () => {
    database = await createTestDatabase(kind);
    store = await openStore(database.url);
    for (let i = 0; i < 4_000; i += 500) await store.appendUsage(Array.from({ length: 500 }, (_, j) => record(i + j)));
    await store.db.executeQuery(CompiledQuery.raw('ANALYZE'));
    const compiled = callsQuery(store.db, { requestId: 'req-1234' }, 50).compile();
    expect((await callsQuery(store.db, { requestId: 'req-1234' }, 50).execute()).map((r) => r.request_id)).toEqual(['req-1234']);
    const plan = await store.db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(`EXPLAIN ${kind === 'sqlite' ? 'QUERY PLAN ' : ''}${compiled.sql}`, [...compiled.parameters]));
    const text = plan.rows.map((row) => String(row.detail ?? row['QUERY PLAN'])).join('\n');
    expect(text).toContain('ai_usage_request_id');
  });
});
