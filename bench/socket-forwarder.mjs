// A reference, not a proxy: what Node.js does for a forwarded call without its HTTP stack. It moves each
// request's bytes whole to a pooled keep-alive upstream socket, and the answer's bytes back as they arrive,
// finding where each message ends by its Content-Length or its chunks (no header handling, one request at a time
// per connection): a connection that sends anything else is closed. bench/compare.mjs measures it beside the
// node:http and undici subjects (minimal-proxy, Keygate) to show how much of their cost is that stack; the bench
// measures its time to first streamed token when named in BENCH_SUBJECTS.
//
//   PORT=9003 UPSTREAM_PORT=9001 node bench/socket-forwarder.mjs
import { Buffer } from 'node:buffer';
import net from 'node:net';
import process from 'node:process';
import console from 'node:console';

const UPSTREAM_PORT = Number(process.env.UPSTREAM_PORT);
const idle = [];
const HEAD_END = Buffer.from('\r\n\r\n');
const LINE_END = Buffer.from('\r\n');

/** The length of the request at the start of `bytes` (head and Content-Length body), -1 if not whole yet, NaN if unreadable. */
function requestLength(bytes) {
  const end = bytes.indexOf(HEAD_END);
  if (end < 0) return bytes.length > 65_536 ? NaN : -1;
  const head = bytes.toString('latin1', 0, end + 2);
  if (/\r\ntransfer-encoding:/i.test(head)) return NaN;
  const match = /\r\ncontent-length: *(\d+)\r\n/i.exec(head);
  const total = end + 4 + (match ? Number(match[1]) : 0);
  return bytes.length >= total ? total : -1;
}

/**
 * Follows one answer's bytes as they arrive: `push` says how many of them belong to it, and whether it is whole.
 * Its body is framed by Content-Length or by chunks (RFC 9112 §7.1, trailers allowed), nothing else.
 */
class Answer {
  #head = Buffer.alloc(0);
  #left = -1; // body bytes still to come (Content-Length), or of the current chunk and its CRLF (chunked)
  #chunked = false;
  #line = Buffer.alloc(0); // a chunk-size or trailer line being read
  #trailers = false;
  done = false;

  /** The number of `bytes` that belong to this answer, or NaN when it cannot be read. */
  push(bytes) {
    let at = 0;
    if (this.#left < 0 && !this.#chunked) {
      const joined = Buffer.concat([this.#head, bytes]);
      const end = joined.indexOf(HEAD_END);
      if (end < 0) {
        this.#head = joined;
        return joined.length > 65_536 ? NaN : bytes.length;
      }
      const head = joined.toString('latin1', 0, end + 2);
      at = end + 4 - this.#head.length;
      this.#head = Buffer.alloc(0);
      // No body after a 204 or a 304 (RFC 9112 §6.3).
      if (/^HTTP\/1\.1 (204|304) /.test(head)) {
        this.done = true;
        return at;
      }
      if (/\r\ntransfer-encoding: *chunked\r\n/i.test(head)) this.#chunked = true;
      else {
        const match = /\r\ncontent-length: *(\d+)\r\n/i.exec(head);
        if (!match) return NaN;
        this.#left = Number(match[1]);
        if (this.#left === 0) this.done = true;
      }
    }
    while (at < bytes.length && !this.done) {
      if (!this.#chunked || this.#left > 0) {
        const take = Math.min(this.#left, bytes.length - at);
        at += take;
        this.#left -= take;
        if (!this.#chunked && this.#left === 0) this.done = true;
        continue;
      }
      const end = bytes.indexOf(LINE_END, at);
      const piece = bytes.subarray(at, end < 0 ? bytes.length : end);
      this.#line = this.#line.length === 0 ? piece : Buffer.concat([this.#line, piece]);
      if (this.#line.length > 8192) return NaN;
      if (end < 0) return bytes.length;
      at = end + 2;
      const line = this.#line.toString('latin1');
      this.#line = Buffer.alloc(0);
      if (this.#trailers) {
        if (line === '') this.done = true;
        continue;
      }
      const size = Number.parseInt(line, 16);
      if (!Number.isInteger(size) || size < 0) return NaN;
      if (size === 0) this.#trailers = true;
      else this.#left = size + 2;
    }
    return at;
  }
}

function upstreamSocket() {
  let socket = idle.pop();
  while (socket?.destroyed) socket = idle.pop();
  if (socket) return socket;
  socket = net.connect(UPSTREAM_PORT, '127.0.0.1');
  socket.setNoDelay(true);
  // An idle socket's failure only closes it; one in use fails its call (below).
  socket.on('error', () => socket.destroy());
  return socket;
}

const server = net.createServer((client) => {
  client.setNoDelay(true);
  let pending = Buffer.alloc(0);
  let busy = false;
  client.on('error', () => client.destroy());
  const next = () => {
    if (busy) return;
    const length = requestLength(pending);
    if (Number.isNaN(length)) return client.destroy();
    if (length < 0) return;
    const request = pending.subarray(0, length);
    pending = pending.subarray(length);
    busy = true;
    const upstream = upstreamSocket();
    const answer = new Answer();
    const fail = () => {
      upstream.destroy();
      client.destroy();
    };
    const onData = (bytes) => {
      const taken = answer.push(bytes);
      if (Number.isNaN(taken) || taken < bytes.length) return fail();
      client.write(bytes);
      if (!answer.done) return;
      upstream.off('data', onData);
      upstream.off('error', fail);
      upstream.off('close', fail);
      idle.push(upstream);
      busy = false;
      next();
    };
    upstream.on('data', onData);
    upstream.on('error', fail);
    upstream.on('close', fail);
    upstream.write(request);
  };
  client.on('data', (bytes) => {
    pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
    next();
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
