// The things measured, each behind the same request to the same upstream. A subject's start() returns
// { port, proc, headers } once its port accepts connections (and, for Keygate with auth, once its app and
// credentials are set up), or throws SubjectUnavailable. `group` marks the rows compared with plain Keygate
// ('auth') or with Portkey ('ai'); `ttft` the subjects whose time to first streamed event is measured.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { URL, fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freePort, probe, startProcess, stopProcess, waitForPort } from './processes.mjs';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PORTKEY_DIR = path.join(ROOT, 'node_modules/@portkey-ai/gateway');

/** The one request every subject serves: an OpenAI-style, non-streaming chat completion. */
export const REQUEST = {
  path: '/v1/chat/completions',
  body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 }),
  headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-not-a-real-key' },
};

/** The same call, streamed: for the time to first token of the subjects marked `ttft`. */
export const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16, stream: true });

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
    ttft: true,
    what: 'the load generator straight to the upstream (the baseline)',
    async start(ctx) {
      return { port: ctx.upstreamPort, proc: null, headers: {} };
    },
  },
  {
    name: 'nginx',
    ttft: true,
    what:
      "Debian's nginx as a plain reverse proxy, in the foreground from its own prefix in a temporary directory: " +
      '`worker_processes 1`, `access_log off`, `upstream { keepalive 64; }`, `proxy_http_version 1.1`, ' +
      '`proxy_set_header Connection ""`, and `keepalive_requests` raised so that it does not close connections after 1,000 requests ' +
      "(the upstream's event streams say `X-Accel-Buffering: no`, so nginx passes their events on as they come)",
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
    // Its first-token time is what Node.js itself adds (node:http and undici, as Keygate's data plane runs on).
    ttft: true,
    what: '`bench/minimal-proxy.mjs`, a few dozen lines: node:http in front of an undici keep-alive pool of 64 connections (what Node.js itself allows)',
    async start(ctx) {
      const port = await freePort();
      const script = path.join(ROOT, 'bench/minimal-proxy.mjs');
      const env = { PORT: String(port), UPSTREAM: `http://127.0.0.1:${ctx.upstreamPort}` };
      const proc = startProcess('minimal-proxy', process.execPath, [...(ctx.nodeArgs ?? []), script], { cpu: ctx.proxyCpu, env });
      return { port, proc: await started(proc, port), headers: {} };
    },
  },
  {
    name: 'socket-forwarder',
    // A reference, not a proxy: measured only when named (BENCH_SUBJECTS, COMPARE). Its first-token time is what
    // Node.js adds with sockets alone.
    reference: true,
    ttft: true,
    what: "`bench/socket-forwarder.mjs`: a request's bytes whole to a pooled upstream socket and the answer's bytes back as they come, framed by Content-Length or chunks, with no HTTP stack (what node:http and undici cost)",
    async start(ctx) {
      const port = await freePort();
      const script = path.join(ROOT, 'bench/socket-forwarder.mjs');
      const env = { PORT: String(port), UPSTREAM_PORT: String(ctx.upstreamPort) };
      const proc = startProcess('socket-forwarder', process.execPath, [...(ctx.nodeArgs ?? []), script], { cpu: ctx.proxyCpu, env });
      return { port, proc: await started(proc, port), headers: {} };
    },
  },
  ...['buffered-proxy', 'json-proxy'].map((name) => ({
    name,
    // References, not proxies: measured only when named (BENCH_SUBJECTS, COMPARE); non-streamed calls only.
    reference: true,
    what:
      name === 'json-proxy'
        ? "`bench/json-proxy.mjs`: the least a Node.js AI gateway does on Keygate's stack (node:http, undici's dispatch(), bodies read whole): the client's JSON parsed, its model and `stream` set and written out again, the answer parsed for its usage and a cost sent in a header, with none of Keygate's credentials, policy, budgets or records"
        : '`bench/json-proxy.mjs` with `JSON_PROXY_PASS=1`: the same stack passing the bytes both ways, bodies read whole (what the JSON work alone costs, beside json-proxy)',
    async start(ctx) {
      const port = await freePort();
      const script = path.join(ROOT, 'bench/json-proxy.mjs');
      const env = { PORT: String(port), UPSTREAM: `http://127.0.0.1:${ctx.upstreamPort}`, JSON_PROXY_PASS: name === 'json-proxy' ? '0' : '1' };
      // Node run with the options the `keygate` command gives it, when this tree is built: the same runtime as Keygate's.
      const cli = path.join(ROOT, 'dist/cli/main.js');
      const options = existsSync(cli) ? shebangNodeOptions(cli) : [];
      const proc = startProcess(name, process.execPath, [...options, ...(ctx.nodeArgs ?? []), script], { cpu: ctx.proxyCpu, env });
      return { port, proc: await started(proc, port), headers: {} };
    },
  })),
  {
    name: 'portkey',
    ttft: true,
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
    // Its time to first token is that of a plain proxy of the same stream: what the AI route adds beyond that is its own.
    ttft: true,
    what:
      'Keygate, run as the `keygate` command runs it (`node --max-semi-space-size=4 --liftoff-only --no-memory-reducer dist/cli/main.js start --config FILE`, the options read from the first line of dist/cli/main.js) with one service and one catch-all route in the YAML file, ' +
      '`KEYGATE_LOG_LEVEL=warn`, `KEYGATE_WORKERS=1`, a fresh data directory and no other `KEYGATE_*` variable',
    async start(ctx) {
      const node = await startKeygate(ctx, 'keygate', plainConfig(ctx.upstreamPort), { admin: false });
      return { port: node.port, proc: node.proc, headers: {} };
    },
  },
  ...['ES256', 'RS256'].map((alg) => ({
    name: `keygate-jwt-${alg.toLowerCase()}`,
    group: 'auth',
    alg,
    what:
      `Keygate run like *keygate* plus \`KEYGATE_SIGNING_ALG=${alg}\` and \`KEYGATE_ADMIN_TOKEN\`, its catch-all route with ` +
      '`auth: { methods: [gateway-token], audiences: [keygate] }` and `limits: [{ per: app, requests: 100000000, window: 1s }]` ' +
      '(counted, never reached); a team, an app, a client secret and a subscription made with the admin API, and every ' +
      `request carrying \`Authorization: Bearer\` an ${alg} access token from \`POST /oauth/token\` (client_credentials, Basic)`,
    async start(ctx) {
      const node = await startKeygate(ctx, `keygate-jwt-${alg.toLowerCase()}`, jwtConfig(ctx.upstreamPort), { env: { KEYGATE_SIGNING_ALG: alg } });
      return node.setUp(async () => {
        await node.admin('PUT', '/teams/bench', { name: 'bench' });
        await node.admin('PUT', '/apps/bench-app', { name: 'bench-app', team: 'bench' });
        const { secret } = await node.admin('POST', '/apps/bench-app/client-secrets', { label: 'bench' });
        await node.admin('POST', '/apps/bench-app/subscriptions', { service: 'upstream' });
        const token = await clientCredentialsToken(node.port, 'bench-app', secret);
        const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
        if (header.alg !== alg) throw new SubjectUnavailable(`the token endpoint signed with ${header.alg}, not ${alg}`);
        return { authorization: `Bearer ${token}` };
      });
    },
  })),
  {
    name: 'keygate-ai',
    group: 'ai',
    ttft: true,
    what:
      "Keygate's AI gateway, run like *keygate* plus `KEYGATE_ADMIN_TOKEN`, with `ai: { providers: [{ name: up, type: openai, baseUrl: http://127.0.0.1:UPSTREAM }] }`, " +
      'one route `paths: ["/v1/*"]`, `ai: {}`, `auth: { methods: [api-key] }`; an app with `budget: { dailyUsd: 1000000 }` and an API key, ' +
      'a provider key added with `POST /ai/providers/up/keys`; requests carry `Authorization: Bearer kg_key_…`. Usage and cost are recorded for every call',
    async start(ctx) {
      const node = await startKeygate(ctx, 'keygate-ai', aiConfig(ctx.upstreamPort));
      return node.setUp(async () => {
        await node.admin('PUT', '/teams/bench', { name: 'bench' });
        await node.admin('PUT', '/apps/bench-app', { name: 'bench-app', team: 'bench', budget: { dailyUsd: 1_000_000 } });
        const { secret } = await node.admin('POST', '/apps/bench-app/api-keys', { label: 'bench' });
        await node.admin('POST', '/ai/providers/up/keys', { secret: 'sk-bench-provider-key', label: 'bench' });
        return { authorization: `Bearer ${secret}` };
      });
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

const ADMIN_TOKEN = `kg_admin_bench_${randomBytes(24).toString('base64url')}`;

/**
 * Starts Keygate from dist/ with one worker, a fresh data directory and `config`, on the proxy's CPU. Returns its
 * ports and process, admin(method, path, body) for its admin API, and setUp(steps), which runs the admin steps,
 * waits until the proxy answers the bench request with the headers they return, and stops the node on failure.
 */
/** The node options in the `keygate` command's first line (`#!/usr/bin/env -S node …`): Keygate runs as users run it. */
function shebangNodeOptions(cli) {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0];
  const match = /^#!.*?\bnode((?:\s+--\S+)*)\s*$/.exec(first);
  return match ? match[1].trim().split(/\s+/).filter(Boolean) : [];
}

async function startKeygate(ctx, name, config, { env: extraEnv = {}, admin: withAdmin = true } = {}) {
  // ctx.root: another build of Keygate to run (bench/compare.mjs), this tree's by default.
  const root = ctx.root ?? ROOT;
  const cli = path.join(root, 'dist/cli/main.js');
  if (!existsSync(cli)) throw new SubjectUnavailable(`${cli} not found: run npm run build first`);
  const dir = path.join(ctx.tmp, ctx.label ?? name);
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const file = path.join(dir, 'keygate.yaml');
  writeFileSync(file, config);
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
    ...(withAdmin ? { KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN } : {}),
    ...extraEnv,
  };
  // ctx.nodeArgs: options for node itself (bench/profile.mjs passes --cpu-prof).
  const proc = startProcess(name, process.execPath, [...shebangNodeOptions(cli), ...(ctx.nodeArgs ?? []), cli, 'start', '--config', file], { cpu: ctx.proxyCpu, env, cwd: root });
  await started(proc, port);
  const adminProblem = await waitForPort(adminPort, proc);
  if (adminProblem) {
    await stopProcess(proc);
    throw new SubjectUnavailable(`admin port: ${adminProblem}`);
  }
  const admin = (method, urlPath, body) => adminCall(`http://127.0.0.1:${adminPort}`, method, urlPath, body);
  async function setUp(steps) {
    try {
      const headers = await steps();
      await untilServed(port, headers);
      return { port, proc, headers };
    } catch (error) {
      await stopProcess(proc);
      if (error instanceof SubjectUnavailable) throw error;
      throw new SubjectUnavailable(`setting up ${name} failed: ${error.message}`);
    }
  }
  return { port, adminPort, proc, admin, setUp };
}

async function adminCall(base, method, urlPath, body) {
  const res = await request(`${base}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new SubjectUnavailable(`admin API ${method} ${urlPath} answered HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

/** An access token from the node's token endpoint: client_credentials, client_secret_basic (RFC 6749 §2.3.1). */
async function clientCredentialsToken(port, app, secret) {
  const basic = Buffer.from(`${encodeURIComponent(app)}:${encodeURIComponent(secret)}`).toString('base64');
  const res = await request(`http://127.0.0.1:${port}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new SubjectUnavailable(`POST /oauth/token answered HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
  return JSON.parse(text).access_token;
}

/** Admin changes reach the serving snapshot at once on this node; wait (up to 5 s) until the bench request passes. */
async function untilServed(port, headers) {
  const deadline = Date.now() + 5000;
  let last;
  while (Date.now() < deadline) {
    last = await probe(`http://127.0.0.1:${port}${REQUEST.path}`, { method: 'POST', headers: { ...REQUEST.headers, ...headers }, body: REQUEST.body });
    if (last.status === 200) return;
    await sleep(100);
  }
  throw new SubjectUnavailable(`the bench request still answers HTTP ${last?.status}: ${(last?.error ?? last?.text ?? '').replace(/\s+/g, ' ').slice(0, 200)}`);
}

const SERVICE = (upstreamPort) => `services:
  - name: upstream
    targets:
      - url: http://127.0.0.1:${upstreamPort}
`;

function plainConfig(upstreamPort) {
  return `version: 1
${SERVICE(upstreamPort)}routes:
  - name: all
    service: upstream
    paths: ["/*"]
`;
}

function jwtConfig(upstreamPort) {
  return `version: 1
${SERVICE(upstreamPort)}routes:
  - name: all
    service: upstream
    paths: ["/*"]
    auth:
      methods: [gateway-token]
      audiences: [keygate]
    limits:
      - { per: app, requests: 100000000, window: 1s }
`;
}

function aiConfig(upstreamPort) {
  return `version: 1
ai:
  providers:
    - name: up
      type: openai
      baseUrl: http://127.0.0.1:${upstreamPort}
routes:
  - name: ai
    paths: ["/v1/*"]
    ai: {}
    auth:
      methods: [api-key]
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
