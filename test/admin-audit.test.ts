import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway } from './ai-fixtures.js';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from './databases.js';

interface Entry {
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown> | null;
}
interface Page {
  entries: Entry[];
  next: string | null;
}

const SECRET = 'sk-audit-never-shown-0123456789';

describe.each(STORE_KINDS)('the audit log on the admin API, on %s', (kind) => {
  let gateway: AiGateway;
  let db: TestDatabase;
  const audit = (query: Record<string, string> = {}) => gateway.admin<Page>(200, 'GET', `/audit?${new URLSearchParams(query).toString()}`);

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    gateway = await AiGateway.start({ env: { KEYGATE_DATABASE_URL: db.url } });
    await gateway.admin(200, 'PUT', '/teams/audited', { name: 'audited', budget: { dailyUsd: 10 } });
    await gateway.admin(200, 'PUT', '/teams/audited', { name: 'audited', budget: { dailyUsd: 20 } });
    await gateway.admin(200, 'PUT', '/apps/watched', { name: 'watched', team: 'audited' });
    await gateway.admin(201, 'POST', '/ai/providers/openai/keys', { secret: SECRET, label: 'main' });
    await gateway.admin(204, 'DELETE', '/apps/watched');
  });
  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
  });

  it('lists the changes newest first, with who made them, what to and when', async () => {
    const { entries, next } = await audit();
    expect(next).toBeNull();
    // A provider key is named by its pool and id (openai/<id>), never by its secret.
    const ours = entries.filter((e) => ['audited', 'watched'].includes(e.target) || e.target.startsWith('openai/'));
    expect(ours.map((e) => `${e.action} ${e.target.replace(/\/.*/, '/…')}`)).toEqual(['app.delete watched', 'provider_key.add openai/…', 'app.put watched', 'team.put audited', 'team.put audited']);
    expect(ours[0]!.actor).toMatch(/^admin@/);
    expect(Date.parse(ours[0]!.at)).toBeGreaterThanOrEqual(Date.parse(ours[4]!.at));
    // The whole log, keys' own entries included (the node's first keys), and no secret anywhere in it.
    expect(JSON.stringify(entries)).not.toContain(SECRET);
  });

  it('filters by action and target, and pages through the log once', async () => {
    expect((await audit({ action: 'team.put', target: 'audited' })).entries).toHaveLength(2);
    const all = (await audit()).entries;
    const seen: Entry[] = [];
    let query: Record<string, string> = { limit: '2' };
    for (let pages = 0; pages < 50; pages++) {
      const { entries, next } = await audit(query);
      seen.push(...entries);
      if (next === null) break;
      query = { limit: '2', before: next };
    }
    expect(seen).toEqual(all);
  });

  it('refuses a cursor it did not give, a limit out of range, an unknown filter and a from after its to with 400 invalid_request', async () => {
    for (const query of ['before=7', 'limit=0', 'limit=5000', 'kind=x', 'from=yesterday', 'from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z']) {
      const refused = await gateway.admin<{ error: { code: string } }>(400, 'GET', `/audit?${query}`);
      expect(refused.error.code, query).toBe('invalid_request');
    }
  });
});
