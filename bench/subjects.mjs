// The five things measured, each behind the same request to the same upstream. A subject's start()
// returns { port, proc, headers } once its port accepts connections, or throws SubjectUnavailable.
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { freePort, startProcess, stopProcess, waitForPort } from './processes.mjs';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PORTKEY_DIR = path.join(ROOT, 'node_modules/@portkey-ai/gateway');

/** The one request every subject serves: an OpenAI-style, non-streaming chat completion. */
export const REQUEST = {
  path: '/v1/chat/completions',
  body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 }),
  headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-not-a-real-key' },
};

export class SubjectUnavailable extends Error {}

async function started(proc, port) {
  const problem = await waitForPort(port, proc);
  if (problem) {
    await stopProcess(proc);
    throw new SubjectUnavailable(problem);
  }
  return proc;
}

export const SUBJECTS = [
  {
    name: 'direct',
    what: 'the load generator straight to the upstream (the baseline)',
    async start(ctx) {
      return { port: ctx.upstreamPort, proc: null, headers: {} };
    },
  },
  {
    name: 'nginx',
    what:
      "Debian's nginx as a plain reverse proxy, in the foreground from its own prefix in a temporary directory: " +
      '`worker_processes 1`, `access_log off`, `upstream { keepalive 64; }`, `proxy_http_version 1.1`, ' +
      '`proxy_set_header Connection ""`, and `keepalive_requests` raised so that it does not close connections after 1,000 requests',
    async start(ctx) {
      const dir = path.join(ctx.tmp, 'nginx');
      mkdirSync(path.join(dir, 'temp'), { recursive: true });
      const port = await freePort();
      writeFileSync(path.join(dir, 'nginx.conf'), nginxConf(dir, port, ctx.upstreamPort));
      const args = ['-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'];
      const proc = startProcess('nginx', 'nginx', args, { cpu: ctx.proxyCpu });
      return { port, proc: await started(proc, port), headers: {} };
    },
  },
  {
    name: 'minimal-proxy',
    what: '`bench/minimal-proxy.mjs`, a few dozen lines: node:http in front of an undici keep-alive pool of 64 connections (what Node.js itself allows)',
    async start(ctx) {
      const port = await freePort();
      const script = path.join(ROOT, 'bench/minimal-proxy.mjs');
      const env = { PORT: String(port), UPSTREAM: `http://127.0.0.1:${ctx.upstreamPort}` };
      const proc = startProcess('minimal-proxy', process.execPath, [script], { cpu: ctx.proxyCpu, env });
      return { port, proc: await started(proc, port), headers: {} };
    },
  },
  {
    name: 'portkey',
    what:
      "Portkey's gateway from npm (`@portkey-ai/gateway`), run as `node build/start-server.js --port=N --headless`; " +
      'the request carries `x-portkey-provider: openai` and `x-portkey-custom-host: http://127.0.0.1:UPSTREAM/v1`',
    async start(ctx) {
      const script = path.join(PORTKEY_DIR, 'build/start-server.js');
      if (!existsSync(script)) throw new SubjectUnavailable(`${script} not found: run npm install`);
      const port = await freePort();
      const proc = startProcess('portkey', process.execPath, [script, `--port=${port}`, '--headless'], { cpu: ctx.proxyCpu });
      const headers = { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `http://127.0.0.1:${ctx.upstreamPort}/v1` };
      return { port, proc: await started(proc, port), headers };
    },
  },
  {
    name: 'keygate',
    what:
      'Keygate, run as `node dist/cli/main.js start --config FILE` with one service and one catch-all route in the YAML file, ' +
      '`KEYGATE_LOG_LEVEL=warn`, `KEYGATE_WORKERS=1`, a fresh data directory and no other `KEYGATE_*` variable',
    async start(ctx) {
      const cli = path.join(ROOT, 'dist/cli/main.js');
      if (!existsSync(cli)) throw new SubjectUnavailable('dist/cli/main.js not found: run npm run build first');
      const dir = path.join(ctx.tmp, 'keygate');
      mkdirSync(path.join(dir, 'data'), { recursive: true });
      const config = path.join(dir, 'keygate.yaml');
      writeFileSync(config, keygateConfig(ctx.upstreamPort));
      const [port, adminPort] = [await freePort(), await freePort()];
      // Settings from the caller's environment (a database URL, a master key) would change what is measured.
      const inherited = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('KEYGATE_')).map((k) => [k, undefined]));
      const env = {
        ...inherited,
        KEYGATE_DATA_DIR: path.join(dir, 'data'),
        KEYGATE_PROXY_PORT: String(port),
        KEYGATE_ADMIN_PORT: String(adminPort),
        KEYGATE_LOG_LEVEL: 'warn',
        // The targets are for one worker process; KEYGATE_WORKERS defaults to one per core.
        KEYGATE_WORKERS: '1',
      };
      const proc = startProcess('keygate', process.execPath, [cli, 'start', '--config', config], { cpu: ctx.proxyCpu, env, cwd: ROOT });
      return { port, proc: await started(proc, port), headers: {} };
    },
  },
];

function nginxConf(dir, port, upstreamPort) {
  // keepalive_requests is raised on both sides so that, like the Node.js subjects, nginx does not close
  // a connection after 1,000 requests (its default since 1.19.10).
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/temp/client_body;
  proxy_temp_path ${dir}/temp/proxy;
  fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi;
  scgi_temp_path ${dir}/temp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

function keygateConfig(upstreamPort) {
  return `version: 1
services:
  - name: upstream
    targets:
      - url: http://127.0.0.1:${upstreamPort}
routes:
  - name: all
    service: upstream
    paths: ["/*"]
`;
}

/** Versions of what is measured, for the report. */
export function versions(nginxVersionText) {
  const pkg = (file) => JSON.parse(readFileSync(file, 'utf8')).version;
  const portkey = existsSync(path.join(PORTKEY_DIR, 'package.json')) ? pkg(path.join(PORTKEY_DIR, 'package.json')) : 'not installed';
  return {
    node: process.version,
    nginx: nginxVersionText,
    portkey,
    keygate: pkg(path.join(ROOT, 'package.json')),
    undici: pkg(path.join(ROOT, 'node_modules/undici/package.json')),
  };
}
