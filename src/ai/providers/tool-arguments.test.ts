import { describe, expect, it } from 'vitest';
import { MAX_NESTING_DEPTH } from '../nesting-depth.js';
import { toolArgumentsOf } from './tool-arguments.js';

const failureOf = (args: string) => {
  try {
    toolArgumentsOf(args, 'messages[3].tool_calls[1]');
    return undefined;
  } catch (error) {
    return (error as { failure?: unknown }).failure;
  }
};

describe('toolArgumentsOf', () => {
  it('reads a JSON object as the arguments, and empty text as none', () => {
    expect(toolArgumentsOf('{"city":"Paris","days":[1,2]}', 'messages[1].tool_calls[0]')).toEqual({ city: 'Paris', days: [1, 2] });
    expect(toolArgumentsOf('  ', 'messages[1].tool_calls[0]')).toEqual({});
  });

  it.each([
    ['text that is not JSON', '{"city":', 'invalid_tool_arguments', 'is not valid JSON'],
    ['an array', '["Paris"]', 'invalid_tool_arguments', 'must be a JSON object'],
    ['a string', '"Paris"', 'invalid_tool_arguments', 'must be a JSON object'],
    ['null', 'null', 'invalid_tool_arguments', 'must be a JSON object'],
    ['an object nested too deeply to write out again', `${'{"a":'.repeat(MAX_NESTING_DEPTH + 1)}1${'}'.repeat(MAX_NESTING_DEPTH + 1)}`, 'nesting_too_deep', `nests objects and arrays more than ${MAX_NESTING_DEPTH} levels deep`],
  ])('refuses %s with a 400 naming the arguments, not retried elsewhere', (_what, args, code, words) => {
    const param = 'messages[3].tool_calls[1].function.arguments';
    expect(failureOf(args)).toEqual({ status: 400, type: 'invalid_request_error', code, message: `${param} ${words}`, param, retryable: false });
  });

  it('takes an object nested as deeply as the gateway writes out again', () => {
    const depth = MAX_NESTING_DEPTH;
    expect(failureOf(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)).toBeUndefined();
  });
});
