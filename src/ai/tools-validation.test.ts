import { describe, expect, it } from 'vitest';
import { validateFunctionTool } from './tools-validation.js';

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
