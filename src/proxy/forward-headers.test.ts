import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, upstreamRequestHeaders } from './forward-headers.js';

/** Just what the header functions read from a request: its headers and the client's address. */
const request = (headers: IncomingHttpHeaders, remoteAddress = '192.0.2.10') => ({ headers, socket: { remoteAddress } }) as unknown as IncomingMessage;

const options = { requestId: 'req-1', host: 'backend.internal:9000', proto: 'http' as const };

describe('upstreamRequestHeaders', () => {
  it('removes the hop-by-hop headers of RFC 9110 §7.6.1 and keeps end-to-end ones', () => {
    const out = upstreamRequestHeaders(
      request({ connection: 'keep-alive', 'keep-alive': 'timeout=5', te: 'trailers', trailer: 'x-sum', 'transfer-encoding': 'chunked', upgrade: 'h2c', 'proxy-authorization': 'Basic eA==', 'proxy-connection': 'keep-alive', accept: 'application/json', authorization: 'Bearer app' }),
      options,
    );
    for (const name of ['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-connection']) expect(out).not.toHaveProperty(name);
    expect(out).toMatchObject({ accept: 'application/json', authorization: 'Bearer app' });
  });

  it('removes the headers the client named in Connection', () => {
    const out = upstreamRequestHeaders(request({ connection: 'keep-alive, X-Session-Hint ,x-trace-hop', 'x-session-hint': 'a', 'x-trace-hop': 'b', 'x-kept': 'c' }), options);
    expect(out).not.toHaveProperty('x-session-hint');
    expect(out).not.toHaveProperty('x-trace-hop');
    expect(out['x-kept']).toBe('c');
  });

  it('starts X-Forwarded-For with the client address, or appends it to the one received', () => {
    expect(upstreamRequestHeaders(request({}), options)['x-forwarded-for']).toBe('192.0.2.10');
    expect(upstreamRequestHeaders(request({ 'x-forwarded-for': '203.0.113.7, 198.51.100.2' }), options)['x-forwarded-for']).toBe('203.0.113.7, 198.51.100.2, 192.0.2.10');
  });

  it('sets X-Forwarded-Proto and X-Forwarded-Host, replacing what the client sent', () => {
    const out = upstreamRequestHeaders(request({ host: 'api.example.com', 'x-forwarded-proto': 'gopher', 'x-forwarded-host': 'spoofed.example' }), { ...options, proto: 'https' });
    expect(out['x-forwarded-proto']).toBe('https');
    expect(out['x-forwarded-host']).toBe('api.example.com');
  });

  it('appends an RFC 7239 Forwarded element, quoting and bracketing an IPv6 node', () => {
    expect(upstreamRequestHeaders(request({ host: 'api.example.com' }), options).forwarded).toBe('for=192.0.2.10;proto=http;host="api.example.com"');
    const v6 = upstreamRequestHeaders(request({ host: 'api.example.com', forwarded: 'for=203.0.113.7' }, '2001:db8::1'), options);
    expect(v6.forwarded).toBe('for=203.0.113.7, for="[2001:db8::1]";proto=http;host="api.example.com"');
    // A Host header cannot close the quoted host and add an element of its own.
    const spoof = upstreamRequestHeaders(request({ host: 'x", for=6.6.6.6;a="\\' }), options);
    expect(spoof.forwarded).toBe('for=192.0.2.10;proto=http;host="x\\", for=6.6.6.6;a=\\"\\\\"');
  });

  it('sends the Host it is given and the request id', () => {
    const out = upstreamRequestHeaders(request({ host: 'api.example.com', 'x-request-id': 'from-client' }), options);
    expect(out.host).toBe('backend.internal:9000');
    expect(out['x-request-id']).toBe('req-1');
  });

  it('keeps Upgrade and sets Connection: upgrade for a WebSocket handshake', () => {
    const out = upstreamRequestHeaders(request({ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' }), { ...options, upgrade: true });
    expect(out).toMatchObject({ connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' });
  });
});

describe('clientResponseHeaders', () => {
  it('removes hop-by-hop headers and those named in Connection, keeps the rest and adds the request id', () => {
    const out = clientResponseHeaders(
      { connection: 'x-upstream-hop', 'x-upstream-hop': 'secret', 'keep-alive': 'timeout=99', 'proxy-authenticate': 'Basic', 'transfer-encoding': 'chunked', 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] },
      'req-1',
    );
    expect(out).toEqual({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'x-request-id': 'req-1' });
  });
});
