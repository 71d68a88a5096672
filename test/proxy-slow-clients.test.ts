import { connect } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { tempDataDir } from './keygate-process.js';

/** Sends `text` and resolves with everything the server answers until it closes the connection. */
function rawExchange(url: string, text: string, keepOpen: boolean): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(text);
      if (!keepOpen) socket.end();
    });
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('time limits against slow clients', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    const settings = loadSettings({
      KEYGATE_DATA_DIR: tempDataDir(),
      KEYGATE_ADMIN_TOKEN: 't',
      KEYGATE_PROXY_PORT: '0',
      KEYGATE_ADMIN_PORT: '0',
      KEYGATE_PROXY_HOST: '127.0.0.1',
      KEYGATE_CLIENT_HEADER_TIMEOUT: '300ms',
      KEYGATE_CLIENT_REQUEST_TIMEOUT: '600ms',
    });
    gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: false });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('answers 408 and closes the connection when the request head never finishes', async () => {
    const answer = await rawExchange(gateway.proxyUrl!, 'GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: ', true);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('answers 408 when the head arrived but the body never does', async () => {
    // The token endpoint reads the whole form before answering, so nothing is answered until the body is in.
    const head = 'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n';
    const answer = await rawExchange(gateway.proxyUrl!, `${head}grant_type=client_cre`, true);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('still serves a client that sends its request in time', async () => {
    const answer = await rawExchange(gateway.proxyUrl!, 'GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', false);
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
  });
});
