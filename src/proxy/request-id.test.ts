import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { requestIdOf } from './request-id.js';

const req = (id?: string) => ({ headers: id === undefined ? {} : { 'x-request-id': id } }) as unknown as IncomingMessage;

describe('the request id', () => {
  it('keeps a sane id the client sent', () => {
    expect(requestIdOf(req('trace-42.abc:1@edge'))).toBe('trace-42.abc:1@edge');
  });

  it.each([['x'.repeat(101)], ['has space'], ['new\nline'], ['<script>'], ['']])('replaces %j with a new UUID', (id) => {
    expect(requestIdOf(req(id))).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('makes one when the client sent none', () => {
    expect(requestIdOf(req())).toMatch(/^[0-9a-f-]{36}$/);
  });
});
