import { describe, expect, it } from 'vitest';
import { AiError } from './openai-error.js';
import { MAX_NESTING_DEPTH, refuseDeepNesting, shownPath, tooDeepAt } from './nesting-depth.js';

/** A body whose `tools[0].function.parameters` schema holds `levels` more levels of objects. */
function deepTool(levels: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < levels; i++) schema = { a: schema };
  return { tools: [{ type: 'function', function: { name: 'f', parameters: schema } }] };
}

describe('the first value of a body nested too deep', () => {
  it('finds nothing in a value as deep as the bound, counting the value itself as the first level', () => {
    expect(tooDeepAt({ a: [{}] }, 3)).toBeUndefined();
    expect(tooDeepAt('text', 1)).toBeUndefined();
  });

  it('names the path of the first object or array past the bound, through members and items', () => {
    expect(tooDeepAt({ a: { b: [{}] } }, 3)).toEqual(['a', 'b', 0]);
    expect(tooDeepAt({ ok: 1, list: [1, 'x', [[]]] }, 3)).toEqual(['list', 2, 0]);
  });

  it('is the first in the order of members and items, of several too deep', () => {
    expect(tooDeepAt({ a: [[[]]], b: [[[]]] }, 3)).toEqual(['a', 0, 0]);
    expect(tooDeepAt([{ x: 1 }, [[{}]], [[[]]]], 3)).toEqual([1, 0, 0]);
    expect(tooDeepAt({ a: [[[]]], b: [[[]]] }, MAX_NESTING_DEPTH + 1)).toBeUndefined();
  });

  it('names a value too deep for a bound below the body itself, without recursing past it', () => {
    expect(tooDeepAt({ a: { b: {} } }, 0)).toEqual(['a']);
  });

  it('walks JSON nested far deeper than the stack could recurse', () => {
    const levels = 100_000;
    const deep = JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`) as unknown;
    expect(tooDeepAt(deep, levels)).toBeUndefined();
    expect(tooDeepAt(deep, levels - 1)).toHaveLength(levels - 1);
  });
});

describe('the place of a value too deep, as an error names it', () => {
  it("writes a path as OpenAI names a parameter, and as Anthropic's dotted form", () => {
    expect(shownPath(['tools', 0, 'function', 'parameters'], 'openai')).toBe('tools[0].function.parameters');
    expect(shownPath(['messages', 0, 'content', 1], 'anthropic')).toBe('messages.0.content.1');
  });

  it('cuts a long path after its first steps and a long name within it, marking both', () => {
    expect(shownPath(['metadata', ...Array<string>(300).fill('a')], 'openai')).toBe('metadata.a.a.a.a.a.a.a…');
    expect(shownPath(['x'.repeat(1000)], 'openai')).toBe(`${'x'.repeat(40)}…`);
  });
});

describe('a body nested deeper than the bound', () => {
  it('lets a body nested as deep as the bound through', () => {
    // The body, `tools`, its item, `function` and `parameters` make five levels before the schema's own.
    expect(() => refuseDeepNesting(deepTool(MAX_NESTING_DEPTH - 5), 'openai')).not.toThrow();
  });

  it('refuses a body nested one level deeper with 400 nesting_too_deep, naming the place in OpenAI\'s form', () => {
    const refused = (() => {
      try {
        refuseDeepNesting(deepTool(MAX_NESTING_DEPTH - 4), 'openai');
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(AiError);
    expect(refused).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'nesting_too_deep', param: 'tools[0].function.parameters.a.a.a.a…' });
  });

  it("starts the message with the place in Anthropic's form, as Anthropic's errors do", () => {
    expect(() => refuseDeepNesting(deepTool(MAX_NESTING_DEPTH), 'anthropic')).toThrow(/^tools\.0\.function\.parameters\.a\.a\.a\.a…: nests objects and arrays more than 256 levels deep/);
  });
});
