// `npm run bench`: measures direct, nginx, a minimal Node.js proxy, Portkey's gateway and Keygate in front
// of the same upstream, prints the tables and rewrites docs/benchmarks.md. docs/benchmarks.md explains the
// method; the environment variables below shorten or reshape a run.
//
//   BENCH_DURATION=5  seconds per measurement      BENCH_ROUNDS=3     rounds (medians are reported)
//   BENCH_WARMUP=4    seconds of warm-up per subject BENCH_CONNECTIONS=50 connections for throughput
//   BENCH_RATE=1000   requests/s for the open-loop latency measurement
//   BENCH_SUBJECTS=direct,nginx  only these       BENCH_PIN=0        no CPU pinning
//   BENCH_DOCS=0      do not rewrite docs/benchmarks.md
//   BENCH_WAIT_QUIET=120  first wait up to that many seconds for 3 s in which other programs use under 10% CPU
//   BENCH_TTFT_SAMPLES=300  streamed requests timed per subject for the time to first token (after BENCH_TTFT_WARMUP=50)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import console from 'node:console';
import { closedLoop, firstEvents, openLoop } from './measure.mjs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuUsage, freePort, killAllNow, machineBusy, othersShare, pinSelf, waitForQuiet, probe, runToEnd, sampleRss, startProcess, stopAll, stopProcess, untilIdle, waitForPort, windowsShare } from './processes.mjs';
import { busyTable, issueTables, resultTables, roundsTable, summarize, TARGETS } from './report.mjs';
import { REQUEST, ROOT, STREAM_BODY, SUBJECTS, SubjectUnavailable, versions } from './subjects.mjs';

const number = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};

const machine = {
  cpus: os.availableParallelism(),
  cpuModel: readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? 'unknown',
  memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
  kernel: `${os.type()} ${os.release()}`,
};
const params = {
  seconds: number('BENCH_DURATION', 5),
  rounds: Math.round(number('BENCH_ROUNDS', 3)),
  warmup: number('BENCH_WARMUP', 4),
  connections: Math.round(number('BENCH_CONNECTIONS', 50)),
  rate: Math.round(number('BENCH_RATE', 1000)),
  ttftSamples: Math.round(number('BENCH_TTFT_SAMPLES', 300)),
  ttftWarmup: Math.round(number('BENCH_TTFT_WARMUP', 50)),
  pin: process.env.BENCH_PIN !== '0' && machine.cpus >= 2,
};
// Milliseconds between the upstream's streamed events after the first: long enough that a proxy holding events back shows.
const upstreamGap = 10;
const wanted = process.env.BENCH_SUBJECTS ? process.env.BENCH_SUBJECTS.split(',').map((s) => s.trim()) : null;
const subjects = SUBJECTS.filter((s) => (wanted ? wanted.includes(s.name) : !s.reference));
// With pinning: the proxy alone on CPU 1; load generator, upstream and this harness on CPU 0.
const LOAD_CPU = params.pin ? 0 : undefined;
const PROXY_CPU = params.pin ? 1 : undefined;
const PINNING = params.pin
  ? 'proxy process on CPU 1; load generator, upstream and harness on CPU 0 (taskset), the same for every subject'
  : 'none';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'keygate-bench-'));
let cleaned = false;
let interrupted = false;
async function cleanUp() {
  if (cleaned) return;
  cleaned = true;
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping every process this bench started …`);
    cleanUp().finally(() => process.exit(130));
  });
}

function log(line) {
  console.log(line);
}

function commandExists(command, args) {
  return spawnSync(command, args, { stdio: 'ignore' }).error?.code !== 'ENOENT';
}

/** wrk and nginx from Debian's packages, installed with apt-get when missing. */
async function ensurePackages() {
  const missing = [['wrk', ['-v']], ['nginx', ['-v']]].filter(([cmd, args]) => !commandExists(cmd, args)).map(([cmd]) => cmd);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`${missing.join(' and ')} missing; install with: sudo apt-get install -y ${missing.join(' ')}`);
  log(`installing ${missing.join(' and ')} with apt-get (Debian packages) …`);
  const run = await runToEnd('apt-get', 'sh', ['-c', `apt-get update && apt-get install -y ${missing.join(' ')}`], {
    env: { DEBIAN_FRONTEND: 'noninteractive' },
    timeoutMs: 600_000,
  });
  if (run.code !== 0) log(`apt-get failed (code ${run.code}): ${run.output.split('\n').slice(-5).join(' / ')}`);
}

function nginxVersion() {
  const out = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  return out.error ? 'not installed' : (out.stderr.match(/nginx\/(\S+)/)?.[1] ?? out.stderr.trim());
}

/** The answer must be the upstream's chat completion, passed through. */
async function checkProxying(url, headers) {
  const res = await probe(url, { method: 'POST', headers, body: REQUEST.body });
  if (res.error) return `probe POST ${REQUEST.path} failed: ${res.error}`;
  let json;
  try {
    json = JSON.parse(res.text);
  } catch {
    json = null;
  }
  if (res.status !== 200 || json?.object !== 'chat.completion') {
    return `probe POST ${REQUEST.path} answered HTTP ${res.status}: ${res.text.replace(/\s+/g, ' ').slice(0, 200)}`;
  }
  return null;
}

/**
 * Starts a subject and checks that it passes the upstream's answer through. Returns its entry: what the report
 * needs about it, its process and load settings, and, from here on, its measurements (or why there are none).
 */
async function startSubject(subject, tag, ctx) {
  const about = { name: subject.name, what: subject.what, group: subject.group, alg: subject.alg, ...(subject.ttft ? { ttft: null, ttftStarted: null } : {}) };
  log(`${tag}: starting …`);
  let started;
  try {
    started = await subject.start(ctx);
  } catch (error) {
    if (error instanceof SubjectUnavailable && !interrupted) return { subject, tag, about, reason: error.message };
    throw error;
  }
  const url = `http://127.0.0.1:${started.port}${REQUEST.path}`;
  const headers = { ...REQUEST.headers, ...started.headers };
  const problem = await checkProxying(url, headers);
  if (problem) {
    await stopProcess(started.proc);
    return { subject, tag, about, reason: problem };
  }
  const rss = started.proc ? sampleRss(started.proc.pid) : null;
  return { subject, tag, about, proc: started.proc, rss, load: { url, headers, body: REQUEST.body, cpu: LOAD_CPU }, rounds: [], windows: [], reason: null };
}

/** The streamed requests of one subject's time to first token; an error is reported in place of figures. */
async function timeToFirstToken(entry, when) {
  log(`${entry.tag}: time to first token, ${when}: ${params.ttftSamples} streamed requests at 1 connection (after ${params.ttftWarmup}) …`);
  const ttft = await firstEvents({ url: entry.load.url, headers: entry.load.headers, body: STREAM_BODY, samples: params.ttftSamples, warmup: params.ttftWarmup, cpu: LOAD_CPU }).catch((error) => {
    if (interrupted) throw error;
    return { error: error.message };
  });
  return !ttft.error && ttft.samples === 0 ? { error: ttft.firstError ?? 'no sample' } : ttft;
}

/** Runs `step` for a live entry; a failure takes the subject out of the run with the reason, the others go on. */
async function forSubject(entry, step) {
  if (entry.reason) return;
  const before = cpuUsage(liveProcesses());
  try {
    await step();
  } catch (error) {
    if (interrupted) throw error;
    entry.reason = `measurement failed: ${error.message}`;
    if (entry.proc?.exit) log(`${entry.tag}: the process had exited during the run: ${entry.proc.output.split('\n').slice(-3).join(' / ')}`);
    entry.rss?.stop();
    await stopProcess(entry.proc);
    return;
  }
  entry.windows.push([before, cpuUsage(liveProcesses())]);
  if (entry.proc) {
    const waited = await untilIdle(entry.proc.pid);
    if (waited > 2000) log(`${entry.tag}: ${(waited / 1000).toFixed(0)} s until it was idle again`);
  }
}

let entries = [];
let upstreamProc = null;
/** The processes whose CPU time is the bench's own: the upstream and every subject still running. */
function liveProcesses() {
  return [upstreamProc?.pid, ...entries.map((e) => (e.reason ? undefined : e.proc?.pid))].filter((pid) => pid !== undefined);
}

/**
 * Every subject is started first and kept running; then each measurement goes round the subjects in turn, round
 * after round, so that a change in the machine's speed during the run (other tenants of the host) touches every
 * subject alike instead of the ones measured at that moment: the ratios between subjects are what the targets are.
 */
async function measureAll(ctx) {
  entries = [];
  for (const [i, subject] of subjects.entries()) {
    const entry = await startSubject(subject, `[${i + 1}/${subjects.length}] ${subject.name}`, ctx);
    if (interrupted) return [];
    if (entry.reason) log(`${entry.tag}: not available (${entry.reason})`);
    entries.push(entry);
  }
  const streamed = entries.filter((e) => e.subject.ttft);
  // First, as a process just started would serve it (its code not yet optimized by the JIT compiler).
  for (const entry of streamed) await forSubject(entry, async () => (entry.about.ttftStarted = await timeToFirstToken(entry, 'just started')));
  for (const entry of entries) {
    await forSubject(entry, async () => {
      log(`${entry.tag}: warming up at ${params.connections} connections (${params.warmup} s) …`);
      await closedLoop({ ...entry.load, connections: params.connections, seconds: params.warmup });
    });
  }
  for (let round = 1; round <= params.rounds; round++) {
    for (const entry of entries) {
      await forSubject(entry, async () => {
        const of = `round ${round}/${params.rounds}`;
        log(`${entry.tag}: ${of}: at ${params.connections} connections, at 1 connection, at ${params.rate.toLocaleString('en-US')} req/s (${params.seconds} s each) …`);
        const closed = await closedLoop({ ...entry.load, connections: params.connections, seconds: params.seconds });
        const single = await closedLoop({ ...entry.load, connections: 1, seconds: params.seconds });
        const rate = await openLoop({ ...entry.load, rate: params.rate, seconds: params.seconds, warmup: 1 });
        entry.rounds.push({ closed, single, rate });
      });
    }
  }
  // Then as it serves in service, warm: after the load, once a subject that fell behind (Portkey) has caught up.
  for (const entry of streamed) {
    await forSubject(entry, async () => {
      await sleep(1000);
      entry.about.ttft = await timeToFirstToken(entry, 'after the load');
    });
  }
  const results = [];
  for (const entry of entries) {
    if (entry.reason && !entry.proc) {
      results.push({ ...entry.about, reason: entry.reason });
      continue;
    }
    const peakRss = entry.rss?.stop() ?? null;
    if (entry.proc && !entry.reason) {
      if (entry.proc.exit) log(`${entry.tag}: the process had exited during the run: ${entry.proc.output.split('\n').slice(-3).join(' / ')}`);
      await stopProcess(entry.proc);
    }
    const othersShareOf = windowsShare(entry.windows);
    if (entry.reason) results.push({ ...entry.about, reason: entry.reason, othersShare: othersShareOf });
    else results.push({ ...entry.about, rounds: entry.rounds, summary: summarize(entry.rounds), peakRss, othersShare: othersShareOf });
  }
  return results;
}

/** The hand-written "## Profile" section of the page (from bench/profile.mjs), kept when the page is rewritten. */
function profileSection(page) {
  const start = page.indexOf('\n## Profile\n');
  if (start === -1) return '## Profile\n\nNot recorded yet: run `node bench/profile.mjs` and write its findings here.\n';
  const next = page.indexOf('\n## ', start + 1);
  return page.slice(start + 1, next === -1 ? undefined : next + 1).trimEnd() + '\n';
}

function markdown({ date, elapsedS, tables, rounds, vers, profile }) {
  const p = params;
  return `# Benchmarks

\`npm run bench\` measures Keygate's proxy against a direct connection, nginx, a minimal Node.js proxy and
Portkey's gateway, all in front of the same upstream on this machine; then Keygate with a JWT-authenticated,
rate-limited route (ES256 and RS256 tokens) against plain Keygate, Keygate's AI route against Portkey, and the
time to the first streamed token through direct, Portkey, Keygate's plain route and its AI route. It rewrites
this page with the figures of its latest run (the [Profile](#profile) section, written by hand from
\`node bench/profile.mjs\`, is kept). Build first (\`npm run build\`): the bench starts Keygate from \`dist/\`.

\`\`\`sh
npm run build && npm run bench
BENCH_DURATION=3 BENCH_ROUNDS=1 BENCH_SUBJECTS=direct,keygate npm run bench   # a quick look
node bench/profile.mjs                                                        # where Keygate's CPU time goes
\`\`\`

Other settings: \`BENCH_WARMUP\` (s), \`BENCH_CONNECTIONS\`, \`BENCH_RATE\` (req/s), \`BENCH_TTFT_SAMPLES\` and
\`BENCH_TTFT_WARMUP\` (streamed requests), \`BENCH_PIN=0\` (no CPU pinning), \`BENCH_DOCS=0\` (leave this page
alone), \`BENCH_WAIT_QUIET=120\` (first wait up to 120 s for other programs to leave the CPUs alone: on a shared
machine the figures below are only as good as the "Machine load" lines say). Missing \`wrk\` or \`nginx\` are
installed from Debian's packages with apt-get (as root). A subject that cannot be started, or that does not pass
the upstream's answer through, is reported as "not available" with the reason, and the others are still measured.
References are measured only when \`BENCH_SUBJECTS\` names them: \`socket-forwarder\`, with no HTTP stack
(\`bench/socket-forwarder.mjs\`), and \`buffered-proxy\` and \`json-proxy\` (\`bench/json-proxy.mjs\`: what the JSON work
of an AI call alone costs a Node.js proxy on Keygate's stack).${wanted ? ` This run: \`BENCH_SUBJECTS=${wanted.join(',')}\`.` : ''}

## Latest run

${date}, ${Math.round(elapsedS)} s in all.

- Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memory} memory, ${machine.kernel}
- Versions: Node.js ${vers.node}, nginx ${vers.nginx}, Portkey gateway ${vers.portkey}, Keygate ${vers.keygate}, undici ${vers.undici} (minimal proxy, rate load), wrk ${vers.wrk}
- Each figure is the median of ${p.rounds} round${p.rounds === 1 ? '' : 's'} of ${p.seconds} s, after a ${p.warmup} s warm-up per subject, the rounds going round the subjects in turn; time to first token over ${p.ttftSamples} streamed requests after ${p.ttftWarmup}, after the load (and just after start)
- CPU pinning: ${PINNING}
- Machine load: ${machine.busyBefore}; ${machine.busyDuring} (per subject: [below](#machine-load-per-subject))

### Targets

${tables.targets}

"Target" is the figure the issue asks for; "—" where the bench was given no threshold for the figure. A verdict
holds for this run on this machine only: read it with the machine load.

### Throughput at ${p.connections} connections (closed loop, wrk)

${tables.throughput}

### Latency at 1 connection (wrk) and at ${p.rate.toLocaleString('en-US')} req/s (open loop)

${tables.latency}

${tables.notes.length ? `Notes:\n\n${tables.notes.map((n) => `- ${n}`).join('\n')}\n\n` : ''}### JWT-authenticated, rate-limited route against plain Keygate

${tables.auth}

"× keygate" divides by the plain \`keygate\` row's req/s at ${p.connections} connections; the latency columns are
differences from that row. Keygate keeps a token that verified once in a cache keyed by its SHA-256 until it
expires (see [auth](auth.md#access-tokens-rfc-9068)), so after the first request these rows measure that
look-up, the policy and the rate-limit count, not an ES256 or RS256 signature check per request.

### Keygate's AI route against Portkey

${tables.ai}

Both serve the same non-streamed \`POST /v1/chat/completions\`; Keygate with an API key, model resolution, the
app's budget check, and usage and cost recorded for every call.

### Time to first token (streamed, 1 connection)

${tables.ttft}

"First event" is the time from handing the request to the socket to the arrival of the first \`data:\` event;
"added" is the difference from direct. The upstream writes its first event at once and the others
${upstreamGap} ms apart, so "whole stream" is about ${upstreamGap * 5} ms for every subject.

### Machine load per subject

${tables.busy}

### Every round

${rounds}

${profile}
## Method

- **Request.** Every subject serves the same call: \`POST /v1/chat/completions\` with a ${REQUEST.body.length}-byte
  JSON body, \`Content-Type: application/json\` and a bearer token (Keygate's auth rows: an access token; its AI
  route: an API key), answered by the upstream with a non-streaming chat completion in OpenAI's shape. The
  harness checks that each subject returns that answer before measuring it.
- **Upstream** (\`bench/upstream.mjs\`): node:http, keep-alive, a fixed JSON reply; with \`"stream": true\` in the
  body, Server-Sent Events in OpenAI's chunk format: the head and the first event (the assistant's role) in one
  write at once, then four content events and the finish event ${upstreamGap} ms apart, the usage chunk if the request
  asked for it (\`stream_options.include_usage\`, which Keygate always does), and \`data: [DONE]\`.
- **Subjects.**
${SUBJECTS.map((s) => `  - *${s.name}*: ${s.what}.`).join('\n')}
- **Throughput**: \`wrk -t1 -c${p.connections}\` for ${p.seconds} s; requests/s and wrk's p50/p99 (closed loop: each
  connection sends its next request when the last one is answered). "× direct" and "× nginx" divide by those rows.
- **Latency at one connection**: \`wrk -t1 -c1\`; "added p50" is the subject's p50 minus direct's.
- **Latency at a fixed rate**: \`bench/rate-load.mjs\` sends ${p.rate.toLocaleString('en-US')} requests/s on an even
  schedule whether or not earlier ones were answered (open loop), over an undici pool, and times each request from
  dispatch to the last byte with microsecond resolution; "added p99" is the subject's p99 minus direct's. Debian has
  no wrk2, and autocannon's rate limit sends each connection's quota in a burst at the start of every second and
  records whole milliseconds, too coarse for loopback latencies.
- **Time to first token**: \`bench/first-event.mjs\` sends the streamed request ${p.ttftSamples} times one after the
  other over one keep-alive node:http connection (after ${p.ttftWarmup} unrecorded ones), for direct, nginx
  (what a proxy written in C adds on this machine's loopback and CPUs), the minimal proxy (a few dozen lines on
  node:http and undici, the stack Keygate's data plane runs on), Portkey, Keygate's plain route (which
  forwards the stream as it comes: the reference for what the AI route adds) and its AI route, and times from handing each request to the socket to the first \`data:\` line, to the response head and
  to the end of the stream. It does so twice: just after the subject started, before any load ("just started":
  a JIT-compiled proxy still runs much of its code unoptimized then), and after the load measurements, once the
  subject has been idle for a second (the main columns, and the target's figure: a gateway in service is warm).
  Between events every process sleeps; on a virtual machine, a process woken after a sleep runs its first
  request several times slower than in a busy loop (cold caches), the more so the more code and memory that
  request touches, and each proxy adds such a wake-up per direction to direct's.
- **Order**: every subject is started first and stays up; the warm-ups, then each round's three measurements go
  round the subjects in turn, so that the machine's speed drifting during a run (other tenants of the host)
  touches every subject alike rather than those measured at the time: the targets are ratios between rows. After
  each turn the harness waits until the subject's processes use under 2% of a CPU (a subject that fell behind
  the fixed rate works off its backlog first), so the subjects not being measured are idle (Keygate's store
  polling wakes it a few times a second).
- **Memory**: resident set size of the proxy's processes (nginx: master and worker), sampled every 250 ms from
  \`/proc\` from its start to its end, plus the kernel's high-water mark of the main process; the peak is shown.
  Every Keygate runs one worker (\`KEYGATE_WORKERS=1\`), so its peak RSS is that of one worker.
- **Load generator and CPUs**: wrk, the rate generator and the streaming client each run as a separate process. ${params.pin ? 'With two or more CPUs, the proxy is pinned to CPU 1 and everything else (load generator, upstream, harness) to CPU 0 with taskset, so that a proxy has a core of its own; direct therefore runs the load generator and the upstream on one core.' : 'No CPU pinning.'}
- **Machine load**: the share of the machine's CPU time that went to processes other than the bench and its
  children, from \`/proc/stat\` and the bench's own and its children's CPU time, over the whole run and per subject.
- **Targets**: auth rows ≥ ${TARGETS.authVsPlain}× plain Keygate's req/s; the AI route ≥ ${TARGETS.aiVsPortkey}× Portkey's req/s;
  Keygate's added time to first token (p50, after the load) under ${TARGETS.ttftAddedMs} ms.
- All traffic stays on 127.0.0.1. Every process the bench starts is stopped at the end, on failure and on Ctrl-C.
`;
}

async function main() {
  const began = Date.now();
  await ensurePackages();
  if (!commandExists('wrk', ['-v'])) throw new Error('wrk is not installed and could not be installed: apt-get install -y wrk');
  if (params.pin) pinSelf(0);
  const vers = { ...versions(nginxVersion()), wrk: spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout.match(/wrk (?:debian\/)?(\S+)/)?.[1] ?? '?' };
  log(`keygate bench: ${subjects.map((s) => s.name).join(', ')}; ${params.rounds} × ${params.seconds} s per measurement, ` +
    `${params.connections} connections, ${params.rate} req/s; CPU pinning: ${PINNING}`);

  const waitQuiet = Number(process.env.BENCH_WAIT_QUIET ?? 0);
  if (waitQuiet > 0) {
    log(`waiting up to ${waitQuiet} s for the machine to be quiet …`);
    if (!(await waitForQuiet(waitQuiet * 1000))) log(`the machine was still busy after ${waitQuiet} s: measuring anyway`);
  }
  const busy = await machineBusy();
  machine.busyBefore = `${Math.round(busy * 100)}% of CPU time was in use by other programs just before the run`;
  if (busy > 0.1) log(`warning: ${machine.busyBefore}; the figures will be noisy (see top)`);

  const upstreamPort = await freePort();
  const upstream = startProcess('upstream', process.execPath, [path.join(ROOT, 'bench/upstream.mjs')], { cpu: LOAD_CPU, env: { PORT: String(upstreamPort), STREAM_GAP_MS: String(upstreamGap) } });
  const upstreamProblem = (await waitForPort(upstreamPort, upstream)) ?? (await checkProxying(`http://127.0.0.1:${upstreamPort}${REQUEST.path}`, REQUEST.headers));
  if (upstreamProblem) throw new Error(`the upstream did not start: ${upstreamProblem}`);

  upstreamProc = upstream;
  const usageBefore = cpuUsage([upstream.pid]);
  const ctx = { tmp, upstreamPort, proxyCpu: PROXY_CPU };
  const results = await measureAll(ctx);
  if (interrupted) return;
  for (const [i, result] of results.entries()) {
    if (result.summary && result.othersShare > 0.05) log(`[${i + 1}/${results.length}] ${result.name}: other programs used ${Math.round(result.othersShare * 100)}% of the machine meanwhile`);
  }
  await stopProcess(upstream);
  const others = othersShare(usageBefore, cpuUsage([upstream.pid]));
  machine.busyDuring = `${Math.round(others * 100)}% of the machine's CPU time went to other programs during the measurements`;
  if (others > 0.05) log(`warning: ${machine.busyDuring}; the figures are noisy`);

  const tables = { ...resultTables(results, params), ...issueTables(results, params), busy: busyTable(results) };
  const elapsedS = (Date.now() - began) / 1000;
  log('');
  log(`Throughput at ${params.connections} connections (median of ${params.rounds} × ${params.seconds} s)`);
  log(tables.throughput);
  log('');
  log(`Latency at 1 connection and at ${params.rate.toLocaleString('en-US')} req/s (open loop)`);
  log(tables.latency);
  for (const note of tables.notes) log(note);
  log('');
  log('JWT-authenticated, rate-limited route against plain Keygate');
  log(tables.auth);
  log('');
  log("Keygate's AI route against Portkey (non-streamed chat completion)");
  log(tables.ai);
  log('');
  log(`Time to first token, streamed, at 1 connection (${params.ttftSamples} requests)`);
  log(tables.ttft);
  log('');
  log('Targets');
  log(tables.targets);
  log('');
  log("Other programs' share of the machine while each subject was measured");
  log(tables.busy);
  log('');
  log(`CPU pinning: ${PINNING}. ${machine.cpus} × ${machine.cpuModel}, ${machine.memory}; node ${vers.node}, nginx ${vers.nginx}, portkey ${vers.portkey}, keygate ${vers.keygate}. ${Math.round(elapsedS)} s; ${machine.busyDuring}.`);
  if (process.env.BENCH_DOCS !== '0') {
    const file = path.join(ROOT, 'docs/benchmarks.md');
    const profile = profileSection(existsSync(file) ? readFileSync(file, 'utf8') : '');
    writeFileSync(file, markdown({ date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), elapsedS, tables, rounds: roundsTable(results, params), vers, profile }));
    log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}

main()
  .then(cleanUp)
  .catch(async (error) => {
    if (interrupted) return;
    console.error(`bench failed: ${error.message}`);
    await cleanUp();
    process.exitCode = 1;
  });
