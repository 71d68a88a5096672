import { describe, expect, it } from 'vitest';
import { bedrockFailure } from './bedrock-errors.js';

describe("a Bedrock failure's classification", () => {
  it("sets aside a key AWS does not know, keeps one denied a model, and tells a model's failure as the provider's", () => {
    expect(bedrockFailure(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.', {})).toMatchObject({ status: 403, credentialProblem: 'invalid' });
    const denied = bedrockFailure(403, 'AccessDeniedException', "You don't have access to the model with the specified model ID.", {});
    expect(denied).toMatchObject({ status: 403, credentialProblem: 'denied', retryable: true });
    expect(bedrockFailure(408, 'ModelTimeoutException', 'The model timed out', {})).toMatchObject({ status: 504, retryable: true });
    expect(bedrockFailure(424, 'ModelErrorException', 'The model failed', {})).toMatchObject({ status: 500, retryable: true });
  });

  it('sets aside an API key refused in a 403 that names no exception, and keeps one whose 403 of no name is about something else', () => {
    for (const message of ['Authentication failed: Please make sure your API Key is valid.', 'Authorization header is missing']) {
      expect(bedrockFailure(403, '', message, {})).toMatchObject({ status: 403, type: 'authentication_error', credentialProblem: 'invalid', retryable: true });
    }
    expect(bedrockFailure(403, '', 'Request blocked by the network policy.', {})).toMatchObject({ status: 403, credentialProblem: 'denied' });
  });

  it('tells a service or model that is not available for now (503) from one that failed (500)', () => {
    for (const type of ['ServiceUnavailableException', 'ModelNotReadyException']) expect(bedrockFailure(503, type, 'Try again later', {})).toMatchObject({ status: 503, retryable: true });
    for (const type of ['InternalServerException', 'InternalFailure', 'ModelStreamErrorException']) expect(bedrockFailure(500, type, 'It broke', {})).toMatchObject({ status: 500, retryable: true });
  });
});
