// Paired comparison of Keygate builds (or of subjects) on this machine: every subject started side by side,
// pinned as `npm run bench` pins them, then rounds that go round the subjects in a rotating order. Each
// measurement is wrk at 50 connections after a warm-up of the same subject, and the CPU time the subject's
// threads used meanwhile, read from /proc (event loop and other threads apart). Reports the medians and, for each
// subject, the median of its per-round ratios to the first: on a host whose speed drifts by a third in minutes,
// only figures measured back to back compare.
//
//   COMPARE=base:/tmp/kg-base:keygate-ai,head:.:keygate-ai node bench/compare.mjs
//
// COMPARE lists label:directory:subject, where subject is one of bench/subjects.mjs's Node.js subjects and
// directory holds the built Keygate (dist/cli/main.js) a Keygate subject runs (ignored by the others:
// minimal-proxy, socket-forwarder, buffered-proxy, json-proxy, portkey). What Node's HTTP stack costs, beside
// Keygate's routes:
//
//   COMPARE=socket:.:socket-forwarder,minimal:.:minimal-proxy,plain:.:keygate,ai:.:keygate-ai node bench/compare.mjs
//
// What the JSON work of an AI call alone costs on that stack, beside what Keygate's AI route adds to its plain route:
//
//   COMPARE=buffered:.:buffered-proxy,json:.:json-proxy,plain:.:keygate,ai:.:keygate-ai node bench/compare.mjs
//
// Another commit's build, beside this tree:
//
//   git worktree add /tmp/kg-base REV && ln -s "$PWD/node_modules" /tmp/kg-base/ && (cd /tmp/kg-base && npm run build)
//
// COMPARE_ROUNDS=6, COMPARE_SECONDS=4, COMPARE_WARMUP=1 (s before each measurement), COMPARE_CONNECTIONS=50;
// COMPARE_RATE=1000 also measures each subject's p99 at that fixed rate after its closed-loop run.
// COMPARE_TTFT=300 also times that many streamed requests per subject and round at one connection (after 50),
// as `npm run bench` does for its time to first token, and reports the median of the rounds' first-event p50s:
//
//   COMPARE=base:/tmp/kg-base:keygate-ai,head:.:keygate-ai COMPARE_TTFT=300 node bench/compare.mjs
//
// COMPARE_THREADS=1 also prints each round's CPU µs per request by thread name (event loop, libuv pool, V8 helpers, workers).
// COMPARE_QUIET=30 leaves every subject idle that many seconds before each round, to measure how a process serves
// when traffic comes back after a quiet spell (with COMPARE_WARMUP=0 and a short COMPARE_SECONDS, its first seconds):
//
//   COMPARE=on:/tmp/kg-base:keygate-ai,off:.:keygate-ai COMPARE_QUIET=30 COMPARE_WARMUP=0 COMPARE_SECONDS=2 node bench/compare.mjs
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import console from 'node:console';
import { closedLoop, firstEvents, openLoop } from './measure.mjs';
import { freePort, killAllNow, pinSelf, startProcess, stopAll, waitForPort } from './processes.mjs';
import { table } from './report.mjs';
import { REQUEST, ROOT, STREAM_BODY, SUBJECTS } from './subjects.mjs';

const setting = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0`);
  return value;
};
const rounds = setting('COMPARE_ROUNDS', 6);
const seconds = setting('COMPARE_SECONDS', 4);
const warmup = setting('COMPARE_WARMUP', 1);
const connections = setting('COMPARE_CONNECTIONS', 50);
const rate = setting('COMPARE_RATE', 0);
const byThread = process.env.COMPARE_THREADS === '1';
const quiet = setting('COMPARE_QUIET', 0);
const ttftSamples = Math.round(setting('COMPARE_TTFT', 0));
/** Thread names by id, read with the times when COMPARE_THREADS=1. */
const names = new Map();

const items = (process.env.COMPARE ?? '').split(',').filter(Boolean).map((spec) => {
  const [label, dir, subjectName] = spec.split(':');
  // A subject whose CPU time is its one process's: not direct (no process) nor nginx (its worker is a child).
  const subject = SUBJECTS.find((s) => s.name === subjectName && s.name !== 'direct' && s.name !== 'nginx');
  if (!label || !dir || !subject) throw new Error(`COMPARE item "${spec}" is not label:directory:subject (a Node.js subject of bench/subjects.mjs)`);
  return { label, root: path.resolve(ROOT, dir), subject, runs: [] };
});
if (items.length < 2) {
  console.error('COMPARE must list at least two label:directory:subject items (see the head of bench/compare.mjs)');
  process.exit(2);
}

const pin = os.availableParallelism() >= 2 && process.env.BENCH_PIN !== '0';
const LOAD_CPU = pin ? 0 : undefined;
const PROXY_CPU = pin ? 1 : undefined;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'keygate-compare-'));
process.on('exit', () => {
  killAllNow();
  rmSync(tmp, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll().finally(() => process.exit(130)));

/** Nanoseconds each thread of `pid` has run (from /proc/PID/task/TID/schedstat), the first thread being the event loop's. */
function threadTimes(pid) {
  const times = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      times.set(tid, ns);
      if (byThread) names.set(tid, readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return times;
}

/**
 * CPU µs per request of the event loop and of all other threads between two threadTimes readings; with
 * COMPARE_THREADS=1, also per thread name (`perThread`: libuv's pool, V8's helpers, worker threads).
 */
function cpuPerRequest(pid, before, after, requests) {
  let main = 0;
  let others = 0;
  const perThread = {};
  for (const [tid, ns] of after) {
    const spent = ns - (before.get(tid) ?? 0);
    if (tid === String(pid)) main += spent;
    else others += spent;
    if (byThread && spent > 0) {
      // Node 20 names every thread "node": the id tells them apart (V8's helpers start first, worker threads last).
      const name = tid === String(pid) ? '(event loop)' : `${names.get(tid) ?? '?'}#${tid}`;
      perThread[name] = (perThread[name] ?? 0) + spent / 1000 / requests;
    }
  }
  return { mainUs: main / 1000 / requests, othersUs: others / 1000 / requests, perThread };
}

/** The process's resident high-water mark (VmHWM), in bytes. */
function peakRss(pid) {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
  return match ? Number(match[1]) * 1024 : 0;
}

/** The process's resident set now (VmRSS), in bytes. */
function residentSet(pid) {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return match ? Number(match[1]) * 1024 : 0;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function measure(item) {
  const { url, headers } = item.load;
  if (warmup > 0) await closedLoop({ url, headers, body: REQUEST.body, connections, seconds: warmup, cpu: LOAD_CPU });
  const before = threadTimes(item.pid);
  const run = await closedLoop({ url, headers, body: REQUEST.body, connections, seconds, cpu: LOAD_CPU });
  const cpu = cpuPerRequest(item.pid, before, threadTimes(item.pid), run.rps * seconds);
  const open = rate > 0 ? await openLoop({ url, headers, body: REQUEST.body, rate, seconds, warmup: 1, cpu: LOAD_CPU }) : undefined;
  const ttft = ttftSamples > 0 ? await firstEvents({ url, headers, body: STREAM_BODY, samples: ttftSamples, warmup: 50, cpu: LOAD_CPU }) : undefined;
  if (ttft && ttft.samples === 0) throw new Error(`${item.label}: no streamed request answered (${ttft.firstError ?? 'no sample'})`);
  return { rps: run.rps, errors: run.errors + (open?.errors ?? 0) + (ttft?.errors ?? 0), ...cpu, closedP99Us: run.p99Us, p99Us: open?.p99Us, firstUs: ttft?.p50Us };
}

async function run() {
  if (pin) pinSelf(LOAD_CPU);
  const upstreamPort = await freePort();
  // The upstream without V8's memory reducer: after a quiet spell, the first subject measured would otherwise pay for its recompiles.
  const upstreamArgs = [...(quiet > 0 ? ['--no-memory-reducer'] : []), path.join(ROOT, 'bench/upstream.mjs')];
  const upstream = startProcess('upstream', process.execPath, upstreamArgs, { cpu: LOAD_CPU, env: { PORT: String(upstreamPort) } });
  const problem = await waitForPort(upstreamPort, upstream);
  if (problem) throw new Error(`the upstream did not start: ${problem}`);
  for (const item of items) {
    const started = await item.subject.start({ tmp, upstreamPort, proxyCpu: PROXY_CPU, root: item.root, label: item.label });
    item.pid = started.proc.pid;
    item.load = { url: `http://127.0.0.1:${started.port}${REQUEST.path}`, headers: { ...REQUEST.headers, ...started.headers } };
    console.log(`${item.label}: ${item.subject.name} from ${item.root}, pid ${item.pid}`);
  }
  // Every quiet spell follows warm traffic, the first one too: 5 s at the full load for each subject after its start.
  if (quiet > 0) for (const item of items) await closedLoop({ ...item.load, body: REQUEST.body, connections, seconds: 5, cpu: LOAD_CPU });
  for (let round = 0; round < rounds; round++) {
    if (quiet > 0) {
      await sleep(quiet * 1000);
      for (const item of items) (item.quietRss ??= []).push(residentSet(item.pid));
    }
    const order = items.map((_, i) => items[(i + round) % items.length]);
    const line = [];
    for (const item of order) {
      const result = await measure(item);
      item.runs[round] = result;
      line.push(`${item.label} ${Math.round(result.rps)} req/s ${result.mainUs.toFixed(1)}+${result.othersUs.toFixed(1)} µs p99 @ ${connections} ${(result.closedP99Us / 1000).toFixed(1)} ms${result.p99Us ? ` p99 ${(result.p99Us / 1000).toFixed(2)} ms` : ''}${result.firstUs ? ` first event ${(result.firstUs / 1000).toFixed(3)} ms` : ''}`);
    }
    console.log(`round ${round + 1}/${rounds}: ${line.join(' · ')}`);
    if (byThread) {
      for (const item of order) {
        const threads = Object.entries(item.runs[round].perThread).sort((a, b) => b[1] - a[1]);
        console.log(`  ${item.label}: ${threads.map(([name, us]) => `${name} ${us.toFixed(1)}`).join(', ')} µs/req`);
      }
    }
  }
  const base = items[0];
  const rows = items.map((item) => {
    const ratios = item.runs.map((r, i) => r.rps / base.runs[i].rps);
    const cpuRatios = item.runs.map((r, i) => (r.mainUs + r.othersUs) / (base.runs[i].mainUs + base.runs[i].othersUs));
    return [
      item.label,
      Math.round(median(item.runs.map((r) => r.rps))).toLocaleString('en-US'),
      item === base ? '—' : `${median(ratios).toFixed(3)}× (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`,
      median(item.runs.map((r) => r.mainUs)).toFixed(1),
      median(item.runs.map((r) => r.othersUs)).toFixed(1),
      item === base ? '—' : `${median(cpuRatios).toFixed(3)}×`,
      `${(median(item.runs.map((r) => r.closedP99Us)) / 1000).toFixed(1)} ms`,
      rate > 0 ? `${(median(item.runs.map((r) => r.p99Us)) / 1000).toFixed(2)} ms` : '—',
      ...(ttftSamples > 0 ? [`${(median(item.runs.map((r) => r.firstUs)) / 1000).toFixed(3)} ms`] : []),
      `${(peakRss(item.pid) / 1024 / 1024).toFixed(1)} MiB`,
      ...(quiet > 0 ? [`${(median(item.quietRss) / 1024 / 1024).toFixed(1)} MiB`] : []),
      String(item.runs.reduce((n, r) => n + r.errors, 0)),
    ];
  });
  const spell = quiet > 0 ? `${quiet} s of quiet and ` : '';
  console.log(`\n${rounds} rounds of ${seconds} s at ${connections} connections, each after ${spell}${warmup} s of warm-up; ratios are medians of per-round ratios to ${base.label}`);
  const heads = ['subject', 'req/s', `× ${base.label}`, 'event loop µs/req', 'other threads µs/req', `CPU × ${base.label}`, `p99 @ ${connections}`, `p99 @ ${rate || '—'}/s`, ...(ttftSamples > 0 ? ['first event p50'] : []), 'peak RSS', ...(quiet > 0 ? ['RSS after quiet'] : []), 'errors'];
  console.log(table(heads, rows, heads.map((_, i) => (i === 0 ? 'l' : 'r'))));
}

run()
  .catch((error) => {
    console.error(error.stack ?? error.message);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
