import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, PROVIDER_SECRETS, type AiConfig } from './ai-fixtures.js';
import { startAnthropicEmulator, type AnthropicEmulator } from './emulators/anthropic.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

const HELLO = [{ role: 'user', content: 'Hello' }];
/** A gateway token in front of the host (Cloudflare AI Gateway's, say): a credential header, sealed at rest. */
const GATEWAY_TOKEN = 'gw-token-8d41c7e2b9';

/**
 * Provider headers named as providers' docs spell them (`OpenAI-Organization`, `X-API-Key`): HTTP field names are
 * case-insensitive (RFC 9110 §5.1), so one named `AUTHORIZATION` is the pooled key's header, which wins over it.
 */
describe('provider headers named in capitals', () => {
  let vllm: OpenAIEmulator;
  let claude: AnthropicEmulator;
  let node: AiGateway;
  let apiKey: string;

  const ai = (vllmHeaders: Record<string, string>): AiConfig => ({
    providers: [
      { name: 'vllm', type: 'openai-compatible', baseUrl: vllm.url, headers: vllmHeaders },
      { name: 'claude', type: 'anthropic', baseUrl: claude.url, headers: { 'X-API-KEY': 'static', 'Anthropic-Beta': 'files-api-2025-04-14' } },
    ],
  });

  /** The `ai` section's row, parsed, as the store holds it. */
  async function storedAi(): Promise<{ providers: Array<{ name: string; headers?: Record<string, unknown> }> }> {
    const row = await node.gateway.store.db.selectFrom('config_sections').select('spec').where('name', '=', 'ai').executeTakeFirstOrThrow();
    return JSON.parse(row.spec) as { providers: Array<{ name: string; headers?: Record<string, unknown> }> };
  }

  async function vllmHeaders(): Promise<Record<string, string | string[] | undefined>> {
    const result = await node.chat(apiKey, { model: 'vllm/llama', messages: HELLO });
    expect(result.status, result.text).toBe(200);
    return vllm.lastRequest()!.headers;
  }

  beforeAll(async () => {
    vllm = await startOpenAIEmulator();
    claude = await startAnthropicEmulator();
    node = await AiGateway.start();
    await node.configure(ai({ AUTHORIZATION: 'Basic c3RhdGlj', 'OpenAI-Organization': 'org-acme', 'X-Gw-Token': GATEWAY_TOKEN }));
    await node.addProviderKey('vllm', PROVIDER_SECRETS.openai);
    await node.addProviderKey('claude', PROVIDER_SECRETS.anthropic);
    apiKey = await node.createApp({ name: 'header-names-app', team: 'header-names-team' });
  });
  afterAll(async () => {
    await node?.stop();
    await vllm?.stop();
    await claude?.stop();
  });

  it('sends the pooled key as Authorization: Bearer, not a configured AUTHORIZATION, and the other headers as configured', async () => {
    const headers = await vllmHeaders();
    expect(headers.authorization).toBe(`Bearer ${PROVIDER_SECRETS.openai}`);
    expect(headers['openai-organization']).toBe('org-acme');
    expect(headers['x-gw-token']).toBe(GATEWAY_TOKEN);
  });

  it('sends the pooled key alone in x-api-key, not joined with a configured X-API-KEY', async () => {
    const result = await node.chat(apiKey, { model: 'claude/claude-haiku-4-5-20251001', messages: HELLO });
    expect(result.status, result.text).toBe(200);
    expect(claude.lastRequest()!.headers['x-api-key']).toBe(PROVIDER_SECRETS.anthropic);
    expect(claude.lastRequest()!.headers['anthropic-beta']).toBe('files-api-2025-04-14');
  });

  it('stores and exports the names in lower case, as they are sent', async () => {
    expect(Object.keys((await storedAi()).providers[0]!.headers!)).toEqual(['authorization', 'openai-organization', 'x-gw-token']);
    const exported = await node.admin<{ ai: AiConfig }>(200, 'GET', '/config');
    expect(exported.ai.providers[0]!.headers).toEqual({ authorization: '[redacted]', 'openai-organization': 'org-acme', 'x-gw-token': '[redacted]' });
  });

  it('keeps the stored value of a [redacted] header that a file names in another case', async () => {
    const exported = await node.admin<{ version: 1; routes: unknown[]; ai: AiConfig }>(200, 'GET', '/config');
    await node.admin(200, 'PUT', '/config', { ...exported, ai: { ...exported.ai, providers: [{ ...exported.ai.providers[0]!, headers: { 'OpenAI-Organization': 'org-acme', 'X-GW-TOKEN': '[redacted]' } }, exported.ai.providers[1]!] } });
    expect((await vllmHeaders())['x-gw-token']).toBe(GATEWAY_TOKEN);
  });

  it('keeps the stored value of a [redacted] header that an earlier release stored, and sealed, under a name in capitals', async () => {
    // As a release that let such names through stored it: in clear, then sealed under its name as stored.
    const stored = await storedAi();
    stored.providers[0]!.headers = { 'X-Gw-Token': GATEWAY_TOKEN };
    await node.gateway.store.db.updateTable('config_sections').set({ spec: JSON.stringify(stored) }).where('name', '=', 'ai').execute();
    expect(await node.gateway.config.sealCredentialsInClear('test')).toBe(true);
    expect((await vllmHeaders())['x-gw-token']).toBe(GATEWAY_TOKEN);
    const exported = await node.admin<{ version: 1; routes: unknown[]; ai: AiConfig }>(200, 'GET', '/config');
    expect(exported.ai.providers[0]!.headers).toEqual({ 'X-Gw-Token': '[redacted]' });
    await node.admin(200, 'PUT', '/config', { ...exported, ai: { ...exported.ai, providers: [{ ...exported.ai.providers[0]!, headers: { 'x-gw-token': '[redacted]' } }, exported.ai.providers[1]!] } });
    expect(Object.keys((await storedAi()).providers[0]!.headers!)).toEqual(['x-gw-token']);
    expect((await vllmHeaders())['x-gw-token']).toBe(GATEWAY_TOKEN);
  });

  it('refuses two names that differ only in case, naming both, and changes nothing', async () => {
    const refused = await node.admin<{ error: { code: string; message: string } }>(400, 'PUT', '/config', { version: 1, ai: ai({ 'X-Org': 'a', 'x-org': 'b' }) });
    expect(refused.error).toEqual({ code: 'invalid_config', message: 'ai.providers[0].headers: "X-Org" and "x-org" name the same header (header names are case-insensitive); keep one' });
    expect((await vllmHeaders())['x-gw-token']).toBe(GATEWAY_TOKEN);
  });
});
