import { describe, expect, it } from 'vitest';
import { idSpanOf, newCompletionId, withIdAt } from './completion-id.js';

/** The text's id replaced as a cached answer's is, read back. */
const reread = (json: string, id: string): unknown => JSON.parse(withIdAt(json, idSpanOf(json)!, id));

describe('a completion id of its own', () => {
  it('is a new chatcmpl- id each time', () => {
    const [one, two] = [newCompletionId(), newCompletionId()];
    expect(one).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(two).not.toBe(one);
  });
});

describe("where a completion's text holds its id", () => {
  it('finds the id that comes first, as OpenAI writes it', () => {
    const json = '{"id":"chatcmpl-abc","object":"chat.completion","choices":[]}';
    expect(idSpanOf(json)).toEqual({ start: 6, end: 20 });
    expect(reread(json, 'chatcmpl-new')).toEqual({ id: 'chatcmpl-new', object: 'chat.completion', choices: [] });
  });

  it('finds the top-level id after members whose values hold ids, quotes and brackets of their own', () => {
    const completion = {
      choices: [{ index: 0, message: { role: 'assistant', content: 'a "quoted" {id} ] and \\ "id":"x"', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"id":"y"}' } }] } }],
      created: 1767225600,
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
      system_fingerprint: null,
      logprobs: false,
      id: 'chatcmpl-abc',
      model: 'gpt-4o-mini',
    };
    expect(reread(JSON.stringify(completion), 'chatcmpl-new')).toEqual({ ...completion, id: 'chatcmpl-new' });
  });

  it('reads a text laid out with spaces and new lines', () => {
    const json = '\n {\r\n\t"object" : "chat.completion" ,\n  "id" :  "chatcmpl-abc"\n}\n';
    expect(reread(json, 'chatcmpl-new')).toEqual({ object: 'chat.completion', id: 'chatcmpl-new' });
  });

  it('finds no id in an object without one, nor in an object whose id is not a string', () => {
    expect(idSpanOf('{"object":"list","data":[{"id":"inner"}]}')).toBeUndefined();
    expect(idSpanOf('{"id":7,"object":"chat.completion"}')).toBeUndefined();
  });

  it('finds no id in a text that is no JSON object', () => {
    for (const json of ['', '[{"id":"a"}]', '"id"', 'null']) expect(idSpanOf(json)).toBeUndefined();
  });
});
