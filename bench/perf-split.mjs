// Where each subject's event loop spends its time per request, by kind (the kernel's syscalls, Keygate's own code,
// undici, Node's HTTP and streams, the collector…), measured with Linux `perf` rather than V8's profiler: perf
// samples the whole thread, kernel included, at a cost too small to change what it measures (V8's --cpu-prof
// doubled the AI route's CPU per request on a slow host and left the plain route's almost as it was).
//
//   npm run build && node bench/perf-split.mjs
//   PERF_SUBJECTS=keygate,keygate-ai PERF_SECONDS=6 node bench/perf-split.mjs
//
// Each subject is started as `npm run bench` starts it (CPU 1; load and upstream on CPU 0) with Node's
// --perf-basic-prof-only-functions, warmed up with wrk at 50 connections, then sampled by `perf record -g`, a
// sample every 0.5 ms of the thread's CPU time, while the same load runs. A sample's kind is that of its innermost JavaScript frame (the built-ins
// and runtime calls it made count with it), or the kernel's when it is in a system call, or the collector's.
// Needs `perf` (Debian's linux-perf) and permission to record another process (root, or perf_event_paranoid ≤ 1).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import console from 'node:console';
import { execFileSync, spawn } from 'node:child_process';
import { setTimeout } from 'node:timers';
import { closedLoop } from './measure.mjs';
import { freePort, killAllNow, pinSelf, startProcess, stopAll, stopProcess, waitForPort } from './processes.mjs';
import { table } from './report.mjs';
import { REQUEST, ROOT, SUBJECTS } from './subjects.mjs';

const names = (process.env.PERF_SUBJECTS ?? 'keygate,keygate-ai').split(',').filter(Boolean);
const seconds = Number(process.env.PERF_SECONDS ?? 6);
/** Each sample is this much of the thread's CPU time (`-e task-clock -c`): counts are CPU time, whatever perf's throttling. */
const SAMPLE_NS = 500_000;
/** The built gateway's own files, not a dependency's `dist/` (jose's, Kysely's). */
const KEYGATE_CODE = `${path.join(ROOT, 'dist')}/`;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'keygate-perf-'));
process.on('exit', () => {
  killAllNow();
  rmSync(tmp, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll().finally(() => process.exit(130)));

/** perf script's text: one block per sample, a header line and then one frame per line, innermost first. */
function samplesOf(text) {
  const samples = [];
  let current;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (current) samples.push(current);
      current = undefined;
    } else if (!/^\s/.test(line)) current = { tid: line.trim().split(/\s+/)[1], frames: [] };
    else if (current) current.frames.push(line.trim().replace(/^[0-9a-f]+\s+/, ''));
  }
  if (current) samples.push(current);
  return samples;
}

const GC = /Scavenge|MarkCompact|Sweeper|Marking|MinorGC|Heap::|GCTracer/;

/** The kind one sample's time is charged to (see the head of this file). */
function kindOf(frames) {
  const top = frames[0] ?? '';
  if (GC.test(top)) return 'V8 collector';
  const js = frames.find((frame) => frame.startsWith('JS:'));
  const inSyscall = frames.some((frame) => frame === 'do_syscall_64' || frame === 'entry_SYSCALL_64_after_hwframe');
  if (inSyscall && !top.startsWith('JS:') && !top.startsWith('Builtins')) return 'kernel (system calls)';
  if (!js) return 'native, other';
  if (js.includes('/undici/')) return 'undici';
  if (js.includes('/node_modules/')) return 'other dependencies';
  if (js.includes(KEYGATE_CODE)) return "Keygate's code";
  if (js.includes('wasm')) return 'llhttp (WebAssembly)';
  const node = js.match(/node:(?:internal\/)?([a-z_/]+)/);
  if (node) return `node:${node[1].split('/').pop()}`;
  return 'JavaScript, other';
}

async function measure(name, upstreamPort) {
  const subject = SUBJECTS.find((s) => s.name === name);
  if (!subject) throw new Error(`no subject ${name} in bench/subjects.mjs`);
  const started = await subject.start({ tmp, upstreamPort, proxyCpu: 1, root: ROOT, label: name, nodeArgs: ['--perf-basic-prof-only-functions'] });
  const url = `http://127.0.0.1:${started.port}${REQUEST.path}`;
  const headers = { ...REQUEST.headers, ...started.headers };
  await closedLoop({ url, headers, body: REQUEST.body, connections: 50, seconds: 4, cpu: 0 });
  const data = path.join(tmp, `${name}.perf`);
  // perf starts first and samples a window inside the load's: the load runs a second longer on each side.
  const load = closedLoop({ url, headers, body: REQUEST.body, connections: 50, seconds: seconds + 2, cpu: 0 });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const recorder = spawn('perf', ['record', '-q', '-e', 'task-clock', '-c', String(SAMPLE_NS), '-g', '-o', data, '-p', String(started.proc.pid), '--', 'sleep', String(seconds)], { stdio: 'ignore' });
  const recorded = await new Promise((resolve) => recorder.on('exit', (code) => resolve(code)));
  const run = await load;
  if (recorded !== 0) throw new Error(`perf record exited with ${recorded}: is perf installed (linux-perf) and may it record?`);
  const text = execFileSync('perf', ['script', '-i', data, '-F', 'comm,tid,ip,sym'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  await stopProcess(started.proc);
  // --perf-basic-prof's symbol map, written for perf script, is not wanted once read.
  rmSync(`/tmp/perf-${started.proc.pid}.map`, { force: true });
  const samples = samplesOf(text);
  const loop = samples.filter((s) => s.tid === String(started.proc.pid));
  const perRequestUs = (count) => (count * SAMPLE_NS) / 1000 / (run.rps * seconds);
  const kinds = new Map();
  for (const sample of loop) {
    const kind = kindOf(sample.frames);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return { name, rps: run.rps, total: perRequestUs(loop.length), others: perRequestUs(samples.length - loop.length), kinds: new Map([...kinds].map(([kind, count]) => [kind, perRequestUs(count)])) };
}

async function run() {
  pinSelf(0);
  const upstreamPort = await freePort();
  const upstream = startProcess('upstream', process.execPath, [path.join(ROOT, 'bench/upstream.mjs')], { cpu: 0, env: { PORT: String(upstreamPort) } });
  const problem = await waitForPort(upstreamPort, upstream);
  if (problem) throw new Error(`the upstream did not start: ${problem}`);
  const results = [];
  for (const name of names) {
    console.log(`recording ${name} …`);
    results.push(await measure(name, upstreamPort));
  }
  const kinds = [...new Set(results.flatMap((r) => [...r.kinds.keys()]))].sort((a, b) => (results.at(-1).kinds.get(b) ?? 0) - (results.at(-1).kinds.get(a) ?? 0));
  const us = (value) => (value ?? 0).toFixed(1);
  const rows = [
    ['requests/s', ...results.map((r) => Math.round(r.rps).toLocaleString('en-US'))],
    ['event loop, µs per request', ...results.map((r) => us(r.total))],
    ['other threads, µs per request', ...results.map((r) => us(r.others))],
    ...kinds.map((kind) => [kind, ...results.map((r) => us(r.kinds.get(kind)))]),
  ];
  console.log(`\n${seconds} s of each subject under wrk -c50, a sample every ${SAMPLE_NS / 1000} µs of CPU; event-loop time by kind, µs per request\n`);
  console.log(table(['', ...results.map((r) => r.name)], rows, ['l', ...results.map(() => 'r')]));
}

run()
  .then(() => stopAll())
  .catch(async (error) => {
    console.error(error.message);
    await stopAll();
    process.exitCode = 1;
  });
