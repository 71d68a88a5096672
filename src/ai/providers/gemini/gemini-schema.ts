import { ProviderCallError } from '../../provider-call.js';

/**
 * A JSON Schema (as OpenAI clients write them for tools and `response_format`) as Gemini's Schema, a subset of
 * OpenAPI 3.0 (https://ai.google.dev/api/caching#Schema). Gemini answers 400 to any field outside that subset
 * ("Unknown name \"additionalProperties\""), so this keeps only the documented fields and rewrites what it can:
 *
 * - `type: ["string", "null"]` → `type: "STRING", nullable: true`; several types → `anyOf`
 * - local `$ref`s (`#/$defs/…`, `#/definitions/…`) are inlined; a recursive one becomes its definition's type alone
 *   (an OBJECT, when the definition names none; an ARRAY of OBJECTs, as Gemini wants an array's items)
 * - `oneOf` → `anyOf`; `const` → a one-value string `enum`
 * - `allOf` → its members merged into the schema, as a `$ref`'s definition is with the keywords beside it (mergeParts)
 * - `format` is kept only where Gemini takes it (date-time and enum on strings, int32/int64, float/double)
 * - `enum` is kept only on strings, the only type Gemini enumerates
 * - `required` keeps only names that are among the properties
 *
 * Everything else ($schema, additionalProperties, examples, $id, patternProperties…) is dropped: the schema
 * Gemini enforces can be looser than the client's, never stricter. What is dropped that would have narrowed the
 * values (LOOSENING, an enum or const of other values than strings, a format Gemini does not take, a recursive or
 * unresolved `$ref`, a value that merged parts disagree on) is told to `lost`, by its place, for a strict schema to be refused rather than loosened unseen.
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

const tooManySchemas = (where: string) => tooComplex(where, `it has more than ${MAX_SCHEMAS.toLocaleString('en-US')} sub-schemas (a $ref counting again wherever it is used)`);

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

/**
 * A schema that holds together with others for one value: an `allOf` member, a `$ref`'s definition beside the
 * keywords written next to the `$ref`, the same property described by several of them. `place` is where its
 * keywords are in the client's schema (`…schema.allOf[1]`; empty for a schema that is not strict, as nothing is told
 * then), `refs` the `$ref`s followed to reach it, which a recursive one repeats, and `level` is 1 for the root, each
 * sub-schema, `allOf` member and `$ref` followed being one further.
 */
interface Part {
  schema: JsonSchema;
  place: string;
  refs: string[];
  level: number;
  /** Its `$ref` was recursive or resolved to nothing: it stands for an object, unless the rest says the type. */
  unresolved?: boolean;
  /** The types its recursive `$ref`'s definition names, which it stands for instead (a tree of arrays is no object). */
  standsFor?: string[];
}

/**
 * Keywords Gemini's Schema holds one value of: where two parts give different values, keeping one loses the other.
 * Types are the exception, a few names whose common ones say exactly what both allow (`["string", "null"]` and
 * `"string"`: a string); two enums' common values would too, but any JSON can be among them, and they are refused.
 */
const HELD_ONCE = ['format', 'enum', 'const', 'nullable', 'pattern', 'anyOf', 'oneOf'];
/** Bounds whose tightest value holds exactly what all the parts that give one allow. */
const TIGHTEST: Record<string, (a: number, b: number) => number> = { minimum: Math.max, maximum: Math.min, minLength: Math.max, maxLength: Math.min, minItems: Math.max, maxItems: Math.min, minProperties: Math.max, maxProperties: Math.min };

/** Whether two JSON values are equal, compared without recursion: an enum's value may nest deeper than the stack goes. */
function sameJson(a: unknown, b: unknown): boolean {
  const pending: [unknown, unknown][] = [[a, b]];
  while (pending.length > 0) {
    const [x, y] = pending.pop() as [unknown, unknown];
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || Array.isArray(x) !== Array.isArray(y)) return false;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (const key of keys) {
      if (!Object.hasOwn(y, key)) return false;
      pending.push([(x as JsonSchema)[key], (y as JsonSchema)[key]]);
    }
  }
  return true;
}

/** A `type` as Gemini's names (`["string", "null"]` → STRING, NULL), those it has no name for left out. */
const typesOf = (type: unknown): string[] => (Array.isArray(type) ? type : type === undefined ? [] : [type]).map((t) => String(t).toUpperCase()).filter((t) => TYPES.has(t));

/** The types two parts both allow: an integer is a number too. */
function commonTypes(a: string[], b: string[]): string[] {
  const common = a.flatMap((type) => {
    if (b.includes(type)) return [type];
    if ((type === 'NUMBER' && b.includes('INTEGER')) || (type === 'INTEGER' && b.includes('NUMBER'))) return ['INTEGER'];
    return [];
  });
  return [...new Set(common)];
}

/**
 * `part` as the parts it is made of, into `parts`: the definition its `$ref` names, then its own keywords, then its
 * `allOf` members, each flattened the same way. An unresolved or recursive `$ref` is told to `lost` and marks its
 * part `unresolved`. Every schema visited and every definition copied counts towards the bounds as in `convert`.
 */
function flatten(part: Part, conversion: Conversion, parts: Part[]): void {
  // Checked before anything else, so that the recursion (here and in `convert`) goes no deeper than MAX_LEVELS levels.
  if (part.level > MAX_LEVELS) throw tooComplex(conversion.where, `it nests more than ${MAX_LEVELS} levels deep (an allOf member or a $ref followed counting as one)`);
  if (--conversion.schemasLeft < 0) throw tooManySchemas(conversion.where);
  const { lost } = conversion;
  const { $ref: ref, allOf, ...own } = part.schema;
  let unresolved = false;
  let standsFor: string[] | undefined;
  if (typeof ref === 'string') {
    const recursive = part.refs.includes(ref);
    const target = recursive ? undefined : resolveRef(ref, conversion.root);
    if (target) {
      const length = conversion.lengths.get(target) ?? jsonLength(target);
      conversion.lengths.set(target, length);
      conversion.copiedLeft -= length;
      if (conversion.copiedLeft < 0) throw tooComplex(conversion.where, `its $refs copy more than ${MAX_COPIED.toLocaleString('en-US')} characters of definitions (each writing its definition out again)`);
      // The definition takes the $ref's place, one sub-schema once inlined: the $ref was counted above, so not again.
      conversion.schemasLeft += 1;
      flatten({ schema: target, place: part.place, refs: [...part.refs, ref], level: part.level + 1 }, conversion, parts);
    } else {
      lost?.(`${part.place}.$ref`);
      unresolved = true;
      if (recursive) standsFor = typesOf(resolveRef(ref, conversion.root)?.type);
    }
  }
  parts.push({ ...part, schema: own, ...(unresolved ? { unresolved } : {}), ...(standsFor?.length ? { standsFor } : {}) });
  if (Array.isArray(allOf)) allOf.forEach((member, i) => isSchema(member) && flatten({ schema: member, place: lost ? `${part.place}.allOf[${i}]` : '', refs: part.refs, level: part.level + 1 }, conversion, parts));
}

/** What `lost` is told of a strict part whatever the other parts say: the constraints Gemini's Schema has no form for. */
function tellLosses(part: Part, lost: Lost): void {
  const { schema, place } = part;
  for (const keyword of LOOSENING) if (schema[keyword] !== undefined && schema[keyword] !== false) lost(`${place}.${keyword}`);
  if (isSchema(schema.additionalProperties)) lost(`${place}.additionalProperties`);
  // A tuple (`items` as an array, before 2020-12) and a property that allows nothing (`false`) have no Gemini form.
  if (Array.isArray(schema.items)) lost(`${place}.items`);
  if (isSchema(schema.properties)) for (const [name, value] of Object.entries(schema.properties)) if (value === false) lost(`${place}.properties.${name}`);
}

/** Parts merged into one schema, with the part each keyword's value came from and the parts of each sub-schema. */
interface Merged {
  schema: JsonSchema;
  from: Map<string, Part>;
  properties: Map<string, Part[]>;
  items: Part[];
}

/**
 * The parts' keywords in one schema, which a value must meet all of (JSON Schema's allOf), held exactly where Gemini's
 * Schema can: properties and items that several parts describe are joined into one sub-schema made of all their
 * parts, required names listed together, bounds the tightest, the types those that all parts allow. A keyword of
 * HELD_ONCE given two different values, or types with none in common, cannot be held: the later value wins, which
 * loosens or changes the schema, so it is told to `lost` by the later part's place. Other keywords are annotations
 * (a later description wins) or told by `tellLosses`. Linear in the parts: a few thousand members once took seconds
 * when what was joined so far was copied at each one. The sub-schemas found are counted as they are found, each
 * being one more to convert: members that each describe the same thousand properties are refused at the first
 * thousand, not after all of them are joined.
 */
function mergeParts(parts: Part[], conversion: Conversion): Merged {
  const { lost } = conversion;
  const merged: Merged = { schema: {}, from: new Map(), properties: new Map(), items: [] };
  const { schema, from } = merged;
  const required = new Set<unknown>();
  let found = 0;
  // The parts that allow no properties but their own (`additionalProperties: false`): told, when strict, of every
  // property another part adds, which joining the parts' properties would let through.
  const closed = lost ? parts.filter((part) => part.schema.additionalProperties === false) : [];
  for (const part of parts) {
    const inside = (schema: JsonSchema, suffix: string): Part => {
      if (++found > conversion.schemasLeft) throw tooManySchemas(conversion.where);
      return { schema, place: lost ? `${part.place}${suffix}` : '', refs: part.refs, level: part.level + 1 };
    };
    for (const [keyword, value] of Object.entries(part.schema)) {
      // No keyword of JSON Schema's; JSON.parse keeps it as a member, but set here it would replace the prototype.
      if (keyword === '__proto__') continue;
      const previous = schema[keyword];
      if (keyword === 'properties' && isSchema(value)) {
        for (const [name, property] of Object.entries(value)) {
          if (!isSchema(property)) continue;
          for (const other of closed) if (other !== part && !(isSchema(other.schema.properties) && Object.hasOwn(other.schema.properties, name))) lost?.(`${part.place}.properties.${name}`);
          const described = merged.properties.get(name);
          if (described) described.push(inside(property, `.properties.${name}`));
          else merged.properties.set(name, [inside(property, `.properties.${name}`)]);
        }
        continue;
      }
      if (keyword === 'required' && Array.isArray(value)) for (const name of value as unknown[]) required.add(name);
      // `items` beside `prefixItems` holds only after the prefix (2020-12): for every item it would be stricter.
      else if (keyword === 'items' && isSchema(value)) {
        if (part.schema.prefixItems === undefined) merged.items.push(inside(value, '.items'));
      }
      else if (previous === undefined) schema[keyword] = value;
      else if (keyword === 'type') {
        const common = commonTypes(typesOf(previous), typesOf(value));
        if (common.length === 0) lost?.(`${part.place}.type`);
        schema.type = common.length === 0 ? value : common;
      } else if (TIGHTEST[keyword] && typeof previous === 'number' && typeof value === 'number') schema[keyword] = TIGHTEST[keyword](previous, value);
      else {
        if (lost && HELD_ONCE.includes(keyword) && !sameJson(previous, value)) lost(`${part.place}.${keyword}`);
        schema[keyword] = value;
      }
      from.set(keyword, part);
    }
  }
  if (required.size > 0) schema.required = [...required];
  return merged;
}

/** One schema to convert, made of `joined` (the root alone, or a property several parts describe), with its children. */
function convert(joined: Part[], conversion: Conversion): JsonSchema {
  const parts: Part[] = [];
  for (const part of joined) flatten(part, conversion, parts);
  const { lost } = conversion;
  if (lost) for (const part of parts) tellLosses(part, lost);
  const merged = mergeParts(parts, conversion);
  const { schema } = merged;
  /** Where `keyword` is in the client's schema: in the part its value came from. */
  const at = (keyword: string) => `${(merged.from.get(keyword) ?? parts[0])?.place ?? ''}.${keyword}`;

  const out: JsonSchema = {};
  for (const key of COPIED) if (schema[key] !== undefined) out[key] = schema[key];

  const types = typesOf(schema.type);
  withTypes(out, types);
  if (schema.const !== undefined && out.type === undefined && typeof schema.const === 'string') out.type = 'STRING';

  const type = out.type as string | undefined;
  if (typeof schema.format === 'string' && type && FORMATS[type]?.includes(schema.format)) out.format = schema.format;
  else if (schema.format !== undefined) lost?.(at('format'));
  // Both hold: the value is the `const`, and only if the `enum` lists it; when it does not, no value is valid, which
  // Gemini cannot be told, and the `const` alone would let through one the client's schema refuses.
  if (lost && schema.const !== undefined && Array.isArray(schema.enum) && !schema.enum.some((value: unknown) => sameJson(value, schema.const))) lost(at('enum'));
  const listed = schema.const !== undefined ? [schema.const] : schema.enum;
  // `null` among the values is Gemini's `nullable` (`{type: ["string", "null"], enum: ["C", "F", null]}`).
  const values = Array.isArray(listed) && listed.includes(null) ? listed.filter((v) => v !== null) : listed;
  if (values !== listed && (values as unknown[]).length > 0 && (types.length === 0 || types.includes('NULL'))) out.nullable = true;
  if (Array.isArray(values) && values.length > 0 && values.every((v) => typeof v === 'string') && (type === 'STRING' || type === undefined)) {
    out.type = 'STRING';
    out.enum = values;
  } else if (values !== undefined) lost?.(at(schema.const !== undefined ? 'const' : 'enum'));

  // A required name whose property Gemini is not given a schema of (none, or `true`) cannot be required of it: the
  // object could leave the member out.
  if (lost && Array.isArray(schema.required)) for (const name of schema.required as unknown[]) if (typeof name !== 'string' || !merged.properties.has(name)) lost(at('required'));
  if (merged.properties.size > 0) {
    const properties = Object.fromEntries([...merged.properties].map(([name, described]) => [name, convert(described, conversion)]));
    out.properties = properties;
    if (Array.isArray(schema.required)) {
      const required = schema.required.filter((name): name is string => typeof name === 'string' && Object.hasOwn(properties, name));
      if (required.length > 0) out.required = required;
    }
  }
  if (merged.items.length > 0) out.items = convert(merged.items, conversion);
  const alternatives = (['anyOf', 'oneOf'] as const).flatMap((keyword) => {
    const part = merged.from.get(keyword);
    if (!part || !Array.isArray(schema[keyword])) return [];
    return (schema[keyword] as unknown[]).flatMap((alternative, i): Part[] => (isSchema(alternative) ? [{ schema: alternative, place: lost ? `${part.place}.${keyword}[${i}]` : '', refs: part.refs, level: part.level + 1 }] : []));
  });
  if (alternatives.length > 0) {
    // Alternatives beside a list of types would replace the types' own alternatives: the types would be lost.
    if (out.anyOf !== undefined) lost?.(at(schema.anyOf !== undefined ? 'anyOf' : 'oneOf'));
    // Both: a value must match one of each, and one list of both would take a match of either.
    if (schema.anyOf !== undefined && schema.oneOf !== undefined) lost?.(at('oneOf'));
    out.anyOf = alternatives.map((alternative) => convert([alternative], conversion));
  }
  // A recursive $ref stands for its definition's types, with nothing more said of them (looser, never stricter, than
  // the client's schema); one that names none, or resolves to nothing, for an object (a tree's node). What is beside
  // it says the type instead, when it does.
  const stand = parts.find((part) => part.unresolved);
  if (stand && out.type === undefined && out.anyOf === undefined) {
    withTypes(out, stand.standsFor ?? ['OBJECT']);
    // Gemini refuses an ARRAY without `items`: the recursion is cut at an array of objects, as it was cut at an object.
    const withItems = (alternative: JsonSchema) => (alternative.type === 'ARRAY' ? { ...alternative, items: { type: 'OBJECT' } } : alternative);
    if (out.type === 'ARRAY') out.items = { type: 'OBJECT' };
    if (Array.isArray(out.anyOf)) out.anyOf = (out.anyOf as JsonSchema[]).map(withItems);
  }
  return out;
}

/** The types a value may have, on `out`: one as `type`, several as `anyOf`, `null` among others as `nullable`. */
function withTypes(out: JsonSchema, types: string[]): void {
  const nonNull = types.filter((t) => t !== 'NULL');
  if (types.includes('NULL') && nonNull.length > 0) out.nullable = true;
  if (nonNull.length === 1) out.type = nonNull[0];
  else if (nonNull.length > 1) out.anyOf = nonNull.map((type) => ({ type }));
  else if (types.length === 1) out.type = 'NULL';
}

/**
 * The client's JSON Schema as a Gemini Schema (see above). `strict` (OpenAI's promise that the answer follows the
 * schema): a keyword whose loss would loosen it is refused with a 400 whose `param` is its place under `where`
 * (`response_format.json_schema.schema.properties.rank.enum`), retryable so that an alias's next target, which may
 * enforce it, is tried; the client learns what Gemini cannot hold instead of getting answers that break it. Strict or
 * not, a schema past MAX_LEVELS, MAX_SCHEMAS or MAX_COPIED is refused the same way, `schema_too_complex` naming `where`.
 */
export function toGeminiSchema(schema: JsonSchema, strict = false, where = 'schema'): JsonSchema {
  return convert([{ schema, place: where, refs: [], level: 1 }], { root: schema, where, lost: strict ? refuseLoss : undefined, schemasLeft: MAX_SCHEMAS, copiedLeft: MAX_COPIED, lengths: new Map() });
}

/** A strict schema's loss (see toGeminiSchema), refused by its place. */
function refuseLoss(place: string): never {
  const keyword = place.slice(place.lastIndexOf('.') + 1);
  throw new ProviderCallError({
    status: 400,
    type: 'invalid_request_error',
    code: 'unsupported_value',
    param: place,
    message: `Gemini cannot enforce "${keyword}" at ${place}, and the schema is strict: Gemini's schema has no such constraint (or enum and const of other values than strings, a format other than date-time, int32, int64, float or double, a recursive $ref, a value that another allOf member or the definition of a $ref beside it sets differently). Remove it, set strict to false to have Gemini follow the schema without it, or use another provider.`,
    retryable: true,
  });
}

/** Whether a converted schema is an object with at least one property: Gemini refuses empty OBJECT parameters. */
export function hasProperties(schema: JsonSchema): boolean {
  return isSchema(schema.properties) && Object.keys(schema.properties).length > 0;
}
