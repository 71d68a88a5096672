import { AiError } from './openai-error.js';

/**
 * The deepest a unified API request may nest objects and arrays, the body itself counting as the first level.
 * Far above any real request: JSON schemas and tool definitions nest tens of levels (OpenAI takes strict schemas of
 * at most 10 levels of nesting, two levels of JSON each: `properties`, then the property), messages a handful. Far
 * below what the gateway's own recursive work on a request takes: JSON.stringify (a tool's token estimate, the cache
 * key, every adapter's body) overruns the stack between 2,000 and 2,500 levels, with a replacer or a recursive schema
 * conversion sooner, from a stack already in use.
 */
export const MAX_NESTING_DEPTH = 256;

/** A place in a JSON value: the names of members and the indexes of items that lead to it, outermost first. */
export type JsonPath = Array<string | number>;

/** How many steps of a path an error shows: enough for the member and the part of it that nests deep. */
const SHOWN_STEPS = 8;

/** How much of a member's name a path shows: a name may be as long as the body. */
const SHOWN_NAME_CHARS = 40;

/** An object or array met on the way down, and how it was reached (its parent's frame, and its name or index there). */
interface Frame {
  value: object;
  depth: number;
  parent: Frame | undefined;
  key: string | number;
}

const isContainer = (value: unknown): value is object => typeof value === 'object' && value !== null;

/** The path from the root to `key` of the value of `frame`. */
function pathOf(frame: Frame, key: string | number): JsonPath {
  const path: JsonPath = [key];
  for (let at: Frame | undefined = frame; at?.parent !== undefined; at = at.parent) path.push(at.key);
  return path.reverse();
}

/**
 * Whether `here`, an object or array at level `depth`, holds one more than `max` levels deep. The check every body
 * gets: it recurses no deeper than `max` frames, far within the stack, and allocates nothing.
 */
function exceeds(here: object, depth: number, max: number): boolean {
  if (Array.isArray(here)) {
    for (let i = 0; i < here.length; i++) {
      const item: unknown = here[i];
      if (isContainer(item) && (depth >= max || exceeds(item, depth + 1, max))) return true;
    }
    return false;
  }
  for (const key in here) {
    const member: unknown = (here as Record<string, unknown>)[key];
    if (isContainer(member) && (depth >= max || exceeds(member, depth + 1, max))) return true;
  }
  return false;
}

/**
 * The path of the first object or array that lies more than `max` levels deep in `value` (`value` itself is the
 * first level), in JavaScript's order of members (integer-like names first, the others as the JSON writes them), or
 * undefined if none does. Checked by `exceeds` (for a bound up to MAX_NESTING_DEPTH); the path of a value too deep
 * is found with a stack of its own, not by recursion, so that any depth JSON.parse takes is walked, each object and
 * array once.
 *
 * @example tooDeepAt({ a: { b: [{}] } }, 3) // ['a', 'b', 0]
 */
export function tooDeepAt(value: unknown, max = MAX_NESTING_DEPTH): JsonPath | undefined {
  if (!isContainer(value)) return undefined;
  // `exceeds` recurses as deep as `max`: safe for the gateway's bound, not for any bound a caller could give.
  if (max <= MAX_NESTING_DEPTH && !exceeds(value, 1, max)) return undefined;
  const stack: Frame[] = [{ value, depth: 1, parent: undefined, key: '' }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const { value: here, depth } = frame;
    const children: Frame[] = [];
    const entries: Array<[string | number, unknown]> = Array.isArray(here) ? here.map((item: unknown, i) => [i, item]) : Object.entries(here);
    for (const [key, child] of entries) {
      if (!isContainer(child)) continue;
      if (depth >= max) return pathOf(frame, key);
      children.push({ value: child, depth: depth + 1, parent: frame, key });
    }
    // Last pushed, first walked: the children go on in reverse, for the first of them to be walked first.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return undefined;
}

/**
 * A path as the API names a parameter: OpenAI's `tools[0].function.parameters`, Anthropic's `tools.0.input_schema`;
 * after SHOWN_STEPS steps, and within a long name, cut and marked `…`.
 *
 * @example shownPath(['tools', 0, 'function', 'parameters'], 'openai') // 'tools[0].function.parameters'
 */
export function shownPath(path: JsonPath, form: 'openai' | 'anthropic'): string {
  let shown = '';
  for (const step of path.slice(0, SHOWN_STEPS)) {
    if (typeof step === 'number') shown += form === 'openai' ? `[${step}]` : `.${step}`;
    else shown += `${shown === '' ? '' : '.'}${step.length > SHOWN_NAME_CHARS ? `${step.slice(0, SHOWN_NAME_CHARS)}…` : step}`;
  }
  return path.length > SHOWN_STEPS ? `${shown}…` : shown;
}

/**
 * Refuses a request body nested more than MAX_NESTING_DEPTH levels deep with `400 nesting_too_deep`, its `param` the
 * place of the first value too deep (in `form`, the route's API's): checked as soon as the body is parsed, before
 * anything walks it, writes it out or counts it against a limit or a budget.
 */
export function refuseDeepNesting(body: unknown, form: 'openai' | 'anthropic'): void {
  const path = tooDeepAt(body);
  if (path === undefined) return;
  const param = shownPath(path, form);
  const what = `nests objects and arrays more than ${MAX_NESTING_DEPTH} levels deep, more than the gateway takes (real schemas and messages nest tens of levels): send it less deeply nested`;
  throw new AiError(400, 'invalid_request_error', 'nesting_too_deep', form === 'anthropic' ? `${param}: ${what}` : `'${param}' ${what}`, param);
}

/**
 * Whether JSON parsed from a string of the request (a tool call's arguments, a tool's result) nests objects and
 * arrays more than MAX_NESTING_DEPTH levels deep. The body's check (refuseDeepNesting) does not see inside strings,
 * and an adapter that sends such a value to its provider as JSON writes it out again, within its own body: one nested
 * thousands deep would overrun the stack there.
 */
export const nestsTooDeep = (value: unknown): boolean => tooDeepAt(value) !== undefined;
