import { describe, expect, it } from 'vitest';
import { inGeminiJsonSchemaSubset } from './json-schema-subset.js';

const object = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({ type: 'object', properties, required, additionalProperties: false });

describe('whether Gemini enforces a JSON Schema as written', () => {
  it('takes a loop through a property that is not required', () => {
    expect(inGeminiJsonSchemaSubset(object({ label: { type: 'string' }, next: { $ref: '#' } }, ['label']))).toBe(true);
  });

  it('refuses a loop whose only way out is a nullable alternative, which Google says is not sufficient', () => {
    expect(inGeminiJsonSchemaSubset(object({ next: { anyOf: [{ $ref: '#' }, { type: 'null' }] } }))).toBe(false);
  });

  it('refuses a loop through array items that minItems makes present', () => {
    expect(inGeminiJsonSchemaSubset(object({ children: { type: 'array', items: { $ref: '#' }, minItems: 1 } }))).toBe(false);
  });

  it('follows a $ref to an $anchor', () => {
    expect(inGeminiJsonSchemaSubset({ ...object({ size: { $ref: '#size' } }), $defs: { size: { $anchor: 'size', type: 'string', enum: ['S', 'M'] } } })).toBe(true);
  });

  it('refuses a $ref that resolves to nothing', () => {
    expect(inGeminiJsonSchemaSubset(object({ size: { $ref: '#/$defs/size' } }, []))).toBe(false);
  });

  it('refuses an enum of other values than strings and numbers', () => {
    expect(inGeminiJsonSchemaSubset(object({ flag: { enum: [true, false] } }))).toBe(false);
  });

  it('refuses a keyword Google does not list, even an annotation', () => {
    expect(inGeminiJsonSchemaSubset({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...object({ name: { type: 'string' } }) })).toBe(false);
  });

  it('takes the string formats Gemini enforces and refuses any other', () => {
    expect(inGeminiJsonSchemaSubset(object({ at: { type: 'string', format: 'date-time' }, on: { type: 'string', format: 'date' } }))).toBe(true);
    expect(inGeminiJsonSchemaSubset(object({ email: { type: 'string', format: 'email' } }))).toBe(false);
  });

  it('refuses oneOf, which Gemini reads as anyOf', () => {
    expect(inGeminiJsonSchemaSubset(object({ either: { oneOf: [{ type: 'string' }, { type: 'number' }] } }))).toBe(false);
  });

  it('refuses allOf, which Google does not list, so that a strict schema with one is converted or refused by the Schema path', () => {
    expect(inGeminiJsonSchemaSubset(object({ size: { allOf: [{ type: 'string' }] } }))).toBe(false);
  });

  it('refuses a nested $id, which would move what the $refs below it point to', () => {
    expect(inGeminiJsonSchemaSubset(object({ part: { $id: 'https://example.com/part', ...object({ name: { type: 'string' } }) } }))).toBe(false);
  });

  it('refuses a schema nested deeper than the stack goes instead of throwing', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 20_000; i++) deep = { type: 'array', items: deep };
    expect(inGeminiJsonSchemaSubset(object({ deep }))).toBe(false);
  });
});
