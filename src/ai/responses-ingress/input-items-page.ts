import { includesEncryptedReasoning, outputAsIncluded } from './encrypted-reasoning.js';
import { checkInclude, includeOfQuery } from './includable.js';
import { ResponsesRequestError, unknownParameter } from './responses-error.js';
import type { ResponsesInputItem } from './wire-types.js';

/** The query of `GET /v1/responses/{id}/input_items` (https://platform.openai.com/docs/api-reference/responses/input-items). */
export interface InputItemsQuery {
  /** 1 to 100; 20 by default. */
  limit: number;
  /** `desc` (the last item first) by default, as OpenAI's. */
  order: 'asc' | 'desc';
  /** The id of the item the page starts after, in that order. */
  after: string | undefined;
  /** What the list shows that it leaves out unless asked (`reasoning.encrypted_content`): OpenAI's `include` values. */
  include: string[];
}

/** OpenAI's cursor page (`object: "list"`, `data`, `first_id`, `last_id`, `has_more`). */
export interface InputItemsPage {
  object: 'list';
  data: ResponsesInputItem[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

const QUERY_PARAMETERS = new Set(['after', 'include', 'include[]', 'limit', 'order']);

/**
 * The list query from a request's query string: the parameters OpenAI documents for it, `after`, `include`, `limit`
 * and `order` (https://platform.openai.com/docs/api-reference/responses/input-items). `include` comes as the SDKs
 * send an array (`include[]=…`) or plain (`include=…`). A malformed value is a 400 naming it.
 *
 * @example readInputItemsQuery(new URLSearchParams('limit=2&order=asc')) // { limit: 2, order: 'asc', after: undefined, include: [] }
 */
export function readInputItemsQuery(params: URLSearchParams): InputItemsQuery {
  // Another parameter (`before`, which OpenAI no longer documents, or a misspelt one) is refused, not ignored: a page
  // that did not apply it would look like one that did.
  for (const name of params.keys()) {
    if (!QUERY_PARAMETERS.has(name)) throw unknownParameter(name);
  }
  const limitText = params.get('limit');
  // Decimal digits alone: Number() would also read '1e1', '0x10' and ' 5' as integers.
  const limit = limitText === null || limitText === '' ? 20 : /^\d+$/.test(limitText) ? Number(limitText) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ResponsesRequestError('limit', "Invalid 'limit': expected an integer from 1 to 100.");
  // An empty value is a parameter not given, as for `limit` and `after`: a form or a template leaves it so.
  const order = params.get('order') || 'desc';
  if (order !== 'asc' && order !== 'desc') throw new ResponsesRequestError('order', "Invalid 'order': expected 'asc' or 'desc'.");
  const after = params.get('after') || undefined;
  const include = includeOfQuery(params);
  checkInclude(include);
  return { limit, order, after, include };
}

/**
 * The items with an id each of their own: a client may send an item again under its id (an earlier output item
 * beside `previous_response_id`, say), and a cursor that names two items would page back. An id met before, in the
 * items' order, gets its place appended (`msg_…_7`): the same every time the list is read, so cursors hold.
 */
function withUniqueIds(items: readonly ResponsesInputItem[]): readonly ResponsesInputItem[] {
  const seen = new Set<string>();
  return items.map((item, at) => {
    const unique = seen.has(item.id) ? { ...item, id: `${item.id}_${at}` } : item;
    seen.add(unique.id);
    return unique;
  });
}

/**
 * One page of a stored Response's input items, in `order`, from the item after `after` on. An `after` that is no
 * item of the Response is a 400: a cursor can only come from an earlier page of the same list. A reasoning item's
 * `encrypted_content` is shown only to a list that includes `reasoning.encrypted_content`, as OpenAI's `include`
 * says, whoever made it: Keygate (an earlier turn's output) or the client (an item it sent back).
 *
 * @example inputItemsPage(items, { limit: 20, order: 'desc', after: undefined, include: [] }).first_id // the last input item's id
 */
export function inputItemsPage(items: readonly ResponsesInputItem[], query: InputItemsQuery): InputItemsPage {
  const unique = withUniqueIds(outputAsIncluded(items, includesEncryptedReasoning(query.include)));
  const ordered = query.order === 'asc' ? unique : [...unique].reverse();
  let start = 0;
  if (query.after !== undefined) {
    const at = ordered.findIndex((item) => item.id === query.after);
    if (at === -1) throw new ResponsesRequestError('after', "Invalid 'after': expected the id of an input item of this response.");
    start = at + 1;
  }
  const data = ordered.slice(start, start + query.limit);
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + data.length < ordered.length };
}
