import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../chat-types.js';
import { AiError } from '../openai-error.js';
import { customToolsAsFunctions, refuseToolNameCollisions } from './custom-tools-as-functions.js';

const weather = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
const patch = { type: 'custom', custom: { name: 'apply_patch', description: 'Edits files.' } };
const request = (more: Record<string, unknown>): ChatRequest => ({ model: 'claude', messages: [{ role: 'user', content: 'Fix it.' }], ...more }) as ChatRequest;
const inputSchema = (name: string) => ({ type: 'object', properties: { input: { type: 'string', description: `The input of ${name}, as free text.` } }, required: ['input'] });

describe('a request with custom tools, for an OpenAI-compatible host (other kinds passed on)', () => {
  it('names, in an allowed_tools choice sent on, a custom tool as the function it went as', () => {
    const choice = { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'custom', custom: { name: 'apply_patch' } }, { type: 'function', function: { name: 'get_weather' } }] } };
    const { request: sent } = customToolsAsFunctions(request({ tools: [weather, patch], tool_choice: choice }), 'openai-compatible', true)!;
    expect(sent.tool_choice).toEqual({ type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'apply_patch' } }, { type: 'function', function: { name: 'get_weather' } }] } });
  });
});

describe('a request with custom tools, for a provider that knows only function tools', () => {
  it('is nothing to translate when it has no custom tool, call or choice', () => {
    const plain = request({ tools: [weather], tool_choice: 'auto' });
    expect(customToolsAsFunctions(plain, 'anthropic')).toBeUndefined();
  });

  it('sends each custom tool as a function of one required string, input, its description kept', () => {
    const { request: sent, customNames } = customToolsAsFunctions(request({ tools: [weather, patch] }), 'anthropic')!;
    expect(sent.tools).toEqual([weather, { type: 'function', function: { name: 'apply_patch', description: 'Edits files.', parameters: inputSchema('apply_patch') } }]);
    expect([...customNames]).toEqual(['apply_patch']);
  });

  it('tells the model the grammar a grammar format asks its input to follow', () => {
    const grammar = { type: 'custom', custom: { name: 'math', description: 'Arithmetic.', format: { type: 'grammar', grammar: { syntax: 'regex', definition: '^\\d+$' } } } };
    const tool = customToolsAsFunctions(request({ tools: [grammar] }), 'gemini')!.request.tools![0]!;
    expect(tool.function.description).toBe('Arithmetic.\n\nThe input must be text that follows this regular expression exactly:\n^\\d+$');
  });

  it("sends a custom call of the history as a function call with arguments {input}, and a custom tool choice as the function's", () => {
    const history = [
      { role: 'user', content: 'Fix it.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'custom', custom: { name: 'apply_patch', input: 'a "patch"\n' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'Done.' },
    ];
    const { request: sent } = customToolsAsFunctions(request({ messages: history, tools: [patch], tool_choice: { type: 'custom', custom: { name: 'apply_patch' } } }), 'anthropic')!;
    expect(sent.messages[1]!.tool_calls).toEqual([{ id: 'call_1', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"a \\"patch\\"\\n"}' } }]);
    expect(sent.tool_choice).toEqual({ type: 'function', function: { name: 'apply_patch' } });
  });

  it('sends, for an allowed_tools choice, only the tools it allows (a custom one as its function) and the mode as the choice', () => {
    const time = { type: 'function', function: { name: 'get_time' } };
    const allowed = { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'custom', custom: { name: 'apply_patch' } }, { type: 'function', function: { name: 'get_time' } }] } };
    const { request: sent, customNames } = customToolsAsFunctions(request({ tools: [weather, patch, time], tool_choice: allowed }), 'anthropic')!;
    expect(sent.tools).toEqual([{ type: 'function', function: { name: 'apply_patch', description: 'Edits files.', parameters: inputSchema('apply_patch') } }, time]);
    expect(sent.tool_choice).toBe('required');
    expect([...customNames]).toEqual(['apply_patch']);
  });

  it('narrows to allowed function tools alone, with nothing else to translate', () => {
    const allowed = { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'get_weather' } }] } };
    const { request: sent, customNames } = customToolsAsFunctions(request({ tools: [weather, { type: 'function', function: { name: 'get_time' } }], tool_choice: allowed }), 'gemini')!;
    expect(sent.tools).toEqual([weather]);
    expect(sent.tool_choice).toBe('auto');
    expect(customNames.size).toBe(0);
  });

  it('refuses an allowed tool that is not among the tools, a custom tool named as a function included, with invalid_value', () => {
    const asFunction = { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'apply_patch' } }] } };
    expect(() => customToolsAsFunctions(request({ tools: [patch], tool_choice: asFunction }), 'anthropic')).toThrow(expect.objectContaining({ status: 400, code: 'invalid_value', param: 'tool_choice.allowed_tools.tools[0]' }));
  });

  it('refuses an allowed built-in tool, which it does not translate, with unsupported_parameter', () => {
    const allowed = { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'web_search' }] } };
    expect(() => customToolsAsFunctions(request({ tools: [weather], tool_choice: allowed }), 'anthropic')).toThrow(expect.objectContaining({ status: 400, code: 'unsupported_parameter', param: 'tool_choice.allowed_tools.tools[0]' }));
  });
});

describe('tool names shared across kinds', () => {
  it('are refused with a 400 naming the later tool', () => {
    let error: unknown;
    try {
      refuseToolNameCollisions([{ type: 'function', function: { name: 'apply_patch' } }, weather, { type: 'custom', custom: { name: 'apply_patch' } }], 'tools');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(AiError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_value', param: 'tools[2]' });
  });

  it('are refused before a request is translated', () => {
    expect(() => customToolsAsFunctions(request({ tools: [{ type: 'function', function: { name: 'apply_patch' } }, patch] }), 'anthropic')).toThrow(expect.objectContaining({ param: 'tools[1]' }));
  });
});
