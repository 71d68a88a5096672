import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMasterKeyText } from '../src/keys/index.js';
import { AiGateway, type AiConfig } from './ai-fixtures.js';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from './databases.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

/** Cloudflare AI Gateway's token: a credential header's value, sealed at rest, sent on every call. */
const GATEWAY_TOKEN = 'cf-aig-token-4f1d2c3b5a69';
const HELLO = [{ role: 'user', content: 'Hello' }];

describe.each(STORE_KINDS)('AI providers\' credential headers in a %s store', (kind) => {
  let emulator: OpenAIEmulator;
  let database: TestDatabase;
  let env: Record<string, string>;
  let node: AiGateway;
  let apiKey: string;
  const warnings: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });

  const ai = (): AiConfig => ({
    providers: [{ name: 'cloudflare', type: 'openai', baseUrl: emulator.url, headers: { 'cf-aig-authorization': `Bearer ${GATEWAY_TOKEN}`, 'openai-organization': 'org-acme' } }],
  });

  /**
   * Every text the store holds of the config and its changes, read past Keygate: the SQLite file's bytes (its
   * write-ahead log too), or PostgreSQL's config and audit rows.
   */
  async function storedText(): Promise<string> {
    if (kind === 'sqlite') {
      const file = database.url.slice('sqlite:'.length);
      return [file, `${file}-wal`].filter((path) => existsSync(path)).map((path) => readFileSync(path).toString('latin1')).join('\n');
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ text: string }>(`select string_agg(t::text, E'\\n') as text from (select c::text as t from config_sections c union all select a::text from audit_log a) rows`);
      return rows[0]!.text;
    } finally {
      await client.end();
    }
  }

  /** The `ai` section's row, parsed, as the store holds it. */
  async function storedAi(): Promise<{ providers: Array<{ headers: Record<string, unknown> }> }> {
    const row = await node.gateway.store.db.selectFrom('config_sections').select('spec').where('name', '=', 'ai').executeTakeFirstOrThrow();
    return JSON.parse(row.spec) as { providers: Array<{ headers: Record<string, unknown> }> };
  }

  async function sentToken(): Promise<string | string[] | undefined> {
    const result = await node.chat(apiKey, { model: 'cloudflare/gpt-4o-mini', messages: HELLO });
    expect(result.status, result.text).toBe(200);
    return emulator.lastRequest()!.headers['cf-aig-authorization'];
  }

  beforeAll(async () => {
    emulator = await startOpenAIEmulator();
    database = await createTestDatabase(kind);
    // The master key in the environment: a node started again on the store, from another data folder, opens it.
    env = { KEYGATE_DATABASE_URL: database.url, KEYGATE_MASTER_KEY: newMasterKeyText() };
    node = await AiGateway.start({ env, logger });
    await node.configure(ai());
    await node.addProviderKey('cloudflare', 'test-openai-key');
    apiKey = await node.createApp({ name: 'at-rest-app', team: 'at-rest-team' });
  });
  afterAll(async () => {
    await node?.stop();
    await database?.drop();
    await emulator?.stop();
  });

  it('stores the value sealed under the master key: nothing the store holds has it in clear', async () => {
    expect(await storedText()).not.toContain(GATEWAY_TOKEN);
    const { headers } = (await storedAi()).providers[0]!;
    const sealed = headers['cf-aig-authorization'] as { protected: string };
    expect(JSON.parse(Buffer.from(sealed.protected, 'base64url').toString('utf8'))).toEqual({ alg: 'dir', enc: 'A256GCM' });
    expect(headers['openai-organization']).toBe('org-acme');
  });

  it('sends the value on every call', async () => {
    expect(await sentToken()).toBe(`Bearer ${GATEWAY_TOKEN}`);
    expect(emulator.lastRequest()!.headers['openai-organization']).toBe('org-acme');
  });

  it('shows it as [redacted], and an export applied again keeps the value, still sealed', async () => {
    const exported = await node.admin<{ ai: AiConfig }>(200, 'GET', '/config');
    expect(exported.ai.providers[0]!.headers).toEqual({ 'cf-aig-authorization': '[redacted]', 'openai-organization': 'org-acme' });
    await node.admin(200, 'PUT', '/config', exported);
    expect(await storedText()).not.toContain(GATEWAY_TOKEN);
    expect(await sentToken()).toBe(`Bearer ${GATEWAY_TOKEN}`);
  });

  it('leaves out a sealed value that does not open, naming its provider and header, and goes on serving', async () => {
    const stored = await storedAi();
    const headers = stored.providers[0]!.headers;
    // Moved to another header, as an edit of the row would: bound to its own header, it no longer opens.
    stored.providers[0]!.headers = { 'x-api-key': headers['cf-aig-authorization'], 'openai-organization': headers['openai-organization'] };
    await node.gateway.store.db.updateTable('config_sections').set({ spec: JSON.stringify(stored) }).where('name', '=', 'ai').execute();
    await node.gateway.catalog.putTeam({ name: 'another-team' }, 'test');
    expect(warnings.filter((line) => line.header !== undefined)).toEqual([expect.objectContaining({ provider: 'cloudflare', header: 'x-api-key', msg: expect.stringContaining('does not open under this master key') })]);
    expect(await sentToken()).toBeUndefined();
    expect(emulator.lastRequest()!.headers['x-api-key']).toBeUndefined();
    expect(JSON.stringify(warnings)).not.toContain(GATEWAY_TOKEN);
  });

  it('keeps a sealed value that does not open through a change to something else, and warns of it again', async () => {
    const before = warnings.filter((line) => line.header !== undefined).length;
    await node.gateway.config.putService({ name: 'unrelated', targets: [{ url: 'http://127.0.0.1:9' }] } as never, 'test');
    expect(Object.keys((await storedAi()).providers[0]!.headers)).toContain('x-api-key');
    expect(warnings.filter((line) => line.header !== undefined).length).toBeGreaterThan(before);
    await node.gateway.config.deleteService('unrelated', 'test');
  });

  it('seals, when a node starts, a value an earlier release stored in clear, and sends it as before', async () => {
    await node.gateway.store.db.updateTable('config_sections').set({ spec: JSON.stringify(ai()) }).where('name', '=', 'ai').execute();
    await node.stop();
    node = await AiGateway.start({ env, logger });
    const stored = await storedAi();
    expect(stored.providers[0]!.headers['cf-aig-authorization']).toMatchObject({ protected: expect.any(String), ciphertext: expect.any(String) });
    expect(JSON.stringify(stored)).not.toContain(GATEWAY_TOKEN);
    expect(await sentToken()).toBe(`Bearer ${GATEWAY_TOKEN}`);
  });
});
