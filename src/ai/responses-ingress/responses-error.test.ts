import { describe, expect, it } from 'vitest';
import { AiError } from '../openai-error.js';
import { ResponsesRequestError, previousResponseNotFound, responseChainBroken, responseChainTooLong, responseNotFound, responsesStoreUnavailable, toResponsesError } from './responses-error.js';

const refusal = (param: string | null) => new AiError(400, 'invalid_request_error', 'invalid_value', 'refused', param, { 'retry-after': '1' });

describe("an error met after a Responses API request became a chat request", () => {
  it.each([
    ['max_completion_tokens', 'max_output_tokens'],
    ['max_tokens', 'max_output_tokens'],
    ['reasoning_effort', 'reasoning.effort'],
    ['response_format', 'text.format'],
    ['response_format.json_schema.schema', 'text.format.schema'],
    ['tools[2].function.parameters', 'tools[2].parameters'],
    ['tool_choice.function.name', 'tool_choice.name'],
    ['tools[1].custom.name', 'tools[1].name'],
    ['tools[1].custom.format.grammar.definition', 'tools[1].format.definition'],
    ['tool_choice.custom.name', 'tool_choice.name'],
    ['messages', 'input'],
    ['messages[3].content', 'input'],
    ['messages.[1].role', 'input'],
  ])('names %s as the Responses API member %s', (chat, responses) => {
    expect(toResponsesError(refusal(chat))).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_value', message: 'refused', param: responses, headers: { 'retry-after': '1' } });
  });

  it("names the member in the words of an adapter's refusal that open with it, as in its param", () => {
    const error = new AiError(400, 'invalid_request_error', 'unsupported_parameter', 'response_format: Bedrock Converse has no JSON mode without a schema', 'response_format');
    expect(toResponsesError(error)).toMatchObject({ param: 'text.format', message: 'text.format: Bedrock Converse has no JSON mode without a schema' });
    // Words that only mention it elsewhere are the adapter's own.
    expect(toResponsesError(new AiError(400, 'invalid_request_error', null, 'no response_format here', 'response_format')).message).toBe('no response_format here');
  });

  it.each(['model', 'temperature', 'input[0].type', 'max_output_tokens', null])('leaves %s as it is', (param) => {
    const error = param === 'input[0].type' ? new ResponsesRequestError(param, 'bad') : refusal(param);
    expect(toResponsesError(error)).toBe(error);
  });
});

describe('an error about a stored Response', () => {
  const long = `resp_${'x'.repeat(5_000)}`;

  it("repeats a long id cut to its first 64 characters, its code and shape OpenAI's", () => {
    const error = responseNotFound(long);
    expect(error).toMatchObject({ status: 404, type: 'invalid_request_error', code: 'response_not_found', param: null });
    expect(error.message).toBe(`Response with id '${long.slice(0, 64)}…' not found.`);
  });

  it.each([
    ['previousResponseNotFound', previousResponseNotFound],
    ['responseChainBroken', responseChainBroken],
    ['responseChainTooLong', (id: string) => responseChainTooLong(id, 1_000, null)],
    ['responsesStoreUnavailable', responsesStoreUnavailable],
  ])('repeats no more than 64 characters of an id in %s', (_name, errorFor) => {
    const { message } = errorFor(long);
    expect(message).toContain(`'${long.slice(0, 64)}…'`);
    expect(message.length).toBeLessThan(300);
  });

  it('repeats an id of 64 characters whole', () => {
    const id = `resp_${'a'.repeat(59)}`;
    expect(responseNotFound(id).message).toBe(`Response with id '${id}' not found.`);
  });
});
