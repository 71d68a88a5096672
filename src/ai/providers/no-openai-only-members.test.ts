import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../chat-types.js';
import { ProviderCallError } from '../provider-call.js';
import { PROVIDER_ADAPTERS, type CallContext } from './index.js';

const asking = (members: Record<string, unknown>) => ({ model: 'm', messages: [{ role: 'user', content: 'Hello' }], ...members }) as unknown as ChatRequest;

function ctx(type: string): CallContext {
  const secret = type === 'bedrock' ? 'AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG' : 'k';
  return { provider: { name: `${type}-test`, type, baseUrl: 'http://127.0.0.1:9', region: 'us-east-1' }, credential: { id: 'k1', secret }, model: 'm', stream: false, now: Date.UTC(2026, 10, 29) };
}

/** The refusal the provider's call makes of `members`, or undefined when it makes the call. */
function refusalOf(type: string, members: Record<string, unknown>): { param?: string | null; code: string | null; retryable: boolean } | undefined {
  try {
    PROVIDER_ADAPTERS.get(type)!.chatCall(asking(members), ctx(type));
    return undefined;
  } catch (error) {
    if (!(error instanceof ProviderCallError)) throw error;
    return error.failure;
  }
}

describe('what only OpenAI-format hosts give, asked of a provider without a counterpart', () => {
  const types = ['anthropic', 'gemini', 'bedrock', 'mistral', 'cohere', 'ollama'];

  it.each(types)('%s refuses spoken audio, a web search and token biases with a 400 naming each, which the next target may take', (type) => {
    for (const [members, param] of [
      [{ modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' } }, 'audio'],
      [{ modalities: ['audio'] }, 'modalities'],
      [{ web_search_options: { search_context_size: 'low' } }, 'web_search_options'],
      [{ logit_bias: { '1234': -100 } }, 'logit_bias'],
    ] as const) {
      expect(refusalOf(type, members), JSON.stringify(members)).toMatchObject({ status: 400, code: 'unsupported_parameter', param, retryable: true });
    }
  });

  it.each(types)('%s takes a request that asks for text only, no search and no bias', (type) => {
    expect(refusalOf(type, { modalities: ['text'], audio: null, web_search_options: null, logit_bias: {} })).toBeUndefined();
  });

  it('passes them to an OpenAI-format host as they are', () => {
    const body = String(PROVIDER_ADAPTERS.get('openai')!.chatCall(asking({ web_search_options: {}, logit_bias: { '1234': -100 } }), ctx('openai')).body);
    expect(JSON.parse(body)).toMatchObject({ web_search_options: {}, logit_bias: { '1234': -100 } });
  });
});
