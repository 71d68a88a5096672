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
 * A schema is in the subset when every keyword anywhere in it is listed, `enum` holds only strings and numbers, every
 * `$ref` is local and resolves, and both rules hold. Such a schema is enforced whole: `$defs` recursion, tuples
 * (`prefixItems`), numeric enums and bounds, none of which the Schema conversion can keep.
 */
type JsonSchema = Record<string, unknown>;

/** Google's list for responseJsonSchema, with the non-standard `propertyOrdering` it also takes. */
const SUPPORTED = new Set(['$id', '$defs', '$ref', '$anchor', 'type', 'format', 'title', 'description', 'enum', 'items', 'prefixItems', 'minItems', 'maxItems', 'minimum', 'maximum', 'anyOf', 'oneOf', 'properties', 'additionalProperties', 'required', 'propertyOrdering']);

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
  for (const keyword of ['prefixItems', 'anyOf', 'oneOf'] as const) {
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

function anchorsOf(schema: unknown, found = new Map<string, JsonSchema>(), seen = new Set<unknown>()): Map<string, JsonSchema> {
  if (typeof schema !== 'object' || schema === null || seen.has(schema)) return found;
  seen.add(schema);
  if (isSchema(schema) && typeof schema.$anchor === 'string') found.set(schema.$anchor, schema);
  for (const value of Object.values(schema)) anchorsOf(value, found, seen);
  return found;
}

/** Whether Gemini enforces `schema` whole as a JSON Schema (see above). */
export function inGeminiJsonSchemaSubset(root: JsonSchema): boolean {
  const anchors = anchorsOf(root);
  const steps = new Map<JsonSchema, Step[]>();
  const pending = [root, ...(isSchema(root.$defs) ? Object.values(root.$defs).filter(isSchema) : [])];
  while (pending.length > 0) {
    const schema = pending.pop() as JsonSchema;
    if (steps.has(schema)) continue;
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
