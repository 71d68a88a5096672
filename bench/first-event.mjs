// Time to first token of a streamed chat completion, at one connection: sends SAMPLES requests one after the other
// (after WARMUP unrecorded ones) over one keep-alive node:http connection and times, for each, from handing the
// request to the socket to the arrival of the first `data:` event, and to the end of the stream.
//
//   TARGET=http://127.0.0.1:9002/v1/chat/completions SAMPLES=300 WARMUP=50 \
//   HEADERS='{"content-type":"application/json"}' BODY='{"stream":true,…}' node bench/first-event.mjs
// prints one JSON line: { samples, errors, firstError, p50Us, p99Us, maxUs, headP50Us, lastP50Us, lastP99Us }
// where first* is the first `data:` event, head* the response head and last* the end of the stream.
import { Buffer } from 'node:buffer';
import http from 'node:http';
import process from 'node:process';
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';

const target = new URL(process.env.TARGET);
const samples = Number(process.env.SAMPLES ?? 300);
const warmup = Number(process.env.WARMUP ?? 50);
const headers = JSON.parse(process.env.HEADERS ?? '{}');
const body = process.env.BODY ?? '';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One streamed request; resolves to its three times in µs, or rejects. */
function once() {
  return new Promise((resolve, reject) => {
    let start;
    let head;
    let first;
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        head = performance.now();
        let seen = '';
        res.setEncoding('utf8');
        res.on('data', (text) => {
          if (first !== undefined) return;
          // The first event may be split over chunks: look at what arrived so far for a complete "data:" line start.
          seen += text;
          if (/(^|\n)data:/.test(seen)) first = performance.now();
        });
        res.on('end', () => {
          const last = performance.now();
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${seen.slice(0, 200)}`));
          if (first === undefined) return reject(new Error(`no data: event in the answer: ${seen.slice(0, 200)}`));
          resolve({ first: (first - start) * 1000, head: (head - start) * 1000, last: (last - start) * 1000 });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // Timed from the moment the request is handed to its (already open, after the first) socket.
    const send = () => {
      start = performance.now();
      req.end(body);
    };
    if (req.socket) send();
    else req.once('socket', (socket) => (socket.connecting ? socket.once('connect', send) : send()));
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

let errors = 0;
let firstError = null;
const firsts = [];
const heads = [];
const lasts = [];
for (let i = 0; i < warmup + samples; i++) {
  try {
    const t = await once();
    if (i >= warmup) {
      firsts.push(t.first);
      heads.push(t.head);
      lasts.push(t.last);
    }
  } catch (error) {
    errors += 1;
    firstError ??= error.message;
    if (errors > 20 && errors > i / 2) break;
  }
}
const sort = (values) => Float64Array.from(values).sort();
const [f, h, l] = [sort(firsts), sort(heads), sort(lasts)];
console.log(
  JSON.stringify({
    samples: f.length,
    errors,
    firstError,
    p50Us: percentile(f, 50),
    p99Us: percentile(f, 99),
    maxUs: percentile(f, 100),
    headP50Us: percentile(h, 50),
    lastP50Us: percentile(l, 50),
    lastP99Us: percentile(l, 99),
  }),
);
agent.destroy();
process.exit(0);
