// The upstream every subject forwards to: a keep-alive node:http server that answers
// POST /v1/chat/completions in OpenAI's documented shapes, and 404 to anything else:
//   - without "stream": true, a fixed chat completion (https://platform.openai.com/docs/api-reference/chat/object);
//   - with "stream": true, Server-Sent Events of chat completion chunks
//     (https://platform.openai.com/docs/api-reference/chat-streaming): the first event (the assistant's role) is
//     written at once with the head, then four content events and the finish event STREAM_GAP_MS apart, then,
//     if the request asked for it with stream_options.include_usage, the usage chunk, and `data: [DONE]`.
// The gap makes a proxy that holds events back visible: its first event comes late, up to the whole stream.
//
//   PORT=9001 [STREAM_GAP_MS=10] node bench/upstream.mjs        prints "listening 9001" once it accepts connections
import http from 'node:http';
import process from 'node:process';
import console from 'node:console';
import { Buffer } from 'node:buffer';
import { setTimeout } from 'node:timers';

const GAP_MS = Number(process.env.STREAM_GAP_MS ?? 10);
const MODEL = 'gpt-4o-mini-2024-07-18';
const USAGE = { prompt_tokens: 11, completion_tokens: 9, total_tokens: 20 };

const REPLY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench0001',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: MODEL,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: USAGE,
    system_fingerprint: 'fp_bench',
  }),
);
const NOT_FOUND = Buffer.from(JSON.stringify({ error: { message: 'no such route on the bench upstream', type: 'invalid_request_error' } }));

const chunk = (choices, usage) => {
  const body = { id: 'chatcmpl-bench0002', object: 'chat.completion.chunk', created: 1_700_000_000, model: MODEL, system_fingerprint: 'fp_bench', choices };
  if (usage !== undefined) body.usage = usage;
  return `data: ${JSON.stringify(body)}\n\n`;
};
const delta = (d, finish = null) => [{ index: 0, delta: d, logprobs: null, finish_reason: finish }];
const FIRST = { plain: chunk(delta({ role: 'assistant', content: '', refusal: null })), usage: chunk(delta({ role: 'assistant', content: '', refusal: null }), null) };
const PIECES = ['Hello!', ' How can', ' I help you', ' today?'];
const REST = {
  plain: [...PIECES.map((p) => chunk(delta({ content: p }))), chunk(delta({}, 'stop')) + 'data: [DONE]\n\n'],
  usage: [...PIECES.map((p) => chunk(delta({ content: p }), null)), chunk(delta({}, 'stop'), null) + chunk([], USAGE) + 'data: [DONE]\n\n'],
};
const STREAM = /"stream"\s*:\s*true/;
const INCLUDE_USAGE = /"include_usage"\s*:\s*true/;

function stream(res, withUsage) {
  const kind = withUsage ? 'usage' : 'plain';
  // X-Accel-Buffering: no, as event streams served behind nginx say, so that nginx (a subject) passes each event on
  // as it comes; it changes nothing for the other subjects, nor nginx's buffering of the non-streamed answers.
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  // The head and the first event leave in one write, at once.
  res.write(FIRST[kind]);
  const rest = REST[kind];
  let next = 0;
  const tick = () => {
    if (res.destroyed) return;
    const last = next === rest.length - 1;
    if (last) res.end(rest[next]);
    else {
      res.write(rest[next]);
      next += 1;
      setTimeout(tick, GAP_MS);
    }
  };
  setTimeout(tick, GAP_MS);
}

const server = http.createServer((req, res) => {
  // Read the whole request body before answering (it says whether to stream) so the connection stays reusable.
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (text) => (body += text));
  req.on('end', () => {
    const ok = req.method === 'POST' && req.url === '/v1/chat/completions';
    if (ok && STREAM.test(body)) return stream(res, INCLUDE_USAGE.test(body));
    const reply = ok ? REPLY : NOT_FOUND;
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json', 'content-length': reply.length });
    res.end(reply);
  });
});
// Proxies hold pooled connections for the whole run: never close them for idleness mid-run.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
