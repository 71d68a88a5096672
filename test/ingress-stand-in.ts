import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, Usage } from '../src/ai/chat-types.js';

/** What a round-trip test scripts the stand-in to answer: a completion, or chunks that end with usage or fail. */
export interface StandInScript {
  completion?: ChatCompletion;
  chunks?: ChatCompletionChunk[];
  usage?: Usage;
  failAfterChunks?: string;
}

/** One ingress's translations (Anthropic's Messages API, OpenAI's Responses API), as the stand-in runs them. */
export interface Ingress<R extends ChatRequest> {
  /** The path the gateway serves the ingress on (`/v1/messages`, `/v1/responses`): the only one answered. */
  path: string;
  /** The client's body as the unified chat request; throws to refuse it. */
  read(body: Record<string, unknown>): R;
  /** What a refusal `read` threw answers: its status and body; undefined for an error that is not the ingress's own. */
  refusal(error: unknown): { status: number; body: unknown } | undefined;
  /** A non-streamed answer in the ingress's shape. */
  answer(completion: ChatCompletion, request: R): unknown;
  /** The stream translator of a streamed answer. */
  events(request: R): { push(chunk: ChatCompletionChunk): string[]; end(usage?: Usage): string[]; fail(message: string): string[] };
}

export interface StandIn<R> {
  /** The stand-in's origin, `http://127.0.0.1:PORT`. */
  url: string;
  /** What the next requests are answered with; tests set it. */
  script: StandInScript;
  /** The last request, as the ingress read it. */
  received: R | undefined;
  /** Forgets the script and the last request, for the next test. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * A stand-in for one of the gateway's ingresses on loopback, for an official SDK to talk to: each request goes through
 * the ingress's reading and the scripted answer through its translations back, proving the wire format both ways
 * without a provider between. Anything but a POST to the ingress's path is a 404, so an SDK that called elsewhere fails.
 */
export async function startStandIn<R extends ChatRequest>(ingress: Ingress<R>): Promise<StandIn<R>> {
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://127.0.0.1').pathname !== ingress.path) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no ${req.method} ${req.url} here` } }));
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
      let request: R;
      try {
        request = stand.received = ingress.read(body);
      } catch (error) {
        const refused = ingress.refusal(error);
        if (!refused) throw error;
        res.writeHead(refused.status, { 'content-type': 'application/json' }).end(JSON.stringify(refused.body));
        return;
      }
      const { script } = stand;
      if (!request.stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ingress.answer(script.completion!, request)));
        return;
      }
      const events = ingress.events(request);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      for (const next of script.chunks ?? []) for (const event of events.push(next)) res.write(event);
      res.end((script.failAfterChunks ? events.fail(script.failAfterChunks) : events.end(script.usage)).join(''));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stand: StandIn<R> = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    script: {},
    received: undefined,
    reset() {
      stand.script = {};
      stand.received = undefined;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return stand;
}

/** A chat completion chunk with one choice, as the provider adapters hand them to an ingress. */
export const chunkOf = (delta: ChatCompletionChunk['choices'][number]['delta'], finishReason: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk => ({
  id: 'chatcmpl-sdk2',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta, finish_reason: finishReason }],
});
