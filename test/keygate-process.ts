import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const KEYGATE_BIN = resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

/** The environment a child `keygate` gets: this process's, minus any KEYGATE_* the developer's shell had. */
function baseEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEYGATE_')) env[k] = v;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `keygate <args>` to completion. */
export function runKeygate(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [KEYGATE_BIN, ...args], { env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

export interface RunningKeygate {
  proxyUrl: string;
  adminUrl: string;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function tempDataDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'keygate-')), 'data');
}

/**
 * Starts `keygate start` on ephemeral ports and resolves once its "keygate started" line names them.
 */
export function startKeygate(env: Record<string, string | undefined> = {}, args: string[] = []): Promise<RunningKeygate> {
  const dataDir = env.KEYGATE_DATA_DIR ?? tempDataDir();
  // One proxy process unless a test asks for workers: 2 cores run many of these at once.
  const fullEnv = { KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1', KEYGATE_WORKERS: '1', KEYGATE_DATA_DIR: dataDir, ...env };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [KEYGATE_BIN, 'start', ...args], { env: baseEnv(fullEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let started = false;
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keygate did not start within 30 s:\n${out}`));
    }, 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (started) return;
      for (const line of out.split('\n')) {
        if (!line.includes('"keygate started"')) continue;
        const entry = JSON.parse(line) as { proxy: string; admin: string };
        started = true;
        clearTimeout(timer);
        resolvePromise({
          proxyUrl: entry.proxy,
          adminUrl: entry.admin,
          dataDir,
          child,
          output: () => out,
          async stop(signal = 'SIGTERM') {
            if (child.exitCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`keygate exited with ${code} before starting:\n${out}`));
      }
    });
  });
}

/** Polls `check` until it returns a truthy value (bounded), for convergence waits, never for timing assertions. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, attempts = 100, pauseMs = 100): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}
