import { describe, expect, it } from 'vitest';
import { failureFor } from './providers/provider.js';
import { saysModelIsGone } from './model-gone.js';

const refusal = (status: number, message: string, code: string | null = null, param: string | null = null) => ({ ...failureFor(status, message, {}, code), param });

describe("a provider's refusal that says its model is not there", () => {
  it("is a 404 or 410 that names nothing of the caller's but the model", () => {
    expect(saysModelIsGone(refusal(404, 'The model `gpt-4o-mini` has been deprecated.', 'model_not_found'))).toBe(true);
    expect(saysModelIsGone(refusal(404, 'model: claude-2.0', 'not_found_error'))).toBe(true);
    expect(saysModelIsGone(refusal(410, 'Gone'))).toBe(true);
  });

  it('is a 400 whose code, param or words are about the model', () => {
    expect(saysModelIsGone(refusal(400, 'The model `llama3-70b-8192` has been decommissioned and is no longer supported.', 'model_decommissioned'))).toBe(true);
    expect(saysModelIsGone(refusal(400, 'Model Not Exist'))).toBe(true);
    expect(saysModelIsGone(refusal(400, 'Invalid model: mistral-huge'))).toBe(true);
    expect(saysModelIsGone(refusal(400, "Invalid value for 'model'", 'invalid_value', 'model'))).toBe(true);
  });

  it("is not a 404 about a resource of the caller's own, such as a file it named", () => {
    expect(saysModelIsGone(refusal(404, 'No such File object: file-abc123', 'invalid_request_error'))).toBe(false);
    expect(saysModelIsGone(refusal(404, 'The model `gpt-4o` does not exist or you do not have access to it. See the file docs.', 'model_not_found'))).toBe(true);
  });

  it("is not a 400 about the request, nor a refusal of another status", () => {
    expect(saysModelIsGone(refusal(400, 'max_tokens is too large: 100000. This model supports at most 16384 completion tokens.', 'invalid_value', 'max_tokens'))).toBe(false);
    expect(saysModelIsGone(refusal(400, 'This model does not support tools.'))).toBe(false);
    expect(saysModelIsGone(refusal(422, 'The model `x` does not exist'))).toBe(false);
  });
});
