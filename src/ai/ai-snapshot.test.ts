import { describe, expect, it } from 'vitest';
import { compileAiSnapshot, resolveModel, type AiTarget } from './ai-snapshot.js';
import { PROVIDER_ADAPTERS } from './providers/index.js';
import { isCredentialHeader } from './secret-redaction.js';

const asIs = (targets: readonly AiTarget[]) => [...targets];

describe('resolving a requested model name', () => {
  it('answers each snapshot from its own providers, even for a name another snapshot already resolved', () => {
    const openai = compileAiSnapshot({ providers: [{ name: 'main', type: 'openai' }] }, new Map());
    const anthropic = compileAiSnapshot({ providers: [{ name: 'main', type: 'anthropic' }] }, new Map());
    for (let round = 0; round < 2; round++) {
      expect(resolveModel(openai, 'gpt-4o-mini', asIs)).toEqual([{ provider: 'main', model: 'gpt-4o-mini', weight: 1 }]);
      expect(resolveModel(anthropic, 'gpt-4o-mini', asIs)).toBeUndefined();
      expect(resolveModel(anthropic, 'claude-haiku-4-5-20251001', asIs)).toEqual([{ provider: 'main', model: 'claude-haiku-4-5-20251001', weight: 1 }]);
      expect(resolveModel(openai, 'no-such-model', asIs)).toBeUndefined();
      expect(resolveModel(openai, 'main/anything', asIs)).toEqual([{ provider: 'main', model: 'anything', weight: 1 }]);
    }
  });

  it('resolves no provider/model name whose model id has a `.` or `..` segment', () => {
    const ai = compileAiSnapshot({ providers: [{ name: 'gemini', type: 'gemini' }] }, new Map());
    for (const name of ['gemini/..', 'gemini/.', 'gemini/../../x', 'gemini/models/./x', 'gemini/tunedModels/..']) expect(resolveModel(ai, name, asIs)).toBeUndefined();
    expect(resolveModel(ai, 'gemini/tunedModels/my..model.v2', asIs)).toEqual([{ provider: 'gemini', model: 'tunedModels/my..model.v2', weight: 1 }]);
  });

  it('picks among an alias\'s targets on every call, not once', () => {
    const ai = compileAiSnapshot(
      {
        providers: [{ name: 'a', type: 'openai' }, { name: 'b', type: 'openai' }],
        aliases: [{ name: 'chat', targets: [{ provider: 'a', model: 'gpt-4o-mini' }, { provider: 'b', model: 'gpt-4o-mini' }] }],
      },
      new Map(),
    );
    let calls = 0;
    const rotate = (targets: readonly AiTarget[]) => (calls++ % 2 === 0 ? [...targets] : [...targets].reverse());
    const firsts = [0, 1, 2, 3].map(() => resolveModel(ai, 'chat', rotate)![0]!.provider);
    expect(firsts).toEqual(['a', 'b', 'a', 'b']);
  });

  it('leaves out a target and a fallback of weight 0, drained', () => {
    const ai = compileAiSnapshot(
      {
        providers: [{ name: 'a', type: 'openai' }, { name: 'b', type: 'openai' }],
        aliases: [{ name: 'chat', targets: [{ provider: 'a', model: 'gpt-4o-mini' }, { provider: 'b', model: 'gpt-4o-mini', weight: 0 }], fallbacks: [{ provider: 'b', model: 'gpt-4o', weight: 0 }, { provider: 'a', model: 'gpt-4o' }] }],
      },
      new Map(),
    );
    expect(resolveModel(ai, 'chat', (targets) => [...targets])).toEqual([
      { provider: 'a', model: 'gpt-4o-mini', weight: 1, alias: 'chat', rotation: 'chat\na/gpt-4o-mini' },
      { provider: 'a', model: 'gpt-4o', weight: 1, alias: 'chat' },
    ]);
  });

  it("gives each alias's targets a place in the weighted rotation of their own, though another alias shares their models", () => {
    const target = { provider: 'a', model: 'gpt-4o-mini' };
    const ai = compileAiSnapshot({ providers: [{ name: 'a', type: 'openai' }], aliases: [{ name: 'one', targets: [target] }, { name: 'two', targets: [target] }] }, new Map());
    expect(ai.aliases.get('one')!.targets[0]!.rotation).not.toBe(ai.aliases.get('two')!.targets[0]!.rotation);
  });
});

describe('compiling a stored ai section', () => {
  it('ignores reasoningBack on a provider type that never sends reasoning back, and tells it once, with its value', () => {
    const ignored: Array<[string, string, unknown]> = [];
    const ai = compileAiSnapshot({ providers: [{ name: 'claude', type: 'anthropic', reasoningBack: true }, { name: 'titan', type: 'bedrock', region: 'us-east-1', reasoningBack: false }] }, new Map(), (provider, setting, value) => ignored.push([provider, setting, value]));
    expect(ai.providers.get('claude')?.config.reasoningBack).toBe(false);
    expect(ai.providers.get('titan')?.config.reasoningBack).toBe(false);
    expect(ignored).toEqual([
      ['claude', 'reasoningBack', true],
      ['titan', 'reasoningBack', false],
    ]);
  });

  it('keeps reasoningBack on the types that send reasoning back, telling nothing', () => {
    const ignored: string[] = [];
    const ai = compileAiSnapshot(
      { providers: [{ name: 'oai', type: 'openai', reasoningBack: true }, { name: 'ds', type: 'openai-compatible', baseUrl: 'https://api.deepseek.com', reasoningBack: false }] },
      new Map(),
      (provider) => ignored.push(provider),
    );
    expect(ai.providers.get('oai')?.config.reasoningBack).toBe(true);
    expect(ai.providers.get('ds')?.config.reasoningBack).toBe(false);
    expect(ignored).toEqual([]);
  });
});

describe("a provider's configured headers, named in another case", () => {
  /** Spelt as providers' docs and older stored configs spell them: each the credential header of one adapter or another. */
  const configured = { AUTHORIZATION: 'Basic c3RhdGlj', 'X-API-KEY': 'static', 'X-Goog-Api-Key': 'static', 'Api-Key': 'static', 'OpenAI-Organization': 'org-acme' };
  const sent = (type: string, headers?: Record<string, string>) => {
    const spec = { name: 'p', type, baseUrl: 'http://127.0.0.1:1', region: 'us-east-1', headers };
    const provider = compileAiSnapshot({ providers: [spec] }, new Map()).providers.get('p')!;
    const request = { model: 'm', messages: [{ role: 'user' as const, content: 'Hi' }] };
    return provider.adapter.chatCall(request, { provider: provider.config, credential: { id: 'k', secret: 'AKIDPOOLED:pooled-secret' }, model: 'm', stream: false, now: 0 }).headers;
  };

  it('are compiled in lower case', () => {
    expect(compileAiSnapshot({ providers: [{ name: 'p', type: 'openai', headers: configured }] }, new Map()).providers.get('p')!.config.headers).toEqual({
      authorization: 'Basic c3RhdGlj',
      'x-api-key': 'static',
      'x-goog-api-key': 'static',
      'api-key': 'static',
      'openai-organization': 'org-acme',
    });
  });

  it.each([...PROVIDER_ADAPTERS.keys()])('give way, on %s, to the credential header the adapter writes, which goes out once', (type) => {
    const own = sent(type);
    const headers = sent(type, configured);
    const names = Object.keys(headers).map((name) => name.toLowerCase());
    expect(new Set(names).size, names.join(' ')).toBe(names.length);
    for (const name of Object.keys(own).filter(isCredentialHeader)) {
      expect(headers[name], name).toBeDefined();
      expect(Object.values(configured), name).not.toContain(headers[name]);
    }
    expect(headers['openai-organization']).toBe('org-acme');
  });
});
