import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { ADMIN_TOKEN, AI_ROUTE, AiGateway, PROVIDER_SECRETS } from './ai-fixtures.js';
import { startAnthropicEmulator, type AnthropicEmulator } from './emulators/anthropic.js';

/**
 * A config a node stored before applying one began to refuse `reasoningBack` on types that never send reasoning
 * back: the node still starts from it, leaves the setting out with a warning, and applying it again is refused.
 */
describe('an AI config stored with reasoningBack on an anthropic provider', () => {
  const warnings: Array<Record<string, unknown>> = [];
  let anthropic: AnthropicEmulator;
  let node: Gateway;
  let dataDir: string;
  let apiKey: string;
  const storedAi = { providers: [{ name: 'claude', type: 'anthropic', baseUrl: '', reasoningBack: true }] };

  beforeAll(async () => {
    anthropic = await startAnthropicEmulator();
    const first = await AiGateway.start();
    dataDir = first.dataFolder;
    await first.configure({ providers: [{ name: 'claude', type: 'anthropic', baseUrl: anthropic.url }] });
    await first.addProviderKey('claude', PROVIDER_SECRETS.anthropic);
    apiKey = await first.createApp({ name: 'stored-app', team: 'stored-team' });
    // As a release before the rule stored it.
    storedAi.providers[0]!.baseUrl = anthropic.url;
    await first.gateway.store.db.updateTable('config_sections').set({ spec: JSON.stringify(storedAi) }).where('name', '=', 'ai').execute();
    await first.gateway.stop();
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
    const settings = loadSettings({ KEYGATE_DATA_DIR: dataDir, KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN, KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1' });
    node = await startGateway(settings, { logger, timers: false });
  });
  afterAll(async () => {
    await node?.stop();
    if (dataDir) rmSync(dirname(dataDir), { recursive: true, force: true });
    await anthropic?.stop();
  });

  it('starts, serving the provider as though the setting were not there', async () => {
    expect(node.snapshot().ai.providers.get('claude')?.config.reasoningBack).toBe(false);
    const response = await fetch(`${node.proxyUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude/claude-haiku-4-5-20251001', messages: [{ role: 'user', content: 'Hello' }] }),
    });
    expect(response.status).toBe(200);
  });

  it('warns once, naming the provider and the setting and no secret', () => {
    const ignored = warnings.filter((line) => line.setting === 'reasoningBack');
    expect(ignored).toHaveLength(1);
    expect(ignored[0]).toMatchObject({ provider: 'claude', setting: 'reasoningBack', msg: expect.stringContaining('AI provider setting ignored') });
    expect(JSON.stringify(warnings)).not.toContain(PROVIDER_SECRETS.anthropic);
  });

  it('does not warn again when the node recompiles for another change, but does when the entry stored changes', async () => {
    const told = () => warnings.filter((line) => line.setting === 'reasoningBack').length;
    const before = node.snapshot().version;
    await node.catalog.putTeam({ name: 'another-team' }, 'test');
    await node.sync();
    expect(node.snapshot().version).toBeGreaterThan(before);
    expect(told()).toBe(1);
    // The same entry with another value, as a release before the rule might have stored it, then any change.
    await node.store.db.updateTable('config_sections').set({ spec: JSON.stringify({ providers: [{ ...storedAi.providers[0], reasoningBack: false }] }) }).where('name', '=', 'ai').execute();
    await node.catalog.putTeam({ name: 'a-third-team' }, 'test');
    await node.sync();
    expect(told()).toBe(2);
    expect(node.snapshot().ai.providers.get('claude')?.config.reasoningBack).toBe(false);
  });

  it('still refuses the setting when the config is applied again', async () => {
    const response = await fetch(`${node.adminUrl}/config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ version: 1, routes: [AI_ROUTE], ai: storedAi }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/^ai\.providers\[0\]\.reasoningBack: /);
  });
});
