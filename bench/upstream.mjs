// The upstream every subject forwards to: a keep-alive node:http server that answers
// POST /v1/chat/completions with a fixed, non-streaming reply in OpenAI's documented shape
// (https://platform.openai.com/docs/api-reference/chat/object), and 404 to anything else.
//
//   PORT=9001 node bench/upstream.mjs        prints "listening 9001" once it accepts connections
import http from 'node:http';
import process from 'node:process';
import console from 'node:console';
import { Buffer } from 'node:buffer';

const REPLY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench0001',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 11, completion_tokens: 9, total_tokens: 20 },
    system_fingerprint: 'fp_bench',
  }),
);
const NOT_FOUND = Buffer.from(JSON.stringify({ error: { message: 'no such route on the bench upstream', type: 'invalid_request_error' } }));

const server = http.createServer((req, res) => {
  // Drain the request body before answering so the connection stays reusable.
  req.resume();
  req.on('end', () => {
    const ok = req.method === 'POST' && req.url === '/v1/chat/completions';
    const body = ok ? REPLY : NOT_FOUND;
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
// Proxies hold pooled connections for the whole run: never close them for idleness mid-run.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
