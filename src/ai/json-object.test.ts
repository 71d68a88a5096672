import { describe, expect, it } from 'vitest';
import { jsonTypeName } from './json-object.js';

describe("a JSON value's type, as OpenAI names it in its refusals", () => {
  it.each([
    [null, 'null'],
    [[1], 'an array'],
    [{}, 'an object'],
    [42, 'an integer'],
    [4.2, 'a decimal'],
    ['x', 'a string'],
    [true, 'a boolean'],
  ])('names %j %s', (value, name) => {
    expect(jsonTypeName(value)).toBe(name);
  });
});
