import { describe, expect, it } from 'vitest';
import { toGeminiSchema } from './gemini-schema.js';

const object = (properties: Record<string, unknown>) => ({ type: 'object', properties, required: Object.keys(properties), additionalProperties: false });
const refusal = (schema: Record<string, unknown>) => {
  try {
    toGeminiSchema(schema, true, 'response_format.json_schema.schema');
    return undefined;
  } catch (error) {
    return (error as { failure?: { status: number; param: string } }).failure;
  }
};

describe('a strict JSON schema as a Gemini schema', () => {
  it('keeps an enum that lists null beside a nullable type as a nullable enum of the rest', () => {
    expect(toGeminiSchema(object({ unit: { type: ['string', 'null'], enum: ['C', 'F', null] } }), true)).toEqual({ type: 'OBJECT', properties: { unit: { type: 'STRING', nullable: true, enum: ['C', 'F'] } }, required: ['unit'] });
  });

  it.each([
    ['a tuple of items', { pair: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }] } }, 'response_format.json_schema.schema.properties.pair.items'],
    ['a property that allows nothing', { never: false }, 'response_format.json_schema.schema.properties.never'],
    ['alternatives beside a list of types', { either: { type: ['string', 'integer'], anyOf: [{ minLength: 2 }, { minimum: 3 }] } }, 'response_format.json_schema.schema.properties.either.anyOf'],
    ['a dynamic reference', { tree: { $dynamicRef: '#node' } }, 'response_format.json_schema.schema.properties.tree.$dynamicRef'],
  ])('refuses %s, which Gemini would drop, naming its place', (_what, properties, param) => {
    expect(refusal(object(properties))).toMatchObject({ status: 400, param });
  });

  it('converts the same schemas without a word when they are not strict', () => {
    expect(() => toGeminiSchema(object({ pair: { type: 'array', items: [{ type: 'string' }] }, never: false }), false)).not.toThrow();
  });
});
