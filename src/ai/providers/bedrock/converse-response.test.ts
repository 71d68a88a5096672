import { describe, expect, it } from 'vitest';
import { ModelCatalog, costUsd } from '../../catalog/index.js';
import { ANTHROPIC_BLOCKS, CACHE_WRITES, WINDOW_EXCEEDED, type Usage } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { fromConverseResponse, usageOf } from './converse-response.js';

const catalog = ModelCatalog.shipped();

/** What a call with this usage costs at the model's shipped catalog entry, read as the AI handler reads it. */
function costAt(model: string, usage: Usage): number {
  const entry = catalog.priced('bedrock', model);
  expect(entry).toBeDefined();
  return costUsd(entry!, { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens, cachedInputTokens: usage.prompt_tokens_details?.cached_tokens, cacheWrites: usage[CACHE_WRITES] });
}

describe('usageOf, for a Converse answer', () => {
  it('counts cache reads and writes into the prompt tokens, the writes by TTL from cacheDetails and the rest as 5-minute entries', () => {
    const usage = usageOf({ inputTokens: 100, outputTokens: 50, cacheReadInputTokens: 500, cacheWriteInputTokens: 3_000, cacheDetails: [{ ttl: '1h', inputTokens: 2_000 }] });
    expect(usage).toMatchObject({ prompt_tokens: 3_600, completion_tokens: 50, total_tokens: 3_650, prompt_tokens_details: { cached_tokens: 500 } });
    expect(usage[CACHE_WRITES]).toMatchObject({ fiveMinute: 1_000, oneHour: 2_000 });
  });

  it("prices a Claude call's 5-minute and 1-hour cache writes at 1.25× and 2× the input price, as Bedrock bills Claude's", () => {
    const usage = usageOf({ inputTokens: 100, outputTokens: 50, cacheReadInputTokens: 500, cacheWriteInputTokens: 3_000, cacheDetails: [{ ttl: '1h', inputTokens: 2_000 }, { ttl: '5m', inputTokens: 1_000 }] });
    // Claude Sonnet 4.5 at $3 input, $0.30 cache read, $3.75 and $6 written for 5 minutes and an hour, $15 output:
    // 100 × 3 + 500 × 0.3 + 1,000 × 3.75 + 2,000 × 6 + 50 × 15 = 300 + 150 + 3,750 + 12,000 + 750 micro-dollars.
    expect(costAt('us.anthropic.claude-sonnet-4-5-20250929-v1:0', usage)).toBe(0.01695);
  });

  it("prices a Nova call's cache writes as input, no Nova write price having been found", () => {
    const usage = usageOf({ inputTokens: 100, outputTokens: 10, cacheWriteInputTokens: 1_000, cacheDetails: [{ ttl: '5m', inputTokens: 1_000 }] });
    // Nova 2 Lite at $0.30 input and $2.50 output: 1,100 × 0.3 + 10 × 2.5 = 330 + 25 micro-dollars.
    expect(costAt('amazon.nova-2-lite-v1:0', usage)).toBe(0.000355);
  });
});

describe('fromConverseResponse', () => {
  const ctx: CallContext = { provider: { name: 'bedrock', type: 'bedrock', baseUrl: '' }, credential: { id: 'k', secret: 'a:b' }, model: 'amazon.nova-lite-v1:0', stream: false, now: 0 };

  it.each([[{ message: 'ok' }], [{ output: {} }], [{ output: { message: { content: 'text' } } }]])('takes a 200 that is no Converse answer (%j) for a bad answer, not an empty completion', (body) => {
    expect(() => fromConverseResponse(body, ctx)).toThrow(ProviderCallError);
    try {
      fromConverseResponse(body, ctx);
    } catch (error) {
      expect((error as ProviderCallError).failure).toMatchObject({ status: 502, code: 'provider_bad_response', retryable: true });
    }
  });

  it.each(['malformed_model_output', 'malformed_tool_use'])('fails an answer Converse stopped with %s, retryably, with the tokens it billed, rather than passing it on as a stop', (stopReason) => {
    const body = { output: { message: { role: 'assistant', content: [{ text: 'Let me look that up.' }] } }, stopReason, usage: { inputTokens: 12, outputTokens: 7 } };
    expect(() => fromConverseResponse(body, ctx)).toThrow(
      expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_generation_failed', retryable: true }), billed: expect.objectContaining({ prompt_tokens: 12, completion_tokens: 7 }) }),
    );
  });

  it('keeps the blocks of an answer whose text came apart (text after a tool call), for an Anthropic client', () => {
    const content = [{ text: 'Let me check.' }, { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } }, { text: 'Checking now.' }];
    const message = fromConverseResponse({ output: { message: { role: 'assistant', content } }, stopReason: 'tool_use', usage: { inputTokens: 12, outputTokens: 7 } }, ctx).choices[0]!.message;
    expect(message[ANTHROPIC_BLOCKS]).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'text', text: 'Checking now.' },
    ]);
  });

  it('keeps no blocks of an answer of one text block, which OpenAI\'s shape holds whole', () => {
    const message = fromConverseResponse({ output: { message: { role: 'assistant', content: [{ text: 'Hi.' }] } }, stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1 } }, ctx).choices[0]!.message;
    expect(ANTHROPIC_BLOCKS in message).toBe(false);
  });

  it('says the context window ended an answer stopped with model_context_window_exceeded, beside the finish reason length', () => {
    const choice = fromConverseResponse({ output: { message: { role: 'assistant', content: [{ text: 'Cut' }] } }, stopReason: 'model_context_window_exceeded', usage: { inputTokens: 1, outputTokens: 1 } }, ctx).choices[0]!;
    expect(choice.finish_reason).toBe('length');
    expect(choice[WINDOW_EXCEEDED]).toBe(true);
  });
});
