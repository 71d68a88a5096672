import { ProviderCallError } from '../../provider-call.js';

/**
 * A JSON Schema (as OpenAI clients write them for tools and `response_format`) as Gemini's Schema, a subset of
 * OpenAPI 3.0 (https://ai.google.dev/api/caching#Schema). Gemini answers 400 to any field outside that subset
 * ("Unknown name \"additionalProperties\""), so this keeps only the documented fields and rewrites what it can:
 *
 * - `type: ["string", "null"]` → `type: "STRING", nullable: true`; several types → `anyOf`
 * - local `$ref`s (`#/$defs/…`, `#/definitions/…`) are inlined; a recursive one becomes a plain OBJECT
 * - `oneOf` → `anyOf`; `allOf` → its members merged; `const` → a one-value string `enum`
 * - `format` is kept only where Gemini takes it (date-time and enum on strings, int32/int64, float/double)
 * - `enum` is kept only on strings, the only type Gemini enumerates
 * - `required` keeps only names that are among the properties
 *
 * Everything else ($schema, additionalProperties, examples, $id, patternProperties…) is dropped: the schema
 * Gemini enforces can be looser than the client's, never stricter. What is dropped that would have narrowed the
 * values (LOOSENING, an enum or const of other values than strings, a format Gemini does not take, a recursive or
 * unresolved `$ref`) is told to `lost`, by its place, for a strict schema to be refused rather than loosened unseen.
 * A schema too deep or too large to convert (MAX_LEVELS, MAX_SCHEMAS, MAX_COPIED) is refused, strict or not.
 */
type JsonSchema = Record<string, unknown>;

/** Keywords that narrow the values a schema allows and that Gemini's Schema has no member for. */
const LOOSENING = ['$dynamicRef', '$recursiveRef', 'uniqueItems', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'not', 'if', 'then', 'else', 'patternProperties', 'propertyNames', 'prefixItems', 'contains', 'minContains', 'maxContains', 'additionalItems', 'unevaluatedItems', 'unevaluatedProperties', 'dependentRequired', 'dependentSchemas', 'dependencies'];

/** Told the place (`where.keyword`) of each keyword whose loss loosens the schema. */
type Lost = (place: string) => void;

const COPIED = ['title', 'description', 'nullable', 'maxItems', 'minItems', 'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'default', 'minimum', 'maximum', 'propertyOrdering'];
const FORMATS: Record<string, string[]> = { STRING: ['date-time', 'enum'], INTEGER: ['int32', 'int64'], NUMBER: ['float', 'double'] };
const TYPES = new Set(['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']);

/**
 * How far the conversion goes before it refuses a schema as too complex. Google publishes no number, only that Gemini
 * "may reject very large or deeply nested schemas" (https://ai.google.dev/gemini-api/docs/structured-output#limitations).
 * The conversion recurses once per level and inlines a `$ref` wherever it is used, so a schema nested thousands deep
 * would overrun the stack, and a few `$defs` that each use the next twice would double the work with each one.
 * 100 levels (OpenAI caps its strict schemas at 10 or fewer) and 1,000 sub-schemas (the JSON Schema subset check's
 * cap) are far past what structured output and tools use; 100 levels take a tenth of the stack, which runs out near
 * 1,100.
 */
const MAX_LEVELS = 100;
const MAX_SCHEMAS = 1000;
/**
 * How much text the inlined copies of definitions may add. A `$ref` to a definition with a long enum or description
 * writes it out again wherever it is used: a 1 MB one used 500 times took seconds to write out, then failed past the
 * longest string the runtime makes (a 500). The schema counts towards the input token limit
 * (https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/control-generated-output), 1,048,576 tokens on
 * Gemini 2.0 and 2.5 (https://ai.google.dev/gemini-api/docs/models), of about 4 characters each
 * (https://ai.google.dev/gemini-api/docs/tokens): copies past that could not be sent whatever else the request holds.
 */
const MAX_COPIED = 1_048_576 * 4;

const isSchema = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A JSON pointer's token, percent-decoded as a URI fragment is; one that does not decode is taken as written. */
function pointerToken(token: string): string {
  let decoded = token;
  try {
    decoded = decodeURIComponent(token);
  } catch {
    // `%zz`: no definition has that name, and the reference is left unresolved as any other unknown one
  }
  return decoded.replace(/~1/g, '/').replace(/~0/g, '~');
}

function resolveRef(ref: string, root: JsonSchema): JsonSchema | undefined {
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (!match) return undefined;
  const defs = root[match[1] as string];
  const target = isSchema(defs) ? defs[pointerToken(match[2] as string)] : undefined;
  return isSchema(target) ? target : undefined;
}

/** The members' keywords over the schema's, later ones winning, with their properties joined and their required names listed together. */
function mergeAllOf(schema: JsonSchema): JsonSchema {
  const { allOf, ...rest } = schema;
  const members = (allOf as unknown[]).filter(isSchema);
  const merged: JsonSchema = { ...rest };
  for (const member of members) Object.assign(merged, member);
  // Joined in one pass: copying what was joined so far at each member took seconds for 5,000 members, minutes for 20,000.
  const properties = new Map<string, unknown>();
  const required: unknown[] = [];
  for (const part of [rest, ...members]) {
    if (isSchema(part.properties)) for (const [name, value] of Object.entries(part.properties)) properties.set(name, value);
    if (Array.isArray(part.required)) for (const name of part.required as unknown[]) required.push(name);
  }
  if (properties.size > 0) merged.properties = Object.fromEntries(properties);
  if (required.length > 0) merged.required = required;
  return merged;
}

/**
 * One conversion: the root its `$ref`s resolve against, its place (`response_format.json_schema.schema`), where a loss
 * is told (undefined for a schema that is not strict: nothing is told, and no place is spelled out, as a call's tools
 * are converted on every call), how many more sub-schemas it may make (MAX_SCHEMAS) and characters it may copy
 * (MAX_COPIED), and the length of each definition it has copied.
 */
interface Conversion {
  root: JsonSchema;
  where: string;
  lost: Lost | undefined;
  schemasLeft: number;
  copiedLeft: number;
  lengths: Map<JsonSchema, number>;
}

/** A 400 for a schema past MAX_LEVELS, MAX_SCHEMAS or MAX_COPIED (`why`), named by the place of the whole schema. */
function tooComplex(where: string, why: string): ProviderCallError {
  return new ProviderCallError({
    status: 400,
    type: 'invalid_request_error',
    code: 'schema_too_complex',
    param: where,
    message: `The schema at ${where} is too large to convert for Gemini: ${why}. Gemini may reject very large or deeply nested schemas; make it smaller, or use another provider.`,
    retryable: true,
  });
}

/** About the length of `value` written as JSON, walked without recursion: a definition may nest deeper than the stack goes. */
function jsonLength(value: unknown): number {
  let length = 0;
  const pending = [value];
  while (pending.length > 0) {
    const at = pending.pop();
    if (typeof at === 'string') length += at.length + 2;
    else if (typeof at !== 'object' || at === null) length += String(at).length;
    else if (Array.isArray(at)) {
      length += at.length + 1;
      for (const item of at as unknown[]) pending.push(item);
    } else {
      for (const [key, item] of Object.entries(at)) {
        length += key.length + 4;
        pending.push(item);
      }
    }
  }
  return length;
}

/** `level` is 1 for the root; each sub-schema, and each `$ref` followed, is one level further. */
function convert(input: JsonSchema, refs: string[], where: string, level: number, conversion: Conversion): JsonSchema {
  // Checked before anything else, so that the recursion below goes no deeper than MAX_LEVELS frames.
  if (level > MAX_LEVELS) throw tooComplex(conversion.where, `it nests more than ${MAX_LEVELS} levels deep (a $ref followed counting as one)`);
  if (--conversion.schemasLeft < 0) throw tooComplex(conversion.where, `it has more than ${MAX_SCHEMAS.toLocaleString('en-US')} sub-schemas (a $ref counting again wherever it is used)`);
  const { root, lost } = conversion;
  let schema = input;
  const at = (suffix: string) => (lost ? `${where}${suffix}` : '');
  if (typeof schema.$ref === 'string') {
    const target = refs.includes(schema.$ref) ? undefined : resolveRef(schema.$ref, root);
    if (!target) {
      lost?.(`${where}.$ref`);
      return { type: 'OBJECT' };
    }
    const length = conversion.lengths.get(target) ?? jsonLength(target);
    conversion.lengths.set(target, length);
    conversion.copiedLeft -= length;
    if (conversion.copiedLeft < 0) throw tooComplex(conversion.where, `its $refs copy more than ${MAX_COPIED.toLocaleString('en-US')} characters of definitions (each writing its definition out again)`);
    const { $ref: ref, ...siblings } = schema;
    return convert({ ...target, ...siblings }, [...refs, ref as string], where, level + 1, conversion);
  }
  if (Array.isArray(schema.allOf)) schema = mergeAllOf(schema);
  if (lost) {
    for (const keyword of LOOSENING) if (schema[keyword] !== undefined && schema[keyword] !== false) lost(`${where}.${keyword}`);
    if (isSchema(schema.additionalProperties)) lost(`${where}.additionalProperties`);
    // A tuple (`items` as an array, before 2020-12) and a property that allows nothing (`false`) have no Gemini form.
    if (Array.isArray(schema.items)) lost(`${where}.items`);
    if (isSchema(schema.properties)) for (const [name, value] of Object.entries(schema.properties)) if (value === false) lost(`${where}.properties.${name}`);
  }

  const out: JsonSchema = {};
  for (const key of COPIED) if (schema[key] !== undefined) out[key] = schema[key];

  const types = (Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type]).map((t) => String(t).toUpperCase()).filter((t) => TYPES.has(t));
  const nonNull = types.filter((t) => t !== 'NULL');
  if (types.includes('NULL') && nonNull.length > 0) out.nullable = true;
  if (nonNull.length === 1) out.type = nonNull[0];
  else if (nonNull.length > 1) out.anyOf = nonNull.map((type) => ({ type }));
  else if (types.length === 1) out.type = 'NULL';
  if (schema.const !== undefined && out.type === undefined && typeof schema.const === 'string') out.type = 'STRING';

  const type = out.type as string | undefined;
  if (typeof schema.format === 'string' && type && FORMATS[type]?.includes(schema.format)) out.format = schema.format;
  else if (schema.format !== undefined) lost?.(`${where}.format`);
  const listed = schema.const !== undefined ? [schema.const] : schema.enum;
  // `null` among the values is Gemini's `nullable` (`{type: ["string", "null"], enum: ["C", "F", null]}`).
  const values = Array.isArray(listed) && listed.includes(null) ? listed.filter((v) => v !== null) : listed;
  if (values !== listed && (values as unknown[]).length > 0 && (types.length === 0 || types.includes('NULL'))) out.nullable = true;
  if (Array.isArray(values) && values.length > 0 && values.every((v) => typeof v === 'string') && (type === 'STRING' || type === undefined)) {
    out.type = 'STRING';
    out.enum = values;
  } else if (values !== undefined) lost?.(`${where}.${schema.const !== undefined ? 'const' : 'enum'}`);

  if (isSchema(schema.properties)) {
    const properties = Object.fromEntries(Object.entries(schema.properties).flatMap(([name, value]) => (isSchema(value) ? [[name, convert(value, refs, at(`.properties.${name}`), level + 1, conversion)]] : [])));
    if (Object.keys(properties).length > 0) {
      out.properties = properties;
      if (Array.isArray(schema.required)) {
        const required = schema.required.filter((name): name is string => typeof name === 'string' && name in properties);
        if (required.length > 0) out.required = required;
      }
    }
  }
  if (isSchema(schema.items)) out.items = convert(schema.items, refs, at('.items'), level + 1, conversion);
  const alternatives = (['anyOf', 'oneOf'] as const).flatMap((keyword) => (Array.isArray(schema[keyword]) ? (schema[keyword] as unknown[]).flatMap((alternative, i) => (isSchema(alternative) ? [{ alternative, place: at(`.${keyword}[${i}]`) }] : [])) : []));
  if (alternatives.length > 0) {
    // Alternatives beside a list of types would replace the types' own alternatives: the types would be lost.
    if (out.anyOf !== undefined) lost?.(`${where}.anyOf`);
    out.anyOf = alternatives.map(({ alternative, place }) => convert(alternative, refs, place, level + 1, conversion));
  }
  return out;
}

/**
 * The client's JSON Schema as a Gemini Schema (see above). `strict` (OpenAI's promise that the answer follows the
 * schema): a keyword whose loss would loosen it is refused with a 400 whose `param` is its place under `where`
 * (`response_format.json_schema.schema.properties.rank.enum`), retryable so that an alias's next target, which may
 * enforce it, is tried; the client learns what Gemini cannot hold instead of getting answers that break it. Strict or
 * not, a schema past MAX_LEVELS, MAX_SCHEMAS or MAX_COPIED is refused the same way, `schema_too_complex` naming `where`.
 */
export function toGeminiSchema(schema: JsonSchema, strict = false, where = 'schema'): JsonSchema {
  return convert(schema, [], where, 1, { root: schema, where, lost: strict ? refuseLoss : undefined, schemasLeft: MAX_SCHEMAS, copiedLeft: MAX_COPIED, lengths: new Map() });
}

/** A strict schema's loss (see toGeminiSchema), refused by its place. */
function refuseLoss(place: string): never {
  const keyword = place.slice(place.lastIndexOf('.') + 1);
  throw new ProviderCallError({
    status: 400,
    type: 'invalid_request_error',
    code: 'unsupported_value',
    param: place,
    message: `Gemini cannot enforce "${keyword}" at ${place}, and the schema is strict: Gemini's schema has no such constraint (or enum and const of other values than strings, a format other than date-time, int32, int64, float or double, a recursive $ref). Remove it, set strict to false to have Gemini follow the schema without it, or use another provider.`,
    retryable: true,
  });
}

/** Whether a converted schema is an object with at least one property: Gemini refuses empty OBJECT parameters. */
export function hasProperties(schema: JsonSchema): boolean {
  return isSchema(schema.properties) && Object.keys(schema.properties).length > 0;
}
