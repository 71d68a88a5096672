import { describe, expect, it } from 'vitest';
import type { CatalogModel } from '../../catalog/index.js';
import { thinksOnlyAdaptively } from './adaptive-only.js';

const entry = (capabilities: CatalogModel['capabilities']): CatalogModel => ({ id: 'claude-x', provider: 'anthropic', kind: 'chat', contextWindow: 200_000, maxOutputTokens: 64_000, inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3, capabilities });

describe('a Claude model that thinks only adaptively', () => {
  it.each([
    'claude-opus-4-7',
    'claude-opus-4-9-20270115',
    'claude-opus-4-10',
    'claude-sonnet-5',
    'claude-fable-5-1',
    'claude-haiku-5-5-20270301',
    'claude-sonnet-6',
    'claude-mythos-preview',
    'claude-mythos-5',
    'anthropic.claude-mythos-preview',
    'anthropic.claude-opus-4-8-20260101-v1:0',
    'us.anthropic.claude-opus-4-9-20270115-v1:0',
    'eu.anthropic.claude-sonnet-5-5-v1:0',
    'global.anthropic.claude-fable-5',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-5-v1:0',
  ])('is known by its id when the catalog does not list it: %s', (model) => {
    expect(thinksOnlyAdaptively(model, undefined)).toBe(true);
  });

  it.each([
    'claude-opus-4-6',
    'claude-opus-4-5-20251101',
    'claude-opus-4-20250514',
    'claude-sonnet-4-6',
    'claude-haiku-4-5-20251001',
    'claude-3-7-sonnet-20250219',
    'claude-3-5-haiku-latest',
    'anthropic.claude-opus-4-6-v1',
    'us.anthropic.claude-opus-4-1-20250805-v1:0',
    'anthropic.claude-3-5-sonnet-20241022-v2:0',
    'my-claude-opus-5',
  ])('is not one that takes a budget, by its id: %s', (model) => {
    expect(thinksOnlyAdaptively(model, undefined)).toBe(false);
  });

  it('is what the catalog’s entry says, when it has one, whatever the id', () => {
    expect(thinksOnlyAdaptively('claude-opus-5', entry(['chat', 'reasoning']))).toBe(false);
    expect(thinksOnlyAdaptively('claude-sonnet-4-5', entry(['chat', 'reasoning', 'adaptive_thinking']))).toBe(true);
  });
});
