import { describe, expect, it } from 'vitest';
import type { CatalogModel } from '../catalog/index.js';
import { OUTPUT_CONFIG, THINKING, type ChatRequest } from '../chat-types.js';
import { THINKING_BUDGETS } from './anthropic/messages-request.js';
import { effortForBudget, reasoningEffortFor, thinkingAsked } from './client-thinking.js';

const request = (extra: Partial<ChatRequest>): ChatRequest => ({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], ...extra });

describe('an Anthropic-format client’s thinking, in other providers’ terms', () => {
  it('takes each effort the Anthropic adapter gives a budget back from that budget, xhigh as high', () => {
    expect((['low', 'medium', 'high'] as const).map((effort) => effortForBudget(THINKING_BUDGETS[effort]))).toEqual(['low', 'medium', 'high']);
    expect(effortForBudget(THINKING_BUDGETS.xhigh)).toBe('high');
  });

  it('gives a budget the highest effort whose budget it reaches', () => {
    expect([1, 1024, 2047, 2048, 4095, 4096, 31_999].map(effortForBudget)).toEqual(['low', 'low', 'low', 'medium', 'medium', 'high', 'high']);
  });

  it('reads what the client asked: nothing, off, a budget, an effort, or adaptive alone', () => {
    expect(thinkingAsked(request({}))).toBeUndefined();
    expect(thinkingAsked(request({ [THINKING]: { type: 'disabled' }, [OUTPUT_CONFIG]: { effort: 'high' } }))).toEqual({ on: false });
    expect(thinkingAsked(request({ [THINKING]: { type: 'enabled', budget_tokens: 5000 }, [OUTPUT_CONFIG]: { effort: 'low' } }))).toEqual({ on: true, budget: 5000, effort: 'high' });
    expect(thinkingAsked(request({ [THINKING]: { type: 'adaptive' }, [OUTPUT_CONFIG]: { effort: 'medium' } }))).toEqual({ on: true, effort: 'medium' });
    expect(thinkingAsked(request({ [OUTPUT_CONFIG]: { effort: 'max' } }))).toEqual({ on: true, effort: 'high' });
    expect(thinkingAsked(request({ [THINKING]: { type: 'adaptive', display: 'omitted' } }))).toEqual({ on: true, omitted: true });
    expect(thinkingAsked(request({ [OUTPUT_CONFIG]: { format: { type: 'json_schema', schema: {} } } }))).toBeUndefined();
  });

  it('asks a reasoning_effort only of a model the catalog says reasons', () => {
    const model: CatalogModel = { id: 'o3', provider: 'openai', kind: 'chat', contextWindow: 1, maxOutputTokens: 1, inputPerMillion: 1, outputPerMillion: 1, cachedInputPerMillion: null, capabilities: ['chat', 'reasoning'] };
    const asking = request({ [THINKING]: { type: 'enabled', budget_tokens: 1024 } });
    expect(reasoningEffortFor(asking, model)).toBe('low');
    expect(reasoningEffortFor(asking, { ...model, capabilities: ['chat'] })).toBeUndefined();
    expect(reasoningEffortFor(asking, undefined)).toBeUndefined();
  });
});
