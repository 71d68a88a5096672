import { describe, expect, it } from 'vitest';
import { withoutOperatorIds } from './operator-ids.js';

describe('withoutOperatorIds', () => {
  it.each([
    ['Rate limit reached for gpt-4o in organization org-AbCdEf0123456789xyzQwErt on tokens per min (TPM): Limit 30000', 'Rate limit reached for gpt-4o in organization org-[redacted] on tokens per min (TPM): Limit 30000'],
    ['Project `proj_Zx81aB20cD3eF4gHkLmNpQrS` does not have access to model `gpt-5`', 'Project `proj_[redacted]` does not have access to model `gpt-5`'],
    ['in organization org-AbCdEfGhIjKlMnOpQrStUvWx on requests per min', 'in organization org-[redacted] on requests per min'],
    ['The requested URL /v1beta1/projects/acme-prod-4411/locations/us-central1/publishers/google/models/gemini-9:generateContent was not found', 'The requested URL /v1beta1/projects/[redacted]/locations/us-central1/publishers/google/models/gemini-9:generateContent was not found'],
    ['See https://console.cloud.google.com/apis/api/aiplatform.googleapis.com/quotas?project=acme-prod-4411 for the quota', 'See https://console.cloud.google.com/apis/api/aiplatform.googleapis.com/quotas?project=[redacted] for the quota'],
    ["Quota exceeded for quota metric 'Generate Content API requests per minute' for consumer 'project_number:123456789012'.", "Quota exceeded for quota metric 'Generate Content API requests per minute' for consumer 'project_number:[redacted]'."],
    ['Permission denied on resource project projects/my-prod-project-42.', 'Permission denied on resource project projects/[redacted].'],
    ['User: arn:aws:iam::123456789012:user/gateway is not authorized to perform: bedrock:InvokeModel', 'User: arn:[redacted] is not authorized to perform: bedrock:InvokeModel'],
    ['The subscription subscriptions/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b was not found', 'The subscription subscriptions/[redacted] was not found'],
    ['Generative Language API has not been used in project 123456789012 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=123456789012', 'Generative Language API has not been used in project [redacted] before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=[redacted]'],
  ])('cuts the account out of %j', (message, cut) => {
    expect(withoutOperatorIds(message)).toBe(cut);
  });

  it.each([
    "Invalid value for 'temperature': org-chart projects/ab are words; 123456789012 tokens is a number.",
    'Ask the org-administrators; see https://cloud.google.com/docs/projects/quotas for limits.',
    'The model arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0 is not available in this region.',
  ])('leaves a message that names no account as it is: %j', (message) => {
    expect(withoutOperatorIds(message)).toBe(message);
  });
});
