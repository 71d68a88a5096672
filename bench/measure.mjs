// The kinds of measurement: closed loop at a fixed number of connections (wrk), open loop at a fixed request
// rate (bench/rate-load.mjs), and the time to the first event of streamed answers (bench/first-event.mjs). Each
// runs as its own process, on the load generator's CPU.
import { URL, fileURLToPath } from 'node:url';
import process from 'node:process';
import { runToEnd, describeExit, lastLine } from './processes.mjs';

const WRK_SCRIPT = fileURLToPath(new URL('./wrk-report.lua', import.meta.url));
const RATE_LOAD = fileURLToPath(new URL('./rate-load.mjs', import.meta.url));
const FIRST_EVENT = fileURLToPath(new URL('./first-event.mjs', import.meta.url));

/**
 * wrk with one thread and `connections` keep-alive connections for `seconds`.
 * Returns { rps, p50Us, p99Us, errors } where errors counts socket errors, timeouts and non-2xx answers.
 */
export async function closedLoop({ url, headers, body, connections, seconds, cpu }) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', WRK_SCRIPT];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  args.push(url);
  const run = await runToEnd('wrk', 'wrk', args, { cpu, env: { BENCH_BODY: body }, timeoutMs: (seconds + 30) * 1000 });
  const line = run.output.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`wrk gave no result (${describeExit(run)}): ${lastLine(run.output)}`);
  const r = JSON.parse(line.slice('BENCH_RESULT '.length));
  return {
    rps: r.requests / (r.durationUs / 1e6),
    p50Us: r.p50Us,
    p99Us: r.p99Us,
    errors: r.connectErrors + r.readErrors + r.writeErrors + r.statusErrors + r.timeouts,
  };
}

/** `rate` requests per second on an even schedule for `seconds` (after `warmup` seconds at the same rate). */
export async function openLoop({ url, headers, body, rate, seconds, warmup, cpu }) {
  const env = { TARGET: url, RATE: String(rate), DURATION: String(seconds), WARMUP: String(warmup), HEADERS: JSON.stringify(headers), BODY: body };
  const run = await runToEnd('rate-load', process.execPath, [RATE_LOAD], { cpu, env, timeoutMs: (seconds + warmup + 30) * 1000 });
  const line = run.output.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`rate-load gave no result (${describeExit(run)}): ${lastLine(run.output)}`);
  const r = JSON.parse(line);
  return { achieved: r.achieved, p50Us: r.p50Us, p99Us: r.p99Us, errors: r.errors, unanswered: r.unanswered, firstError: r.firstError };
}

/** `samples` streamed requests one after the other at one connection (after `warmup` unrecorded ones). */
export async function firstEvents({ url, headers, body, samples, warmup, cpu }) {
  const env = { TARGET: url, SAMPLES: String(samples), WARMUP: String(warmup), HEADERS: JSON.stringify(headers), BODY: body };
  const run = await runToEnd('first-event', process.execPath, [FIRST_EVENT], { cpu, env, timeoutMs: (samples + warmup) * 1000 + 30_000 });
  const line = run.output.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`first-event gave no result (${describeExit(run)}): ${lastLine(run.output)}`);
  return JSON.parse(line);
}
