import { describe, expect, it } from 'vitest';
import { ANTHROPIC_BETA, type ChatRequest } from '../../chat-types.js';
import { betaHeaderFor } from './beta-header.js';

const asking = (...features: string[]): ChatRequest => ({ model: 'claude', messages: [], ...(features.length ? { [ANTHROPIC_BETA]: features } : {}) });

describe('betaHeaderFor', () => {
  it("sends the client's features", () => {
    expect(betaHeaderFor(undefined, asking('a-1', 'b-2'))).toEqual({ name: 'anthropic-beta', value: 'a-1,b-2' });
  });

  it("adds them to the provider's configured features, under the configured header's own name, each once", () => {
    expect(betaHeaderFor({ 'Anthropic-Beta': 'x-9, a-1', 'x-team': 'ops' }, asking('a-1', 'b-2'))).toEqual({ name: 'Anthropic-Beta', value: 'x-9,a-1,b-2' });
  });

  it("leaves the provider's configured header as it is when the client asks for none", () => {
    expect(betaHeaderFor({ 'anthropic-beta': 'x-9' }, asking())).toBeUndefined();
  });
});
