// A reference, not a gateway: the least a Node.js AI gateway does for a non-streamed chat completion, on the stack
// Keygate's data plane runs on (node:http in front, an undici pool called with dispatch(), bodies read whole). It
// reads the client's JSON body and parses it, sets the model and `stream`, writes the body out again for the
// upstream, reads the answer whole and parses it for its usage, and sends the upstream's own bytes back with a cost
// header. No credential, policy, budget, record or error translation: what is left of Keygate's AI route beside it
// is Keygate's own. With JSON_PROXY_PASS=1 it does none of the JSON work either and passes the bytes both ways (the
// same stack, buffered): the two side by side say what the JSON work alone costs a Node.js proxy.
//
//   PORT=9004 UPSTREAM=http://127.0.0.1:9001 node bench/json-proxy.mjs
//   PORT=9005 UPSTREAM=http://127.0.0.1:9001 JSON_PROXY_PASS=1 node bench/json-proxy.mjs
import { Buffer } from 'node:buffer';
import http from 'node:http';
import process from 'node:process';
import console from 'node:console';
import { Pool } from 'undici';

const pass = process.env.JSON_PROXY_PASS === '1';
const upstream = new Pool(process.env.UPSTREAM, { connections: 64, keepAliveTimeout: 60_000 });
// gpt-4o-mini's list prices per million tokens, for a cost computed as a gateway would.
const INPUT_PER_MILLION = 0.15;
const OUTPUT_PER_MILLION = 0.6;

const whole = (chunks) => (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));

function failed(res, message) {
  if (res.headersSent) return res.destroy();
  res.writeHead(502, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type: 'api_error' } }));
}

/** One call to the upstream, its answer read whole: `done(error, status, body)`. */
function call(path, body, done) {
  const chunks = [];
  let status = 0;
  upstream.dispatch(
    { method: 'POST', path, headers: { 'content-type': 'application/json', authorization: 'Bearer sk-reference' }, body },
    {
      onConnect() {},
      onHeaders(statusCode) {
        status = statusCode;
        return true;
      },
      onData(chunk) {
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        done(undefined, status, whole(chunks));
      },
      onError(error) {
        done(error);
      },
    },
  );
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let body = whole(chunks);
    if (!pass) {
      let parsed;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'the body is not a JSON object', type: 'invalid_request_error' } }));
      }
      body = JSON.stringify({ ...parsed, model: String(parsed.model), stream: false });
    }
    call(req.url, body, (error, status, answer) => {
      if (error) return failed(res, `upstream failed: ${error.message}`);
      const headers = { 'content-type': 'application/json', 'content-length': answer.length };
      if (!pass && status === 200) {
        let usage;
        try {
          usage = JSON.parse(answer.toString('utf8')).usage;
        } catch {
          return failed(res, 'the upstream answered something that is not JSON');
        }
        const cost = ((usage?.prompt_tokens ?? 0) * INPUT_PER_MILLION + (usage?.completion_tokens ?? 0) * OUTPUT_PER_MILLION) / 1e6;
        headers['x-cost-usd'] = cost.toFixed(9);
      }
      res.writeHead(status, headers);
      res.end(answer);
    });
  });
});
// As Keygate's: idle client connections kept 75 s.
server.keepAliveTimeout = 75_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => upstream.close().finally(() => process.exit(0)));
