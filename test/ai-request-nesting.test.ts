import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_NESTING_DEPTH } from '../src/ai/nesting-depth.js';
import { estimatePromptTokens } from '../src/ai/token-estimate.js';
import { AiGateway, configureThreeProviders, startProviderEmulators, type OpenAIErrorBody, type ProviderEmulators } from './ai-fixtures.js';

// The bodies are written as text: JSON.stringify itself runs out of stack on a value thousands of levels deep.

/** An object nested `levels` deep, `{"a":{"a":…"x"}}`. */
const nested = (levels: number) => `${'{"a":'.repeat(levels)}"x"${'}'.repeat(levels)}`;

/**
 * A JSON schema of objects within objects, whose deepest object or array lies at `depth` when the schema itself lies
 * at `at` in its body: each property nests two levels (`properties`, then the property's schema).
 */
function deepSchema(depth: number, at = 1): string {
  const properties = Math.floor((depth - at) / 2);
  const innermost = (depth - at) % 2 === 1 ? '{"type":"string","enum":["x"]}' : '{"type":"string"}';
  return `${'{"type":"object","properties":{"a":'.repeat(properties)}${innermost}${'}}'.repeat(properties)}`;
}

const HELLO = '[{"role":"user","content":"Hello"}]';

/**
 * How deeply a unified API request may nest objects and arrays: a bound far above any real request and far below
 * what the gateway's walks of a request take, checked as the body is parsed, so that a request past it is refused
 * in its API's shape, naming the place, before anything is counted or sent.
 */
describe('a unified API request nested deeply', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let apiKey: string;
  /** What each provider has been sent so far (Claude's emulator keeps only its last request). */
  const sentSoFar = () => [emulators.openai.requests().length, emulators.gemini.requests().length, emulators.anthropic.lastRequest()] as const;
  const expectNothingSentSince = (before: ReturnType<typeof sentSoFar>) => sentSoFar().forEach((now, i) => expect(now).toBe(before[i]));

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators);
    apiKey = await gateway.createApp({ name: 'nesting-app', team: 'nesting-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  it.each([
    ['chat/completions', 'its tool parameters', `{"model":"openai/gpt-4o-mini","messages":${HELLO},"tools":[{"type":"function","function":{"name":"f","parameters":${deepSchema(3000)}}}]}`, 'tools[0].function.parameters.properties.a.properties.a…'],
    ['chat/completions', 'its metadata', `{"model":"openai/gpt-4o-mini","messages":${HELLO},"metadata":${nested(3000)}}`, 'metadata.a.a.a.a.a.a.a…'],
    ['chat/completions', 'a message part', `{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":"Hi","extra":${nested(3000)}}]}]}`, 'messages[0].content[0].extra.a.a.a…'],
    ['responses', 'its text format schema', `{"model":"openai/gpt-4o-mini","input":"Hello","text":{"format":{"type":"json_schema","name":"deep","schema":${deepSchema(3000)}}}}`, 'text.format.schema.properties.a.properties.a.properties…'],
    ['embeddings', 'a member of its own', `{"model":"openai/text-embedding-3-small","input":"a","extra":${nested(3000)}}`, 'extra.a.a.a.a.a.a.a…'],
  ])("refuses a %s request with %s nested 3,000 levels deep with OpenAI's 400 nesting_too_deep naming the place, calling no provider", async (operation, _what, body, param) => {
    const before = sentSoFar();
    const answer = await gateway.call<OpenAIErrorBody>('POST', `/v1/${operation}`, apiKey, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'nesting_too_deep', param });
    expect(answer.body.error.message).toContain(`more than ${MAX_NESTING_DEPTH} levels deep`);
    expectNothingSentSince(before);
  });

  it.each(['messages', 'messages/count_tokens'])("refuses a /v1/%s request whose tool's input schema nests 3,000 levels deep with Anthropic's 400, its message naming the place", async (operation) => {
    const before = sentSoFar();
    const body = `{"model":"anthropic/claude-sonnet-4-6","max_tokens":16,"messages":${HELLO},"tools":[{"name":"f","input_schema":${deepSchema(3000)}}]}`;
    const answer = await gateway.call<{ type: string; error: { type: string; message: string } }>('POST', `/v1/${operation}`, apiKey, body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(answer.body.error.message).toMatch(/^tools\.0\.input_schema\.properties\.a\.properties\.a\.properties…: nests objects and arrays more than 256 levels deep/);
    expectNothingSentSince(before);
  });

  it('sends on a chat request whose tool parameters nest as deep as the bound, and answers it', async () => {
    // The body, `tools`, its item, `function`: the schema lies at the fifth level.
    const body = `{"model":"openai/gpt-4o-mini","messages":${HELLO},"tools":[{"type":"function","function":{"name":"f","parameters":${deepSchema(MAX_NESTING_DEPTH, 5)}}}]}`;
    const answer = await gateway.call('POST', '/v1/chat/completions', apiKey, body);
    expect(answer.status).toBe(200);
    expect(JSON.stringify(emulators.openai.requests().at(-1)?.body)).toContain(deepSchema(MAX_NESTING_DEPTH, 5));
  });

  it("sends on a Messages API request whose tool's input schema nests as deep as the bound to Claude, and answers it", async () => {
    // The body, `tools`, its item: the schema lies at the fourth level.
    const body = `{"model":"anthropic/claude-sonnet-4-6","max_tokens":16,"messages":${HELLO},"tools":[{"name":"f","input_schema":${deepSchema(MAX_NESTING_DEPTH, 4)}}]}`;
    const answer = await gateway.call('POST', '/v1/messages', apiKey, body);
    expect(answer.status).toBe(200);
    expect(JSON.stringify(emulators.anthropic.lastRequest()?.body)).toContain(deepSchema(MAX_NESTING_DEPTH, 4));
  });

  it('refuses a chat request one level deeper than the bound', async () => {
    const body = `{"model":"openai/gpt-4o-mini","messages":${HELLO},"tools":[{"type":"function","function":{"name":"f","parameters":${deepSchema(MAX_NESTING_DEPTH + 1, 5)}}}]}`;
    const answer = await gateway.call<OpenAIErrorBody>('POST', '/v1/chat/completions', apiKey, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'nesting_too_deep', param: 'tools[0].function.parameters.properties.a.properties.a…' });
  });

  it("refuses a chat request whose assistant tool call's arguments nest 3,000 levels deep inside their string, for Claude, naming them, calling no provider", async () => {
    const before = sentSoFar();
    const args = JSON.stringify(nested(3000));
    const body = `{"model":"anthropic/claude-sonnet-4-6","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"f","arguments":${args}}}]},{"role":"tool","tool_call_id":"toolu_1","content":"ok"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}`;
    const answer = await gateway.call<OpenAIErrorBody>('POST', '/v1/chat/completions', apiKey, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'nesting_too_deep', param: 'messages[1].tool_calls[0].function.arguments' });
    expectNothingSentSince(before);
  });

  it("refuses a Responses API request whose function call's arguments nest 3,000 levels deep inside their string, for Claude, naming them, calling no provider", async () => {
    const before = sentSoFar();
    const args = JSON.stringify(nested(3000));
    const body = `{"model":"anthropic/claude-sonnet-4-6","input":[{"role":"user","content":"Hi"},{"type":"function_call","call_id":"call_1","name":"f","arguments":${args}},{"type":"function_call_output","call_id":"call_1","output":"ok"}],"tools":[{"type":"function","name":"f","parameters":{"type":"object"}}]}`;
    const answer = await gateway.call<OpenAIErrorBody>('POST', '/v1/responses', apiKey, body);
    expect(answer.status).toBe(400);
    // A Responses API error names the input, where the call's message was (toResponsesError).
    expect(answer.body.error).toMatchObject({ code: 'nesting_too_deep', param: 'input' });
    expectNothingSentSince(before);
  });

  it("takes nothing from its app's tokens per minute for a request it refuses as too deep", async () => {
    const prompt = estimatePromptTokens([{ role: 'user', content: 'Hello' }]);
    // Room for one call's prompt and a half: a refused call that counted would leave too little for the next.
    const hasty = await gateway.createApp({ name: 'nesting-hasty', team: 'nesting-team', budget: { tokensPerMinute: Math.floor(prompt * 1.5) } });
    // Deep enough to overrun the stack where the body is written out for the provider, past the limit's count.
    const refused = await gateway.call<OpenAIErrorBody>('POST', '/v1/chat/completions', hasty, `{"model":"openai/gpt-4o-mini","messages":${HELLO},"metadata":${nested(20_000)}}`);
    expect(refused.body.error).toMatchObject({ code: 'nesting_too_deep' });
    expect((await gateway.call('POST', '/v1/chat/completions', hasty, `{"model":"openai/gpt-4o-mini","messages":${HELLO}}`)).status).toBe(200);
  });
});
