// The processes a bench run starts: each in its own process group, optionally pinned to one CPU with
// taskset, tracked so that every one of them is stopped at the end, on failure and on Ctrl-C.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import process from 'node:process';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

const running = new Set();
let stopping = false;
const OUTPUT_KEPT = 16_384;

/**
 * Starts `command` in a new process group (so stopping it also stops the workers it forks).
 * With `cpu` set, runs it under `taskset -c CPU`, which execs the command: the pid stays the command's.
 */
export function startProcess(name, command, args, { cpu, env, cwd } = {}) {
  if (stopping) throw new Error(`not starting ${name}: the bench is stopping`);
  const [file, argv] = cpu === undefined ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]];
  const child = spawn(file, argv, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { name, child, pid: child.pid, output: '', exit: null };
  const keep = (chunk) => {
    proc.output = (proc.output + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  proc.exited = new Promise((resolve) => {
    child.on('error', (error) => {
      proc.exit = { code: null, signal: null, error: error.message };
      running.delete(proc);
      resolve(proc.exit);
    });
    child.on('exit', (code, signal) => {
      proc.exit = { code, signal };
      running.delete(proc);
      resolve(proc.exit);
    });
  });
  running.add(proc);
  return proc;
}

/** Runs a short-lived command to its end (killed after `timeoutMs`) and returns its output and exit code. */
export async function runToEnd(name, command, args, { cpu, env, timeoutMs = 120_000 } = {}) {
  const proc = startProcess(name, command, args, { cpu, env });
  const timer = setTimeout(() => stopProcess(proc), timeoutMs);
  const exit = await proc.exited;
  clearTimeout(timer);
  return { ...exit, output: proc.output };
}

/** SIGTERM to the process group, SIGKILL after `graceMs` if it has not exited. */
export async function stopProcess(proc, graceMs = 3000) {
  if (!proc || proc.exit) return;
  signalGroup(proc, 'SIGTERM');
  const stopped = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!stopped) {
    signalGroup(proc, 'SIGKILL');
    await proc.exited;
  }
}

function signalGroup(proc, signal) {
  try {
    process.kill(-proc.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Stops every process still running, and refuses to start new ones from now on. */
export async function stopAll() {
  stopping = true;
  await Promise.all([...running].map((proc) => stopProcess(proc)));
}

/** For the 'exit' hook, where nothing asynchronous runs any more. */
export function killAllNow() {
  for (const proc of running) signalGroup(proc, 'SIGKILL');
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Sends one request and returns its status and body, or the error's message as `error`. */
export async function probe(url, { method = 'GET', headers = {}, body } = {}) {
  try {
    const res = await request(url, { method, headers, body, headersTimeout: 5000, bodyTimeout: 5000 });
    return { status: res.statusCode, text: await res.body.text() };
  } catch (error) {
    return { status: 0, text: '', error: error.message };
  }
}

/**
 * Waits until `port` accepts connections, the process exits, or `timeoutMs` passes.
 * Resolves to null when ready, else to the reason it is not.
 */
export async function waitForPort(port, proc, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc?.exit) return `exited (${describeExit(proc.exit)}): ${lastLine(proc.output)}`;
    if (await canConnect(port)) return null;
    await sleep(100);
  }
  return `nothing listened on port ${port} within ${timeoutMs / 1000} s: ${lastLine(proc?.output ?? '')}`;
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function describeExit(exit) {
  if (exit.error) return exit.error;
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

export function lastLine(text) {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.at(-1)?.slice(0, 300) ?? '(no output)';
}

function childrenByParent() {
  const map = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat is the parent pid; the command name (field 2) may hold spaces, so cut after ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!map.has(ppid)) map.set(ppid, []);
      map.get(ppid).push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return map;
}

function statusField(pid, field) {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resident memory in bytes of `pid` and all its descendants (nginx's master and worker, for instance). */
export function treeRss(pid) {
  const children = childrenByParent();
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const current = stack.pop();
    total += statusField(current, 'VmRSS');
    stack.push(...(children.get(current) ?? []));
  }
  return total;
}

/** Samples the tree's RSS every `everyMs`; stop() returns the peak seen (at least the root's own high-water mark). */
export function sampleRss(pid, everyMs = 250) {
  let peak = treeRss(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRss(pid));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, treeRss(pid), statusField(pid, 'VmHWM'));
    },
  };
}

/** Pins this process (all its threads) to `cpu`; the processes it starts inherit that unless told otherwise. */
export function pinSelf(cpu) {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

function cpuTimes() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + (fields[4] ?? 0);
  return { idle, total: fields.reduce((a, b) => a + b, 0) };
}

/** Share of all CPUs' time (0–1) spent busy over the next `ms`: what other programs leave to the bench. */
export async function machineBusy(ms = 1000) {
  const before = cpuTimes();
  await sleep(ms);
  const after = cpuTimes();
  const total = after.total - before.total;
  return total > 0 ? 1 - (after.idle - before.idle) / total : 0;
}

/** utime, stime, cutime and cstime of a process, in clock ticks (fields 14–17 of /proc/PID/stat). */
function processTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(11, 15).map(Number);
}

/**
 * CPU time in clock ticks: the whole machine's busy time, and this process's own plus that of the children it
 * has reaped (every process the bench starts is its child, and nginx's master reaps its worker), plus that of
 * `live` children still running (the upstream, while subjects come and go).
 */
export function cpuUsage(live = []) {
  const { idle, total } = cpuTimes();
  const [utime, stime, cutime, cstime] = processTicks('self');
  return { machineBusy: total - idle, machineTotal: total, ours: utime + stime + cutime + cstime + treeTicks(live) };
}

/** CPU clock ticks of live processes with their descendants (nginx's worker under its master), and what they reaped. */
function treeTicks(pids) {
  if (pids.length === 0) return 0;
  const children = childrenByParent();
  const stack = [...pids];
  let ticks = 0;
  while (stack.length > 0) {
    const pid = stack.pop();
    try {
      const [u, s, cu, cs] = processTicks(pid);
      ticks += u + s + cu + cs;
    } catch {
      // It has ended: its time is in its parent's cutime once reaped.
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return ticks;
}

/**
 * Waits (up to `maxMs`) until the process and its descendants use under 2% of a CPU over half a second: a subject
 * that fell behind a load (Portkey at 1,000 req/s) works off its backlog before the next subject is measured on
 * the same CPU. Returns the milliseconds waited.
 */
export async function untilIdle(pid, maxMs = 60_000) {
  const began = Date.now();
  let before = treeTicks([pid]);
  while (Date.now() - began < maxMs) {
    await sleep(500);
    const now = treeTicks([pid]);
    // Clock ticks are hundredths of a second: under one tick in 500 ms is under 2%.
    if (now - before < 1) break;
    before = now;
  }
  return Date.now() - began;
}

/** Share of the machine's CPU time between two cpuUsage() readings that went to other programs. */
export function othersShare(before, after) {
  return windowsShare([[before, after]]);
}

/** The same over several windows (a subject measured round after round): others' time over all their time. */
export function windowsShare(windows) {
  let total = 0;
  let others = 0;
  for (const [before, after] of windows) {
    total += after.machineTotal - before.machineTotal;
    others += Math.max(0, after.machineBusy - before.machineBusy - (after.ours - before.ours));
  }
  return total > 0 ? others / total : 0;
}

/** Waits up to `maxMs` for `quietFor` consecutive seconds in which the machine is under 10% busy; true if it was. */
export async function waitForQuiet(maxMs, quietFor = 3) {
  const deadline = Date.now() + maxMs;
  let quiet = 0;
  while (Date.now() < deadline) {
    quiet = (await machineBusy(1000)) < 0.1 ? quiet + 1 : 0;
    if (quiet >= quietFor) return true;
  }
  return false;
}
