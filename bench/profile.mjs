// Where Keygate spends its CPU time while proxying: starts Keygate (one worker, on CPU 1) under
// `node --cpu-prof`, drives it with wrk (on CPU 0) for a warm-up and then PROFILE_SECONDS, stops it with SIGTERM
// so that V8 writes the profile, and prints the functions with the most self time during the measured window,
// then the same time by module and by kind (Keygate's code, undici, Node's HTTP, V8, native).
//
//   npm run build && node bench/profile.mjs
//   PROFILE_SUBJECT=keygate-ai PROFILE_SECONDS=10 PROFILE_CONNECTIONS=50 PROFILE_TOP=20 node bench/profile.mjs
//
// PROFILE_SUBJECT is a subject of bench/subjects.mjs that runs Keygate (keygate, the plain route, by default;
// keygate-jwt-es256, keygate-jwt-rs256, keygate-ai), or minimal-proxy for comparison. PROFILE_STREAM=1 sends the streamed request at one
// connection instead of wrk's load. PROFILE_KEEP=1 keeps the .cpuprofile (its path is printed) for Chrome's
// DevTools or speedscope. PROFILE_INTERVAL_US samples more (or less) often than V8's 1,000 µs: a request's few
// tens of µs need 100 or less to show up, at the cost of the profiler's own overhead.
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import console from 'node:console';
import { URL } from 'node:url';
import { closedLoop, firstEvents } from './measure.mjs';
import { cpuUsage, freePort, killAllNow, othersShare, pinSelf, probe, startProcess, stopAll, stopProcess, waitForPort } from './processes.mjs';
import { table } from './report.mjs';
import { REQUEST, ROOT, STREAM_BODY, SUBJECTS } from './subjects.mjs';

const seconds = Number(process.env.PROFILE_SECONDS ?? 10);
const connections = Number(process.env.PROFILE_CONNECTIONS ?? 50);
const top = Number(process.env.PROFILE_TOP ?? 20);
const streamed = process.env.PROFILE_STREAM === '1';
const subject = SUBJECTS.find((s) => s.name === (process.env.PROFILE_SUBJECT ?? 'keygate'));
// Every Node.js subject that takes node options from ctx.nodeArgs: Keygate's, and the minimal proxy to compare with.
const PROFILABLE = SUBJECTS.filter((s) => s.name.startsWith('keygate') || s.name === 'minimal-proxy').map((s) => s.name);
if (!subject || !PROFILABLE.includes(subject.name)) {
  console.error(`PROFILE_SUBJECT must be one of ${PROFILABLE.join(', ')}`);
  process.exit(2);
}
const pin = os.availableParallelism() >= 2 && process.env.BENCH_PIN !== '0';
const LOAD_CPU = pin ? 0 : undefined;
const PROXY_CPU = pin ? 1 : undefined;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'keygate-profile-'));
const profileDir = path.join(tmp, 'cpu-profile');
process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll().finally(() => process.exit(130)));

/** CLOCK_MONOTONIC in µs: the clock of V8's profile timestamps on Linux, the same in every process. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

async function run() {
  if (pin) pinSelf(0);
  const upstreamPort = await freePort();
  const upstream = startProcess('upstream', process.execPath, [path.join(ROOT, 'bench/upstream.mjs')], { cpu: LOAD_CPU, env: { PORT: String(upstreamPort) } });
  const problem = await waitForPort(upstreamPort, upstream);
  if (problem) throw new Error(`the upstream did not start: ${problem}`);

  console.log(`starting ${subject.name} under node --cpu-prof …`);
  const started = await subject.start({ tmp, upstreamPort, proxyCpu: PROXY_CPU, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...(process.env.PROFILE_INTERVAL_US ? [`--cpu-prof-interval=${process.env.PROFILE_INTERVAL_US}`] : [])] });
  const url = `http://127.0.0.1:${started.port}${REQUEST.path}`;
  const headers = { ...REQUEST.headers, ...started.headers };
  const check = await probe(url, { method: 'POST', headers, body: REQUEST.body });
  if (check.status !== 200) throw new Error(`${subject.name} answered HTTP ${check.status}: ${check.text.slice(0, 200)}`);

  let window;
  const usageBefore = cpuUsage([upstream.pid, started.proc.pid]);
  if (streamed) {
    const samples = Math.round(seconds * 1000 / 60);
    console.log(`${samples} streamed requests at 1 connection, after 50 unprofiled …`);
    await firstEvents({ url, headers, body: STREAM_BODY, samples: 50, warmup: 0, cpu: LOAD_CPU });
    const from = monotonicUs();
    const t = await firstEvents({ url, headers, body: STREAM_BODY, samples, warmup: 0, cpu: LOAD_CPU });
    window = { from, to: monotonicUs(), requests: t.samples };
    console.log(`first event p50 ${(t.p50Us / 1000).toFixed(3)} ms, p99 ${(t.p99Us / 1000).toFixed(3)} ms`);
  } else {
    console.log(`warming up: wrk -c${connections} for 3 s …`);
    await closedLoop({ url, headers, body: REQUEST.body, connections, seconds: 3, cpu: LOAD_CPU });
    console.log(`profiling: wrk -c${connections} for ${seconds} s …`);
    const from = monotonicUs();
    const load = await closedLoop({ url, headers, body: REQUEST.body, connections, seconds, cpu: LOAD_CPU });
    window = { from, to: monotonicUs(), requests: Math.round(load.rps * seconds) };
    console.log(`${Math.round(load.rps).toLocaleString('en-US')} req/s, p50 ${(load.p50Us / 1000).toFixed(2)} ms, p99 ${(load.p99Us / 1000).toFixed(2)} ms, ${load.errors} errors`);
  }
  const others = othersShare(usageBefore, cpuUsage([upstream.pid, started.proc.pid]));
  console.log(`other programs used ${Math.round(others * 100)}% of the machine's CPU time meanwhile`);
  // SIGTERM: Keygate shuts down gracefully and exits, and node writes the profile on the way out.
  await stopProcess(started.proc, 30_000);
  if (started.proc.exit?.signal === 'SIGKILL') throw new Error(`${subject.name} did not stop within 30 s of SIGTERM: no profile`);
  await stopProcess(upstream);
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${profileDir}: ${started.proc.output.slice(-300)}`);
  report(JSON.parse(readFileSync(path.join(profileDir, file), 'utf8')), window);
  if (process.env.PROFILE_KEEP === '1') console.log(`\nprofile kept: ${path.join(profileDir, file)}`);
}

/** Self time of each sample: from its timestamp to the next one's (V8 records a delta before each sample). */
function sampleTimes(profile) {
  const times = new Float64Array(profile.samples.length);
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    times[i] = t;
  }
  return times;
}

function where(frame) {
  if (!frame.url) return '(native)';
  const file = frame.url.startsWith('file://') ? path.relative(ROOT, new URL(frame.url).pathname) : frame.url;
  return `${file}:${frame.lineNumber + 1}`;
}

/** What a frame belongs to: Keygate's own code, a dependency, a part of Node, V8 itself or native code. */
function kindOf(frame) {
  const url = frame.url;
  if (!url) return ['(idle)', '(program)', '(garbage collector)', '(root)'].includes(frame.functionName) ? `V8 ${frame.functionName}` : 'native (C++ bindings: sockets, llhttp, crypto…)';
  if (url.startsWith('node:internal/deps/undici') || url.includes('/node_modules/undici/')) return 'undici';
  const dep = url.match(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (dep) return `dependency ${dep[1]}`;
  if (url.includes('/dist/')) return 'Keygate (dist/)';
  if (/^node:(_http|http|internal\/http)/.test(url)) return "Node's HTTP (node:_http_*)";
  if (/^node:(net|internal\/stream_base|internal\/net)/.test(url)) return "Node's net and sockets";
  if (/^node:internal\/(streams|webstreams)|^node:stream/.test(url)) return "Node's streams";
  if (/^node:internal\/(timers|process\/task_queues|async_hooks)|^node:timers/.test(url)) return "Node's timers and task queues";
  if (url === 'node:events') return "Node's events";
  if (/^node:internal\/(abort_controller|per_context\/domexception)/.test(url)) return "Node's AbortSignal";
  if (/^node:internal\/crypto|^node:crypto/.test(url)) return "Node's crypto";
  return 'Node, other';
}

function report(profile, window) {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const times = sampleTimes(profile);
  const inWindow = times[0] <= window.to && times[times.length - 1] >= window.from;
  if (!inWindow) console.log('\n(the profile clock does not line up with the load window: counting the whole profile)');
  const byFunction = new Map();
  const byKind = new Map();
  const byFile = new Map();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length - 1; i++) {
    if (inWindow && (times[i] < window.from || times[i] > window.to)) continue;
    const dt = times[i + 1] - times[i];
    const frame = frames.get(profile.samples[i]);
    total += dt;
    if (frame.functionName === '(idle)') idle += dt;
    const key = `${frame.functionName || '(anonymous)'}\t${where(frame)}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + dt);
    const kind = kindOf(frame);
    byKind.set(kind, (byKind.get(kind) ?? 0) + dt);
    const file = frame.url ? where(frame).replace(/:\d+$/, '') : kindOf(frame);
    byFile.set(file, (byFile.get(file) ?? 0) + dt);
  }
  const busy = total - idle;
  const pct = (us, of) => `${((100 * us) / of).toFixed(1)}%`;
  const sorted = (map) => [...map.entries()].sort((a, b) => b[1] - a[1]);
  const perRequest = inWindow && window.requests ? `, ${Math.round(busy / window.requests)} µs of CPU per request (${window.requests.toLocaleString('en-US')} requests)` : '';
  console.log(`\n${(total / 1e6).toFixed(1)} s profiled, of which ${pct(idle, total)} idle${perRequest}; shares below are of the ${(busy / 1e6).toFixed(2)} s busy (all, idle included, in brackets)\n`);
  console.log(`Top ${top} functions by self time`);
  console.log(
    table(
      ['#', 'self ms', 'busy', '(all)', 'function', 'where'],
      sorted(byFunction)
        .filter(([key]) => !key.startsWith('(idle)\t'))
        .slice(0, top)
        .map(([key, us], i) => {
          const [name, at] = key.split('\t');
          return [String(i + 1), (us / 1000).toFixed(0), pct(us, busy), pct(us, total), name, at];
        }),
      ['r', 'r', 'r', 'r', 'l', 'l'],
    ),
  );
  console.log('\nBy kind');
  console.log(table(['kind', 'self ms', 'busy'], sorted(byKind).filter(([k]) => k !== 'V8 (idle)').map(([k, us]) => [k, (us / 1000).toFixed(0), pct(us, busy)]), ['l', 'r', 'r']));
  console.log('\nBy file (top 15)');
  console.log(table(['file', 'self ms', 'busy'], sorted(byFile).filter(([k]) => k !== 'V8 (idle)').slice(0, 15).map(([k, us]) => [k, (us / 1000).toFixed(0), pct(us, busy)]), ['l', 'r', 'r']));
}

run()
  .catch((error) => {
    console.error(`profile failed: ${error.message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    if (process.env.PROFILE_KEEP !== '1') rmSync(tmp, { recursive: true, force: true });
  });
