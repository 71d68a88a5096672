import { describe, expect, it } from 'vitest';
import { refuseToolSettingsWithoutTools, validateFunctionTool } from './tools-validation.js';

const tool = (parameters: unknown) => ({ type: 'function', function: { name: 'get_weather', parameters } });

describe('function tools as OpenAI declares them', () => {
  it.each([['a string', 'abc'], ['an array', [{ type: 'object' }]], ['a number', 5], ['a boolean', true]])(
    'refuses parameters that are %s with 400 invalid_type, naming tools[i].function.parameters',
    (_what, parameters) => {
      expect(() => validateFunctionTool(tool(parameters), 'tools[0]')).toThrow(expect.objectContaining({ status: 400, type: 'invalid_request_error', code: 'invalid_type', param: 'tools[0].function.parameters' }));
    },
  );

  it.each([['a JSON Schema object', { type: 'object', properties: {} }], ['left out', undefined], ['null, taken as not given', null]])('takes parameters %s', (_what, parameters) => {
    expect(() => validateFunctionTool(tool(parameters), 'tools[0]')).not.toThrow();
  });
});

describe('tool settings without tools', () => {
  it.each([
    ['tool_choice without tools', { tool_choice: 'none' }, 'tool_choice'],
    ['tool_choice beside an empty list of tools', { tools: [], tool_choice: 'required' }, 'tool_choice'],
    ['parallel_tool_calls without tools', { parallel_tool_calls: true }, 'parallel_tool_calls'],
  ])('refuses %s with 400, naming the parameter, as OpenAI refuses it', (_what, body, param) => {
    expect(() => refuseToolSettingsWithoutTools(body)).toThrow(expect.objectContaining({ status: 400, type: 'invalid_request_error', param }));
  });

  it('takes tool_choice and parallel_tool_calls beside tools', () => {
    expect(() => refuseToolSettingsWithoutTools({ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'required', parallel_tool_calls: false })).not.toThrow();
  });
});
