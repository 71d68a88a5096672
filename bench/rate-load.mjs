// Open-loop load at a fixed rate: sends RATE requests per second on an even schedule, whether or not
// earlier ones have been answered (Debian has wrk but not wrk2, and autocannon's rate limit fires each
// connection's quota in a burst at the start of every second and records whole milliseconds only).
// Latency is timed per request with microsecond resolution, from dispatch to the last byte of the body;
// requests waiting for a free pooled connection count that wait as latency.
//
//   TARGET=http://127.0.0.1:9002/v1/chat/completions RATE=1000 DURATION=10 WARMUP=1 \
//   HEADERS='{"content-type":"application/json"}' BODY='{}' node bench/rate-load.mjs
// prints one JSON line: { rate, seconds, sent, ok, errors, unanswered (5 s after the last was sent), achieved, p50Us, p99Us, maxUs, firstError },
// where achieved counts the answers received per second while the load was being sent.
import process from 'node:process';
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { URL } from 'node:url';
import { Pool } from 'undici';

const target = new URL(process.env.TARGET);
const rate = Number(process.env.RATE);
const seconds = Number(process.env.DURATION);
const warmup = Number(process.env.WARMUP ?? 1);
const headers = JSON.parse(process.env.HEADERS ?? '{}');
const body = process.env.BODY ?? '';
const method = body ? 'POST' : 'GET';

const pool = new Pool(target.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });
const latencies = new Float64Array(Math.ceil(rate * seconds) + 16);
let recorded = 0;
let ok = 0;
let errors = 0;
let inFlight = 0;
let firstError;

function fire(record) {
  const start = performance.now();
  inFlight += 1;
  pool
    .request({ method, path: target.pathname + target.search, headers, body: body || null })
    .then(async (res) => {
      await res.body.arrayBuffer();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
      if (record) {
        latencies[recorded++] = (performance.now() - start) * 1000;
        ok += 1;
      }
    })
    .catch((error) => {
      if (record) errors += 1;
      firstError ??= error.message;
    })
    .finally(() => (inFlight -= 1));
}

// Sends every request whose slot on the schedule has come, then yields to the event loop for ~1 ms.
async function phase(durationS, record) {
  const total = Math.round(rate * durationS);
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    while (sent < due) {
      fire(record);
      sent += 1;
    }
    await sleep(1);
  }
  return { sent, elapsed: (performance.now() - t0) / 1000 };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

if (warmup > 0) await phase(warmup, false);
while (inFlight > 0) await sleep(5);
const { sent, elapsed } = await phase(seconds, true);
// Answers that came while the load was being sent: what the subject sustained, not what it caught up on later.
const okWhileSending = ok;
const drainUntil = performance.now() + 5000;
while (inFlight > 0 && performance.now() < drainUntil) await sleep(5);
const unanswered = inFlight;

const sorted = latencies.subarray(0, recorded).sort();
console.log(
  JSON.stringify({
    rate,
    seconds,
    sent,
    ok,
    errors,
    unanswered,
    achieved: okWhileSending / elapsed,
    p50Us: percentile(sorted, 50),
    p99Us: percentile(sorted, 99),
    maxUs: percentile(sorted, 100),
    firstError: firstError ?? null,
  }),
);
await pool.destroy();
process.exit(0);
