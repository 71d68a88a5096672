/**
 * Whether Gemini takes a client's JSON Schema as it is, as `generationConfig.responseJsonSchema` (or a function's
 * `parametersJsonSchema`), instead of converted to its OpenAPI-subset Schema. Google's reference
 * (https://ai.google.dev/api/generate-content#FIELDS.response_json_schema) lists the only keywords it supports and
 * says the rest "may be sent" but are not enforced; it also sets two rules that it answers 400 to:
 *
 * - a `$ref` may have beside it only keywords that start with `$`;
 * - a cycle of `$ref`s must pass through a property that is not required (or, in Gemini's own error, "a potentially-
 *   zero-length array items"): "Nullable properties are not sufficient", so a loop through required ones is refused.
 *
 * A schema is in the subset when every keyword anywhere in it is listed, `enum` holds only strings and numbers, a
 * `format` is one of the string formats Google's structured-output guide names (date-time, date, time), every `$ref`
 * is local and resolves against the root (no nested `$id` moves it), and both rules hold. Such a schema is enforced
 * as written, which the Schema conversion cannot do for `$defs` recursion (which Gemini unrolls "to a limited
 * degree"), tuples (`prefixItems`), numeric enums and bounds. Left out although Google lists it: `oneOf`, which
 * Gemini treats as `anyOf`, so that a strict schema's exclusive alternatives are not sent to be read as inclusive.
 * The array-items way out of a `$ref` loop comes from Gemini's own 400 text, not its reference.
 */
type JsonSchema = Record<string, unknown>;

/** Google's list for responseJsonSchema, with the non-standard `propertyOrdering` it also takes, less `oneOf` (above). */
const SUPPORTED = new Set(['$id', '$defs', '$ref', '$anchor', 'type', 'format', 'title', 'description', 'enum', 'items', 'prefixItems', 'minItems', 'maxItems', 'minimum', 'maximum', 'anyOf', 'properties', 'additionalProperties', 'required', 'propertyOrdering']);
/** The formats Gemini's structured output enforces, all of them on strings. */
const FORMATS = new Set(['date-time', 'date', 'time']);
/** More schemas than any structured output needs; past it the walk below would run deep on the stack. */
const MAX_SCHEMAS = 1000;

const isSchema = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A step from one schema to a schema inside it; `mayBeAbsent` when a value can be valid without that part being there. */
interface Step {
  to: JsonSchema;
  mayBeAbsent: boolean;
}

/** `#`, a JSON pointer (`#/$defs/node`) or an anchor (`#node`, a `$anchor` somewhere in the root). */
function resolveRef(ref: string, root: JsonSchema, anchors: Map<string, JsonSchema>): JsonSchema | undefined {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return ref.startsWith('#') ? anchors.get(ref.slice(1)) : undefined;
  let at: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    let token = raw;
    try {
      token = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    token = token.replace(/~1/g, '/').replace(/~0/g, '~');
    at = isSchema(at) ? at[token] : Array.isArray(at) ? at[Number(token)] : undefined;
  }
  return isSchema(at) ? at : undefined;
}

/** The schemas directly inside `schema`, or undefined when a keyword or value is outside the subset. */
function stepsOf(schema: JsonSchema, root: JsonSchema, anchors: Map<string, JsonSchema>): Step[] | undefined {
  const keys = Object.keys(schema);
  if (keys.some((key) => !SUPPORTED.has(key))) return undefined;
  if (schema.enum !== undefined && !(Array.isArray(schema.enum) && schema.enum.every((value) => typeof value === 'string' || typeof value === 'number'))) return undefined;
  if (schema.format !== undefined && !(typeof schema.format === 'string' && FORMATS.has(schema.format) && schema.type === 'string')) return undefined;
  // A nested $id would change what the `$ref`s below it point to; the walk resolves them all against the root.
  if (schema.$id !== undefined && schema !== root) return undefined;
  if (schema.$ref !== undefined) {
    const target = typeof schema.$ref === 'string' ? resolveRef(schema.$ref, root, anchors) : undefined;
    if (!target || keys.some((key) => !key.startsWith('$'))) return undefined;
    return [{ to: target, mayBeAbsent: false }];
  }
  const steps: Step[] = [];
  const required = Array.isArray(schema.required) ? schema.required : [];
  if (schema.properties !== undefined) {
    if (!isSchema(schema.properties)) return undefined;
    for (const [name, value] of Object.entries(schema.properties)) {
      if (!isSchema(value)) return undefined;
      steps.push({ to: value, mayBeAbsent: !required.includes(name) });
    }
  }
  const minItems = typeof schema.minItems === 'number' ? schema.minItems : 0;
  if (schema.items !== undefined) {
    if (!isSchema(schema.items)) return undefined;
    steps.push({ to: schema.items, mayBeAbsent: minItems === 0 });
  }
  for (const keyword of ['prefixItems', 'anyOf'] as const) {
    if (schema[keyword] === undefined) continue;
    const members = schema[keyword];
    if (!Array.isArray(members) || !members.every(isSchema)) return undefined;
    members.forEach((member, i) => steps.push({ to: member, mayBeAbsent: keyword === 'prefixItems' && i >= minItems }));
  }
  if (isSchema(schema.additionalProperties)) steps.push({ to: schema.additionalProperties, mayBeAbsent: true });
  else if (schema.additionalProperties !== undefined && typeof schema.additionalProperties !== 'boolean') return undefined;
  if (schema.$defs !== undefined && (!isSchema(schema.$defs) || !Object.values(schema.$defs).every(isSchema))) return undefined;
  return steps;
}

/** Every `$anchor` in `schema`, walked without recursion: a client's schema may nest deeper than the stack goes. */
function anchorsOf(schema: unknown): Map<string, JsonSchema> {
  const found = new Map<string, JsonSchema>();
  const seen = new Set<unknown>();
  const pending = [schema];
  while (pending.length > 0) {
    const at = pending.pop();
    if (typeof at !== 'object' || at === null || seen.has(at)) continue;
    seen.add(at);
    if (isSchema(at) && typeof at.$anchor === 'string') found.set(at.$anchor, at);
    for (const value of Object.values(at)) pending.push(value);
  }
  return found;
}

/** Whether Gemini enforces `schema` as written, as a JSON Schema (see above). */
export function inGeminiJsonSchemaSubset(root: JsonSchema): boolean {
  const anchors = anchorsOf(root);
  const steps = new Map<JsonSchema, Step[]>();
  const pending = [root, ...(isSchema(root.$defs) ? Object.values(root.$defs).filter(isSchema) : [])];
  while (pending.length > 0) {
    const schema = pending.pop() as JsonSchema;
    if (steps.has(schema)) continue;
    if (steps.size >= MAX_SCHEMAS) return false;
    const out = stepsOf(schema, root, anchors);
    if (!out) return false;
    steps.set(schema, out);
    for (const step of out) pending.push(step.to);
  }
  // A loop of steps none of which may be absent is one no finite value ends: Gemini refuses it.
  const state = new Map<JsonSchema, 'open' | 'done'>();
  const loops = (schema: JsonSchema): boolean => {
    if (state.get(schema) === 'open') return true;
    if (state.get(schema) === 'done') return false;
    state.set(schema, 'open');
    const found = (steps.get(schema) ?? []).some((step) => !step.mayBeAbsent && loops(step.to));
    state.set(schema, 'done');
    return found;
  };
  return ![...steps.keys()].some(loops);
}
