/**
 * The HTTP plumbing every provider emulator shares: a server on 127.0.0.1 with a free port that reads each body,
 * records the request and hands it to the emulator, plus JSON answers and streams written one event per write.
 * What a provider answers (paths, auth, errors, events) stays in that provider's emulator.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest<Body = unknown> {
  method: string;
  /** The path with its query string. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Body;
}

/** A recorded request whose body tests read member by member, whatever its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LooseRecordedRequest = RecordedRequest<any>;

/** One request as the emulator received it; `body` is undefined when the body is not JSON, so that each emulator answers with its provider's own parse error. */
export interface EmulatorExchange {
  req: IncomingMessage;
  res: ServerResponse;
  rawBody: string;
  body: unknown;
}

export interface EmulatorServerOptions<Recorded> {
  /** What `lastRequest()` and `requests()` return for a request. Default: its method, path, headers and parsed body. */
  record?: (exchange: EmulatorExchange) => Recorded;
  /** Answers a failed (rejected) exchange. Default: drop the connection, as a crashed upstream would. */
  onError?: (error: unknown, res: ServerResponse) => void;
}

/** What a test holds of every emulator; each adds its provider's own (its key, `setMode`). */
export interface EmulatorHandle<Recorded = RecordedRequest> {
  url: string;
  stop(): Promise<void>;
  lastRequest(): Recorded | undefined;
}

export interface EmulatorServer<Recorded> extends EmulatorHandle<Recorded> {
  /** Every request received so far, oldest first. */
  requests(): readonly Recorded[];
}

const recordRequest = ({ req, body }: EmulatorExchange): RecordedRequest => ({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Starts an emulator's server on 127.0.0.1 on a free port; `handle` answers each request once its body has arrived and been recorded. */
export async function startEmulatorServer<Recorded = RecordedRequest>(
  handle: (exchange: EmulatorExchange) => void | Promise<void>,
  options: EmulatorServerOptions<Recorded> = {},
): Promise<EmulatorServer<Recorded>> {
  const record = options.record ?? (recordRequest as (exchange: EmulatorExchange) => Recorded);
  const onError = options.onError ?? ((_error: unknown, res: ServerResponse) => res.destroy());
  const received: Recorded[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const rawBody = await readBody(req);
      const exchange = { req, res, rawBody, body: parseJson(rawBody) };
      received.push(record(exchange));
      await handle(exchange);
    })().catch((error: unknown) => onError(error, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        // Tests stop emulators while clients may still hold keep-alive connections; close would wait for them.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    lastRequest: () => received.at(-1),
    requests: () => received,
  };
}

/** Answers `body` as JSON. `headers` add to (or replace) the content-type; no content-length unless given, so the answer goes out chunked. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Waits `delayMs`, or with 0 until the next turn of the event loop, so that each streamed event reaches the client in its own read. */
export const pause = (delayMs = 0): Promise<void> => new Promise<void>((resolve) => (delayMs ? setTimeout(resolve, delayMs) : setImmediate(resolve)));

/** Writes one streamed event and pauses after it. */
export async function writeEvent(res: ServerResponse, event: string | Uint8Array, delayMs = 0): Promise<void> {
  res.write(event);
  await pause(delayMs);
}

/** Writes each event with `writeEvent`, then ends the response. */
export async function writeEvents(res: ServerResponse, events: Iterable<string | Uint8Array>, delayMs = 0): Promise<void> {
  for (const event of events) await writeEvent(res, event, delayMs);
  res.end();
}

/** An SSE `data:` event (https://html.spec.whatwg.org/multipage/server-sent-events.html); a string, such as OpenAI's `[DONE]`, goes as it is. */
export const sseData = (data: unknown, lineBreak = '\n'): string => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}${lineBreak}${lineBreak}`;

/** An SSE event with its name in `event:`, as Anthropic and Cohere send them. */
export const sseEvent = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

/** One line of newline-delimited JSON, as Ollama streams. */
export const ndjsonLine = (value: unknown): string => `${JSON.stringify(value)}\n`;
