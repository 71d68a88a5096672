import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a scripted provider does with the next call, once its whole request has come. */
export type Script = (req: IncomingMessage, res: ServerResponse) => void;

export interface ScriptedProvider {
  /** Its address on loopback, as a provider's `baseUrl`. */
  readonly url: string;
  /** What it does with the calls from now on. */
  script: Script;
  /** Closes every connection and stops listening. */
  stop(): void;
}

/** A provider on loopback whose every answer a test writes by hand: what no emulator's mode says. */
export async function startScriptedProvider(script: Script): Promise<ScriptedProvider> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => provider.script(req, res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const provider: ScriptedProvider = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    script,
    stop: () => {
      server.closeAllConnections();
      server.close();
    },
  };
  return provider;
}
