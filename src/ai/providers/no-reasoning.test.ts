import { describe, expect, it } from 'vitest';
import { failureFor } from './provider.js';
import { reasoningRefusedAsUnsupported } from './no-reasoning.js';
import { MistralProvider } from './mistral/index.js';
import { OllamaProvider } from './ollama/index.js';

describe("a model's refusal of the reasoning asked for", () => {
  it.each([
    ['Ollama', '"llama3.2" does not support thinking'],
    ['Mistral', "reasoning_effort is not supported for model 'open-mistral-nemo'"],
  ])("is %s's retryable unsupported_parameter, so that an alias moves on to a model that reasons", (_provider, message) => {
    expect(reasoningRefusedAsUnsupported(failureFor(400, message, {}))).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'reasoning_effort', retryable: true });
  });

  it("is read so from Ollama's and Mistral's error bodies", () => {
    expect(OllamaProvider.parseError(400, JSON.stringify({ error: '"llama3.2" does not support thinking' }), {})).toMatchObject({ code: 'unsupported_parameter', retryable: true });
    const mistral = JSON.stringify({ object: 'error', message: "reasoning_effort is not supported for model 'open-mistral-nemo'", type: 'invalid_request_error', param: null, code: null });
    expect(MistralProvider.parseError(400, mistral, {})).toMatchObject({ code: 'unsupported_parameter', retryable: true });
  });

  it('leaves any other refusal as it is', () => {
    const other = failureFor(400, 'max_tokens is too large', {});
    expect(reasoningRefusedAsUnsupported(other)).toBe(other);
    const server = failureFor(500, 'does not support thinking', {});
    expect(reasoningRefusedAsUnsupported(server)).toBe(server);
  });
});
