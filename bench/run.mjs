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
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import console from 'node:console';
import { closedLoop, openLoop } from './measure.mjs';
import { cpuUsage, freePort, killAllNow, machineBusy, othersShare, pinSelf, waitForQuiet, probe, runToEnd, sampleRss, startProcess, stopAll, stopProcess, waitForPort } from './processes.mjs';
import { resultTables, roundsTable, summarize } from './report.mjs';
import { REQUEST, ROOT, SUBJECTS, SubjectUnavailable, versions } from './subjects.mjs';

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
  pin: process.env.BENCH_PIN !== '0' && machine.cpus >= 2,
};
const wanted = process.env.BENCH_SUBJECTS ? process.env.BENCH_SUBJECTS.split(',').map((s) => s.trim()) : null;
const subjects = SUBJECTS.filter((s) => !wanted || wanted.includes(s.name));
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

async function measureSubject(subject, index, ctx) {
  const tag = `[${index + 1}/${subjects.length}] ${subject.name}`;
  log(`${tag}: starting …`);
  let started;
  try {
    started = await subject.start(ctx);
  } catch (error) {
    if (error instanceof SubjectUnavailable && !interrupted) return { name: subject.name, what: subject.what, reason: error.message };
    throw error;
  }
  const url = `http://127.0.0.1:${started.port}${REQUEST.path}`;
  const headers = { ...REQUEST.headers, ...started.headers };
  const problem = await checkProxying(url, headers);
  if (problem) {
    await stopProcess(started.proc);
    return { name: subject.name, what: subject.what, reason: problem };
  }
  const rss = started.proc ? sampleRss(started.proc.pid) : null;
  const load = { url, headers, body: REQUEST.body, cpu: LOAD_CPU };
  const rounds = [];
  let peakRss = null;
  try {
    log(`${tag}: warming up at ${params.connections} connections (${params.warmup} s) …`);
    await closedLoop({ ...load, connections: params.connections, seconds: params.warmup });
    for (let round = 1; round <= params.rounds; round++) {
      const of = `round ${round}/${params.rounds}`;
      log(`${tag}: ${of}: measuring at ${params.connections} connections (${params.seconds} s) …`);
      const closed = await closedLoop({ ...load, connections: params.connections, seconds: params.seconds });
      log(`${tag}: ${of}: measuring at 1 connection (${params.seconds} s) …`);
      const single = await closedLoop({ ...load, connections: 1, seconds: params.seconds });
      log(`${tag}: ${of}: measuring at ${params.rate.toLocaleString('en-US')} req/s (${params.seconds} s) …`);
      const rate = await openLoop({ ...load, rate: params.rate, seconds: params.seconds, warmup: 1 });
      rounds.push({ closed, single, rate });
    }
  } catch (error) {
    if (interrupted) throw error;
    return { name: subject.name, what: subject.what, reason: `measurement failed: ${error.message}` };
  } finally {
    peakRss = rss?.stop() ?? null;
    if (started.proc) {
      if (started.proc.exit) log(`${tag}: the process had exited during the run: ${started.proc.output.split('\n').slice(-3).join(' / ')}`);
      await stopProcess(started.proc);
    }
  }
  return { name: subject.name, what: subject.what, rounds, summary: summarize(rounds), peakRss };
}

function markdown({ date, elapsedS, tables, rounds, vers }) {
  const p = params;
  return `# Benchmarks

\`npm run bench\` measures Keygate's proxy against a direct connection, nginx, a minimal Node.js proxy and
Portkey's gateway, all in front of the same upstream on this machine, and rewrites this page with the figures of
its latest run. Build first (\`npm run build\`): the bench starts Keygate from \`dist/\`.

\`\`\`sh
npm run build && npm run bench
BENCH_DURATION=3 BENCH_ROUNDS=1 BENCH_SUBJECTS=direct,keygate npm run bench   # a quick look
\`\`\`

Other settings: \`BENCH_WARMUP\` (s), \`BENCH_CONNECTIONS\`, \`BENCH_RATE\` (req/s), \`BENCH_PIN=0\` (no CPU pinning),
\`BENCH_DOCS=0\` (leave this page alone), \`BENCH_WAIT_QUIET=120\` (first wait up to 120 s for other programs to
leave the CPUs alone: on a shared machine the figures below are only as good as the "Machine load" line says).
Missing \`wrk\` or \`nginx\` are installed from Debian's packages with apt-get (as root). A subject that cannot be
started, or that does not pass the upstream's answer through, is reported as "not available" with the reason, and
the others are still measured.

## Latest run

${date}, ${Math.round(elapsedS)} s in all.

- Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memory} memory, ${machine.kernel}
- Versions: Node.js ${vers.node}, nginx ${vers.nginx}, Portkey gateway ${vers.portkey}, Keygate ${vers.keygate}, undici ${vers.undici} (minimal proxy, rate load), wrk ${vers.wrk}
- Each figure is the median of ${p.rounds} round${p.rounds === 1 ? '' : 's'} of ${p.seconds} s, after a ${p.warmup} s warm-up per subject
- CPU pinning: ${PINNING}
- Machine load: ${machine.busyBefore}; ${machine.busyDuring}

### Throughput at ${p.connections} connections (closed loop, wrk)

${tables.throughput}

### Latency at 1 connection (wrk) and at ${p.rate.toLocaleString('en-US')} req/s (open loop)

${tables.latency}

${tables.notes.length ? `Notes:\n\n${tables.notes.map((n) => `- ${n}`).join('\n')}\n\n` : ''}### Every round

${rounds}

## Method

- **Request.** Every subject serves the same call: \`POST /v1/chat/completions\` with a ${REQUEST.body.length}-byte
  JSON body, \`Content-Type: application/json\` and a bearer token, answered by the upstream with a non-streaming
  chat completion in OpenAI's shape. The harness checks that each subject returns that answer before measuring it.
- **Upstream** (\`bench/upstream.mjs\`): node:http, keep-alive, a fixed JSON reply.
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
- **Memory**: resident set size of the proxy's processes (nginx: master and worker), sampled every 250 ms from
  \`/proc\` while the subject is measured, plus the kernel's high-water mark of the main process; the peak is shown.
- **Load generator and CPUs**: wrk and the rate generator each run as a separate process. ${params.pin ? 'With two or more CPUs, the proxy is pinned to CPU 1 and everything else (load generator, upstream, harness) to CPU 0 with taskset, so that a proxy has a core of its own; direct therefore runs the load generator and the upstream on one core.' : 'No CPU pinning.'}
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
  const upstream = startProcess('upstream', process.execPath, [path.join(ROOT, 'bench/upstream.mjs')], { cpu: LOAD_CPU, env: { PORT: String(upstreamPort) } });
  const upstreamProblem = (await waitForPort(upstreamPort, upstream)) ?? (await checkProxying(`http://127.0.0.1:${upstreamPort}${REQUEST.path}`, REQUEST.headers));
  if (upstreamProblem) throw new Error(`the upstream did not start: ${upstreamProblem}`);

  const usageBefore = cpuUsage();
  const ctx = { tmp, upstreamPort, proxyCpu: PROXY_CPU };
  const results = [];
  for (const [i, subject] of subjects.entries()) {
    const result = await measureSubject(subject, i, ctx);
    if (interrupted) return;
    if (!result.summary) log(`[${i + 1}/${subjects.length}] ${subject.name}: not available (${result.reason})`);
    results.push(result);
  }
  await stopProcess(upstream);
  const others = othersShare(usageBefore, cpuUsage());
  machine.busyDuring = `${Math.round(others * 100)}% of the machine's CPU time went to other programs during the measurements`;
  if (others > 0.05) log(`warning: ${machine.busyDuring}; the figures are noisy`);

  const tables = resultTables(results, params);
  const elapsedS = (Date.now() - began) / 1000;
  log('');
  log(`Throughput at ${params.connections} connections (median of ${params.rounds} × ${params.seconds} s)`);
  log(tables.throughput);
  log('');
  log(`Latency at 1 connection and at ${params.rate.toLocaleString('en-US')} req/s (open loop)`);
  log(tables.latency);
  for (const note of tables.notes) log(note);
  log('');
  log(`CPU pinning: ${PINNING}. ${machine.cpus} × ${machine.cpuModel}, ${machine.memory}; node ${vers.node}, nginx ${vers.nginx}, portkey ${vers.portkey}, keygate ${vers.keygate}. ${Math.round(elapsedS)} s; ${machine.busyDuring}.`);
  if (process.env.BENCH_DOCS !== '0') {
    const file = path.join(ROOT, 'docs/benchmarks.md');
    writeFileSync(file, markdown({ date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), elapsedS, tables, rounds: roundsTable(results, params), vers }));
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
