import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_SECRETS } from './ai-fixtures.js';
import { promptTokensFor, countTokens, startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';
import { startKeygate, type RunningKeygate } from './keygate-process.js';

const ADMIN = 'config-file-admin-token';

/**
 * The AI section of a config file, as `keygate start --config` reads it: a provider, an alias, and a catalog entry
 * of the file's own that prices a model no shipped entry knows (a self-hosted one, say).
 */
describe('the AI gateway configured by a file', () => {
  let lab: OpenAIEmulator;
  let node: RunningKeygate;
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${node.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    lab = await startOpenAIEmulator();
    const dir = mkdtempSync(join(tmpdir(), 'keygate-ai-config-'));
    const file = join(dir, 'keygate.yaml');
    writeFileSync(file, `version: 1
routes:
  - name: ai
    paths: ["/v1/*"]
    ai: {}
    auth: { methods: [api-key] }
ai:
  providers:
    - { name: lab, type: openai-compatible, baseUrl: "${lab.url}", catalog: lab }
  aliases:
    - { name: house, targets: [{ provider: lab, model: lab-model-1 }] }
  models:
    - id: lab-model-1
      provider: lab
      kind: chat
      contextWindow: 32768
      maxOutputTokens: 4096
      inputPerMillion: 2
      outputPerMillion: 6
      cachedInputPerMillion: null
      capabilities: [chat, streaming]
`);
    node = await startKeygate({ KEYGATE_ADMIN_TOKEN: ADMIN }, ['--config', file]);
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
    await lab?.stop();
  });

  it('lists the file\'s catalog entry beside the shipped ones', async () => {
    const { status, body } = await admin('GET', '/ai/catalog?provider=lab');
    expect(status).toBe(200);
    expect(body.models).toEqual([expect.objectContaining({ id: 'lab-model-1', provider: 'lab', inputPerMillion: 2, outputPerMillion: 6 })]);
  });

  it('prices a call to that model with the file\'s prices', async () => {
    expect((await admin('PUT', '/teams/research', { name: 'research' })).status).toBe(200);
    expect((await admin('PUT', '/apps/notebook', { name: 'notebook', team: 'research' })).status).toBe(200);
    const apiKey = (await admin('POST', '/apps/notebook/api-keys', {})).body.secret as string;
    expect((await admin('POST', '/ai/providers/lab/keys', { secret: PROVIDER_SECRETS.openai })).status).toBe(201);
    const response = await fetch(`${node.proxyUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'house', messages: [{ role: 'user', content: 'Hello there' }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-keygate-model')).toBe('lab-model-1');
    const input = promptTokensFor(lab.lastRequest()!.body);
    const output = countTokens('Echo: Hello there');
    expect(Number(response.headers.get('x-keygate-cost-usd'))).toBeCloseTo((input * 2 + output * 6) / 1_000_000, 9);
  });
});
