import { describe, expect, it } from 'vitest';
import { toGeminiSchema } from './gemini-schema.js';

type JsonSchema = Record<string, unknown>;

const object = (properties: Record<string, unknown>) => ({ type: 'object', properties, required: Object.keys(properties), additionalProperties: false });
const refusal = (schema: JsonSchema, strict = true) => {
  try {
    toGeminiSchema(schema, strict, 'response_format.json_schema.schema');
    return undefined;
  } catch (error) {
    return (error as { failure?: { status: number; param: string } }).failure;
  }
};

/** A string schema inside `levels - 1` schemas made by `wrap`: `levels` schemas from the root down. */
const nested = (levels: number, wrap: (inner: JsonSchema) => JsonSchema): JsonSchema => {
  let schema: JsonSchema = { type: 'string' };
  for (let level = 1; level < levels; level++) schema = wrap(schema);
  return schema;
};
const inProperty = (inner: JsonSchema) => ({ type: 'object', properties: { a: inner } });
/** An object whose `uses` properties each `$ref` one string definition with a description `length` characters long. */
const withCopies = (length: number, uses: number) => ({
  type: 'object',
  properties: Object.fromEntries(Array.from({ length: uses }, (_, i) => [`p${i}`, { $ref: '#/$defs/long' }])),
  $defs: { long: { type: 'string', description: 'x'.repeat(length) } },
});
/** An object of `count` string properties: `count + 1` sub-schemas with the root. */
const withProperties = (count: number) => ({ type: 'object', properties: Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, { type: 'string' }])) });
const TOO_COMPLEX = { status: 400, code: 'schema_too_complex', param: 'response_format.json_schema.schema', retryable: true };

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

describe('a JSON schema with allOf as a Gemini schema', () => {
  it('leaves out, when not strict, a required name whose property it is not given a schema of', () => {
    expect(toGeminiSchema({ type: 'object', properties: { a: true, b: { type: 'string' } }, required: ['a', 'b'] })).toEqual({ type: 'OBJECT', properties: { b: { type: 'STRING' } }, required: ['b'] });
  });

  it('requires only names of its own properties, not of what every object inherits', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a', 'constructor', 'toString', 'missing'] };
    expect(toGeminiSchema(schema)).toEqual({ type: 'OBJECT', properties: { a: { type: 'STRING' } }, required: ['a'] });
  });

  it('merges the members into the schema, a later keyword winning, their properties joined and their required names together', () => {
    const schema = { type: 'object', description: 'A person', properties: { name: { type: 'string' } }, required: ['name'], allOf: [{ description: 'Someone', properties: { age: { type: 'integer' } }, required: ['age'] }, { properties: { name: { type: 'string', minLength: 1 } } }] };
    expect(toGeminiSchema(schema)).toEqual({ type: 'OBJECT', description: 'Someone', properties: { name: { type: 'STRING', minLength: 1 }, age: { type: 'INTEGER' } }, required: ['name', 'age'] });
  });

  it('converts a member that is a $ref to what its definition says', () => {
    const schema = { allOf: [{ $ref: '#/$defs/size' }], $defs: { size: { type: 'string', enum: ['a', 'b'] } } };
    expect(toGeminiSchema(schema, true)).toEqual({ type: 'STRING', enum: ['a', 'b'] });
  });

  it('sends the const alone when the enum beside it lists it, strict or not', () => {
    for (const strict of [true, false]) expect(toGeminiSchema({ allOf: [{ type: 'string', enum: ['a', 'b'] }, { const: 'b' }] }, strict)).toEqual({ type: 'STRING', enum: ['b'] });
  });

  it.each([
    ['an array', { type: 'array', items: { $ref: '#/$defs/node' } }, { type: 'ARRAY', items: { type: 'ARRAY', items: { type: 'OBJECT' } } }],
    ['a string or null', { type: ['string', 'null'], anyOf: [{ maxLength: 3 }, { $ref: '#/$defs/node' }] }, { type: 'STRING', nullable: true, anyOf: [{ maxLength: 3 }, { type: 'STRING', nullable: true }] }],
    ['an array or an object', { type: ['array', 'object'], items: { $ref: '#/$defs/node' } }, { anyOf: [{ type: 'ARRAY' }, { type: 'OBJECT' }], items: { anyOf: [{ type: 'ARRAY', items: { type: 'OBJECT' } }, { type: 'OBJECT' }] } }],
    ['nothing named (an object)', { items: { $ref: '#/$defs/node' } }, { items: { type: 'OBJECT' } }],
  ])('turns a recursive $ref to a definition of %s into its types alone (an array with items, which Gemini wants), when not strict', (_what, node, expected) => {
    expect(toGeminiSchema({ $ref: '#/$defs/node', $defs: { node } }, false)).toEqual(expected);
  });

  it('flattens a member that has an allOf of its own into the schema', () => {
    expect(toGeminiSchema({ allOf: [{ allOf: [{ type: 'string' }, { minLength: 2 }] }] }, true)).toEqual({ type: 'STRING', minLength: 2 });
  });

  it.each([
    ['a member $ref to a const that is not a string', { allOf: [{ $ref: '#/$defs/one' }], $defs: { one: { const: 1 } } }, 'response_format.json_schema.schema.allOf[0].const'],
    ['a member $ref that resolves to nothing', { type: 'object', allOf: [{ $ref: '#/$defs/missing' }] }, 'response_format.json_schema.schema.allOf[0].$ref'],
    ['a constraint Gemini has no form for in a nested allOf', { allOf: [{ allOf: [{ multipleOf: 2 }] }] }, 'response_format.json_schema.schema.allOf[0].allOf[0].multipleOf'],
    ['a not in a member', { type: 'string', allOf: [{ not: { enum: ['x'] } }] }, 'response_format.json_schema.schema.allOf[0].not'],
    ['members whose types have nothing in common', { allOf: [{ type: 'string' }, { type: 'integer' }] }, 'response_format.json_schema.schema.allOf[1].type'],
    ['members with different enums', { allOf: [{ enum: ['a', 'b'] }, { enum: ['b', 'c'] }] }, 'response_format.json_schema.schema.allOf[1].enum'],
    ['members with different alternatives', { allOf: [{ anyOf: [{ type: 'string' }, { type: 'null' }] }, { anyOf: [{ type: 'integer' }, { type: 'null' }] }] }, 'response_format.json_schema.schema.allOf[1].anyOf'],
    ['members whose descriptions of one property have types in common with neither', { type: 'object', allOf: [{ properties: { a: { type: 'string' } } }, { properties: { a: { type: 'integer' } } }] }, 'response_format.json_schema.schema.allOf[1].properties.a.type'],
    ['a $ref beside a type that has nothing in common with its definition\'s', { $ref: '#/$defs/text', type: 'integer', $defs: { text: { type: 'string' } } }, 'response_format.json_schema.schema.type'],
    ['a property another member adds beside one that allows no other properties', { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }, { properties: { b: { type: 'string' } } }] }, 'response_format.json_schema.schema.allOf[1].properties.b'],
    ['a property beside a $ref to an object that allows no other properties', { $ref: '#/$defs/closed', properties: { b: { type: 'string' } }, $defs: { closed: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } } }, 'response_format.json_schema.schema.properties.b'],
    ['a required name whose property has no schema of its own', { type: 'object', properties: { a: true }, required: ['a'] }, 'response_format.json_schema.schema.required'],
    ['a required name of no property', { type: 'object', properties: { b: { type: 'string' } }, required: ['a', 'b'] }, 'response_format.json_schema.schema.required'],
    ['members with anyOf and oneOf, a value having to match one of each', { allOf: [{ anyOf: [{ type: 'string' }, { type: 'integer' }] }, { oneOf: [{ type: 'integer' }, { type: 'boolean' }] }] }, 'response_format.json_schema.schema.allOf[1].oneOf'],
    ['a const the enum beside it does not list', { type: 'string', const: 'c', enum: ['a', 'b'] }, 'response_format.json_schema.schema.enum'],
    ['a const one member sets that another member\'s enum does not list', { allOf: [{ enum: ['a', 'b'] }, { const: 'c' }] }, 'response_format.json_schema.schema.allOf[0].enum'],
  ])('refuses %s when strict, naming its place', (_what, schema, param) => {
    expect(refusal(schema)).toMatchObject({ status: 400, code: 'unsupported_value', param });
  });

  it('joins the properties members describe when one of them allows no other, once each names them all', () => {
    const closed = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, additionalProperties: false };
    expect(toGeminiSchema({ allOf: [closed, { properties: { b: { minLength: 1 } } }] }, true)).toEqual({ type: 'OBJECT', properties: { a: { type: 'STRING' }, b: { type: 'STRING', minLength: 1 } } });
  });

  it("reads no keyword from a schema's __proto__ member, which JSON Schema does not have, strict or not", () => {
    const schema = JSON.parse('{"type":"object","properties":{"q":{"type":"string","__proto__":{"enum":["x"],"maxLength":1}}},"required":["q"]}') as JsonSchema;
    expect(toGeminiSchema(schema)).toEqual({ type: 'OBJECT', properties: { q: { type: 'STRING' } }, required: ['q'] });
    expect(toGeminiSchema(schema, true)).toEqual({ type: 'OBJECT', properties: { q: { type: 'STRING' } }, required: ['q'] });
  });

  it('leaves out the items of an array with a prefix, which hold only after it, rather than hold them for every item', () => {
    expect(toGeminiSchema({ type: 'array', prefixItems: [{ type: 'integer' }], items: { type: 'string' } })).toEqual({ type: 'ARRAY' });
  });

  it('lists a type the members have in common once', () => {
    expect(toGeminiSchema({ allOf: [{ type: ['number', 'integer'] }, { type: 'integer' }] })).toEqual({ type: 'INTEGER' });
  });

  it('merges members whose types have nothing in common as before when not strict, the later winning', () => {
    expect(toGeminiSchema({ allOf: [{ type: 'string' }, { type: 'integer' }] })).toEqual({ type: 'INTEGER' });
  });

  it('keeps the types the members have in common, an integer being a number', () => {
    expect(toGeminiSchema({ type: ['string', 'null'], allOf: [{ type: 'string' }] }, true)).toEqual({ type: 'STRING' });
    expect(toGeminiSchema({ allOf: [{ type: 'number' }, { type: ['integer', 'string'] }] }, true)).toEqual({ type: 'INTEGER' });
  });

  it('takes the tightest of the bounds the members set', () => {
    expect(toGeminiSchema({ type: 'string', allOf: [{ minLength: 2, maxLength: 9 }, { minLength: 1, maxLength: 5 }] }, true)).toEqual({ type: 'STRING', minLength: 2, maxLength: 5 });
  });

  it('joins the descriptions that several members give of one property, so that all of them hold', () => {
    const schema = { type: 'object', allOf: [{ properties: { a: { type: 'string', minLength: 2 } } }, { properties: { a: { maxLength: 5 } } }] };
    expect(toGeminiSchema(schema, true)).toEqual({ type: 'OBJECT', properties: { a: { type: 'STRING', minLength: 2, maxLength: 5 } } });
  });

  // Refused as the members are flattened, at the 1,000th, before any merge: no time is asserted.
  it('refuses an allOf of 5,000 members, each bringing a property, as too large', () => {
    const allOf = Array.from({ length: 5000 }, (_, i) => ({ properties: { [`p${i}`]: { type: 'string' } }, required: [`p${i}`] }));
    expect(refusal({ type: 'object', allOf }, false)).toMatchObject(TOO_COMPLEX);
  });

  it('refuses 999 members that each describe the same 1,000 properties as too large, counting them as it finds them', () => {
    const properties = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`p${i}`, { type: 'string' }]));
    expect(refusal({ type: 'object', allOf: Array.from({ length: 999 }, () => ({ properties })) })).toMatchObject(TOO_COMPLEX);
  });
});

describe('a JSON schema too deep or too large to convert for Gemini', () => {
  it.each([
    ['properties', inProperty],
    ['items', (inner: JsonSchema) => ({ type: 'array', items: inner })],
    ['anyOf', (inner: JsonSchema) => ({ anyOf: [inner, { type: 'null' }] })],
    ['allOf', (inner: JsonSchema) => ({ allOf: [inner] })],
  ])('refuses a schema nested 20,000 levels deep through %s with 400 schema_too_complex naming the whole schema, not a stack overflow', (_through, wrap) => {
    expect(refusal(nested(20_000, wrap), false)).toMatchObject(TOO_COMPLEX);
  });

  it('refuses a chain of 20,000 $refs through $defs, each followed being a level', () => {
    const $defs = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`d${i}`, { $ref: `#/$defs/d${i + 1}` }]));
    expect(refusal({ $ref: '#/$defs/d0', $defs: { ...$defs, d20000: { type: 'string' } } }, false)).toMatchObject(TOO_COMPLEX);
  });

  it('refuses a strict schema nested 20,000 levels deep the same way, naming the whole schema', () => {
    expect(refusal(nested(20_000, inProperty), true)).toMatchObject(TOO_COMPLEX);
  });

  it('still converts a schema nested 100 levels deep, the most it takes', () => {
    let converted = toGeminiSchema(nested(100, inProperty));
    for (let level = 1; level < 100; level++) converted = (converted.properties as JsonSchema).a as JsonSchema;
    expect(converted).toEqual({ type: 'STRING' });
  });

  it('refuses a schema nested 101 levels deep', () => {
    expect(refusal(nested(101, inProperty), false)).toMatchObject(TOO_COMPLEX);
  });

  it('refuses allOf members nested 101 levels deep, each member being a level', () => {
    expect(refusal(nested(101, (inner) => ({ allOf: [inner] })), false)).toMatchObject(TOO_COMPLEX);
  });

  it('still converts 1,000 sub-schemas, the most it takes', () => {
    expect(Object.keys(toGeminiSchema(withProperties(999)).properties as JsonSchema)).toHaveLength(999);
  });

  it('refuses 1,001 sub-schemas', () => {
    expect(refusal(withProperties(1000), false)).toMatchObject(TOO_COMPLEX);
  });

  it('counts a $ref and the definition that takes its place as one sub-schema, 999 of them and the root the most it takes', () => {
    const refs = (count: number): JsonSchema => ({ type: 'object', $defs: { s: { type: 'string' } }, properties: Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, { $ref: '#/$defs/s' }])) });
    expect((toGeminiSchema(refs(999)).properties as Record<string, JsonSchema>).p998).toEqual({ type: 'STRING' });
    expect(refusal(refs(1000), false)).toMatchObject(TOO_COMPLEX);
  });

  it('still converts a long definition that its $refs copy 4,000,000 characters of in all', () => {
    const converted = toGeminiSchema(withCopies(1_000_000, 4));
    expect((converted.properties as Record<string, JsonSchema>).p3).toEqual({ type: 'STRING', description: 'x'.repeat(1_000_000) });
  });

  it('refuses a long definition that its $refs would copy 5,000,000 characters of, more than the input token limit holds', () => {
    expect(refusal(withCopies(1_000_000, 5), false)).toMatchObject(TOO_COMPLEX);
  });

  it('refuses 12 $defs whose allOf uses the next twice, as a $ref in a member counts as it does elsewhere', () => {
    const $defs = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`d${i}`, { allOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] }]));
    expect(refusal({ $ref: '#/$defs/d0', $defs: { ...$defs, d12: { type: 'string' } } }, false)).toMatchObject(TOO_COMPLEX);
  });

  it('refuses a long definition that allOf members would copy 5,000,000 characters of', () => {
    const schema = { allOf: Array.from({ length: 5 }, () => ({ $ref: '#/$defs/long' })), $defs: { long: { type: 'string', description: 'x'.repeat(1_000_000) } } };
    expect(refusal(schema, false)).toMatchObject(TOO_COMPLEX);
  });

  it('refuses 12 $defs that each use the next twice, which inlined make thousands of sub-schemas (twice as many with each more)', () => {
    const $defs = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`d${i}`, { type: 'object', properties: { left: { $ref: `#/$defs/d${i + 1}` }, right: { $ref: `#/$defs/d${i + 1}` } } }]));
    expect(refusal({ $ref: '#/$defs/d0', $defs: { ...$defs, d12: { type: 'string' } } }, false)).toMatchObject(TOO_COMPLEX);
  });
});
