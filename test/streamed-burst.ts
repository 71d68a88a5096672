import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/**
 * `n` streamed chat calls of `body`, one per connection, the connections spread in turn over `proxyUrls`: all
 * connected first, then each call written in one go, so that they reach the gateway together. Resolves once they are
 * written, with each call's whole answer as text (once every connection has closed) and a count of those closed.
 */
export async function streamedBurst(proxyUrls: readonly string[], apiKey: string, n: number, body: string): Promise<{ answers: Promise<string[]>; closed: () => number }> {
  const sockets: Array<{ socket: Socket; host: string }> = [];
  for (let i = 0; i < n; i++) {
    const url = new URL(proxyUrls[i % proxyUrls.length]!);
    const socket = connect(Number(url.port), url.hostname);
    socket.on('error', () => undefined);
    sockets.push({ socket, host: url.host });
  }
  await Promise.all(sockets.map(({ socket }) => once(socket, 'connect')));
  let closed = 0;
  const answers = sockets.map(({ socket }) => {
    let text = '';
    socket.on('data', (data: Buffer) => (text += data.toString('latin1')));
    return once(socket, 'close').then(() => {
      closed += 1;
      return text;
    });
  });
  for (const { socket, host } of sockets) {
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${host}\r\nauthorization: Bearer ${apiKey}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }
  return { answers: Promise.all(answers), closed: () => closed };
}
