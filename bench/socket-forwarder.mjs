// A reference, not a proxy: what Node.js does for a forwarded call without its HTTP stack. It moves each
// request's bytes whole to a pooled keep-alive upstream socket and the answer's bytes whole back, finding
// the messages' ends by their Content-Length only (no chunked bodies, no header handling, one request at a time
// per connection): a connection that sends anything else is closed. bench/compare.mjs measures it beside the
// node:http and undici subjects (minimal-proxy, Keygate) to show how much of their cost is that stack.
//
//   PORT=9003 UPSTREAM_PORT=9001 node bench/socket-forwarder.mjs
import { Buffer } from 'node:buffer';
import net from 'node:net';
import process from 'node:process';
import console from 'node:console';

const UPSTREAM_PORT = Number(process.env.UPSTREAM_PORT);
const idle = [];
const HEAD_END = Buffer.from('\r\n\r\n');

/** The length of the message at the start of `bytes` (head and Content-Length body), -1 if not whole yet, NaN if unreadable. */
function messageLength(bytes) {
  const end = bytes.indexOf(HEAD_END);
  if (end < 0) return bytes.length > 65_536 ? NaN : -1;
  const match = /\r\ncontent-length: *(\d+)\r\n/i.exec(bytes.toString('latin1', 0, end + 2));
  if (!match) return NaN;
  const total = end + 4 + Number(match[1]);
  return bytes.length >= total ? total : -1;
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
    const length = messageLength(pending);
    if (Number.isNaN(length)) return client.destroy();
    if (length < 0) return;
    const request = pending.subarray(0, length);
    pending = pending.subarray(length);
    busy = true;
    const upstream = upstreamSocket();
    let answer = Buffer.alloc(0);
    const fail = () => {
      upstream.destroy();
      client.destroy();
    };
    const onData = (bytes) => {
      answer = answer.length === 0 ? bytes : Buffer.concat([answer, bytes]);
      const total = messageLength(answer);
      if (Number.isNaN(total) || total < answer.length) return fail();
      if (total < 0) return;
      upstream.off('data', onData);
      upstream.off('error', fail);
      upstream.off('close', fail);
      idle.push(upstream);
      busy = false;
      client.write(answer);
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
