import { describe, expect, it } from 'vitest';
import { inputItemsPage, readInputItemsQuery } from './input-items-page.js';
import type { ResponsesInputItem } from './wire-types.js';

const items: ResponsesInputItem[] = ['msg_1', 'msg_2', 'msg_3', 'msg_4', 'msg_5'].map((id) => ({ id, type: 'message', role: 'user', content: [{ type: 'input_text', text: id }] }));
const ids = (page: { data: ResponsesInputItem[] }) => page.data.map((item) => item.id);

describe("a stored Response's input items as OpenAI lists them", () => {
  it('lists the last item first by default, 20 at most', () => {
    const page = inputItemsPage(items, readInputItemsQuery(new URLSearchParams()));
    expect(page).toEqual({ object: 'list', data: [...items].reverse(), first_id: 'msg_5', last_id: 'msg_1', has_more: false });
  });

  it('pages in ascending order with limit and after, saying when more are left', () => {
    const first = inputItemsPage(items, readInputItemsQuery(new URLSearchParams('order=asc&limit=2')));
    expect([ids(first), first.has_more]).toEqual([['msg_1', 'msg_2'], true]);
    const last = inputItemsPage(items, readInputItemsQuery(new URLSearchParams(`order=asc&limit=3&after=${first.last_id}`)));
    expect([ids(last), last.has_more]).toEqual([['msg_3', 'msg_4', 'msg_5'], false]);
  });

  it('takes an empty limit, order or after as not given', () => {
    expect(readInputItemsQuery(new URLSearchParams('limit=&order=&after='))).toEqual(readInputItemsQuery(new URLSearchParams('')));
    expect(readInputItemsQuery(new URLSearchParams('order='))).toMatchObject({ limit: 20, order: 'desc', after: undefined });
  });

  it.each([['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=two', 'limit'], ['limit=1e1', 'limit'], ['limit=0x10', 'limit'], ['limit=%205', 'limit'], ['limit=5.0', 'limit'], ['order=up', 'order'], ['include[]=usage', 'include[0]'], ['include=reasoning.encrypted_content&include=usage', 'include[1]']])('refuses %s with a 400 naming %s', (query, param) => {
    expect(() => readInputItemsQuery(new URLSearchParams(query))).toThrow(expect.objectContaining({ status: 400, param, code: 'invalid_value' }));
  });

  it('lists an item sent again under an id it had (an earlier output item beside previous_response_id) under an id of its own, so every page moves on', () => {
    const again: ResponsesInputItem[] = [...items.slice(0, 3), { ...items[1]! }, ...items.slice(3)];
    const seen: string[] = [];
    let after = '';
    for (let page = 0; page < 10; page++) {
      const listed = inputItemsPage(again, readInputItemsQuery(new URLSearchParams(`order=asc&limit=2${after ? `&after=${after}` : ''}`)));
      seen.push(...ids(listed));
      if (!listed.has_more) break;
      after = listed.last_id!;
    }
    expect(seen).toEqual(['msg_1', 'msg_2', 'msg_3', 'msg_2_3', 'msg_4', 'msg_5']);
  });

  it('repeats at most 64 characters of an include value it refuses', () => {
    const refusal = (() => {
      try {
        readInputItemsQuery(new URLSearchParams(`include=${'x'.repeat(5000)}`));
        return undefined;
      } catch (error) {
        return error as Error;
      }
    })();
    expect(refusal?.message).toContain(`'${'x'.repeat(64)}…'`);
    expect(refusal?.message).not.toContain('x'.repeat(65));
  });

  it("shows a reasoning item's encrypted_content, the client's own included, only to a list that includes reasoning.encrypted_content", () => {
    const reasoning = { id: 'rs_1', type: 'reasoning', summary: [], encrypted_content: 'kg2.sealed' };
    const sent: ResponsesInputItem[] = [items[0]!, reasoning, items[1]!];
    const encrypted = (query: string) => inputItemsPage(sent, readInputItemsQuery(new URLSearchParams(query))).data.map((item) => item.encrypted_content);
    expect(encrypted('order=asc')).toEqual([undefined, undefined, undefined]);
    expect(inputItemsPage(sent, readInputItemsQuery(new URLSearchParams('order=asc'))).data[1]).toEqual({ id: 'rs_1', type: 'reasoning', summary: [] });
    expect(encrypted('order=asc&include[]=reasoning.encrypted_content')).toEqual([undefined, 'kg2.sealed', undefined]);
    expect(encrypted('order=asc&include=reasoning.encrypted_content')).toEqual([undefined, 'kg2.sealed', undefined]);
  });

  it.each(['before=msg_3', 'limt=2'])('refuses a parameter the list does not have (%s) rather than answer a page that ignored it', (query) => {
    const name = query.split('=')[0];
    expect(() => readInputItemsQuery(new URLSearchParams(query))).toThrow(expect.objectContaining({ status: 400, param: name, code: 'unknown_parameter' }));
  });

  it('refuses an after that is no item of the Response', () => {
    expect(() => inputItemsPage(items, readInputItemsQuery(new URLSearchParams('after=msg_9')))).toThrow(expect.objectContaining({ status: 400, param: 'after' }));
  });
});
