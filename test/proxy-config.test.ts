import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { runKeygate, startKeygate, tempDataDir, type RunningKeygate } from './keygate-process.js';
import { TestUpstream } from './upstream-server.js';

interface ErrorBody {
  error: { code: string; message: string };
}

describe('applying a config through the admin API', () => {
  let gateway: Gateway;
  let proxyUrl: string;
  let upstream: TestUpstream;
  const good = () => ({
    version: 1,
    services: [{ name: 'web', targets: [{ url: upstream.url }] }],
    routes: [{ name: 'web', service: 'web', paths: ['/web/*'], stripPrefix: true }],
  });

  beforeAll(async () => {
    upstream = await TestUpstream.start('web');
    const settings = loadSettings({ KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_ADMIN_TOKEN: 't', KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1', KEYGATE_LOG_LEVEL: 'silent' });
    gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: false });
    proxyUrl = gateway.proxyUrl!;
  });
  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  async function admin<T>(method: string, path: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: T }> {
    const response = await fetch(`${gateway.adminUrl}${path}`, { method, headers: { authorization: 'Bearer t', ...(body === undefined ? {} : { 'content-type': contentType }) }, body });
    return { status: response.status, body: (await response.json()) as T };
  }

  /** PUTs `config`, expects it refused, and proves the running config and the traffic did not change. */
  async function expectRefused(body: string, contentType = 'application/json'): Promise<string> {
    const before = await admin<unknown>('GET', '/config');
    const version = gateway.snapshot().version;
    const refused = await admin<ErrorBody>('PUT', '/config', body, contentType);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_config');
    expect(await admin<unknown>('GET', '/config')).toEqual(before);
    expect(gateway.snapshot().version).toBe(version);
    const traffic = await fetch(`${proxyUrl}/web/echo`);
    expect(traffic.status).toBe(200);
    expect(traffic.headers.get('x-upstream')).toBe('web');
    await traffic.arrayBuffer();
    return refused.body.error.message;
  }

  it('applies a whole config and routes by it at once', async () => {
    const applied = await admin<{ services: number; routes: number }>('PUT', '/config', JSON.stringify(good()));
    expect(applied).toMatchObject({ status: 200, body: { services: 1, routes: 1 } });
    expect((await admin<unknown>('GET', '/config')).body).toEqual(good());
    expect((await fetch(`${proxyUrl}/web/echo`)).status).toBe(200);
  });

  it('refuses a config whose route names a missing service, naming routes[N].service, and changes nothing', async () => {
    const bad = { ...good(), routes: [...good().routes, { name: 'orders', service: 'billing', paths: ['/orders'] }] };
    expect(await expectRefused(JSON.stringify(bad))).toBe('routes[1].service: no service is named "billing"');
  });

  it('refuses a config with an unknown member, naming its path, and changes nothing', async () => {
    const bad = { ...good(), services: [{ name: 'web', targets: [{ url: upstream.url, wieght: 2 }] }] };
    expect(await expectRefused(JSON.stringify(bad))).toMatch(/^services\[0\]\.targets\[0\]\.wieght: /);
  });

  it('refuses a YAML config the same way', async () => {
    const yaml = `version: 1\nservices:\n  - name: web\n    targets:\n      - url: ${upstream.url}\n    timeouts:\n      idle: soon\n`;
    expect(await expectRefused(yaml, 'application/yaml')).toMatch(/^services\[0\]\.timeouts\.idle: /);
  });

  it('refuses a config that is not YAML, saying so', async () => {
    expect(await expectRefused('version: 1\nservices: [\n', 'application/yaml')).toMatch(/^the request body is not valid YAML: /);
  });

  it.each(['http://api:99999', 'http://a b', 'http://[x'])('refuses a target URL the pattern lets through but no parser takes (%s) with 400', async (url) => {
    const bad = { ...good(), services: [{ name: 'web', targets: [{ url }] }] };
    for (const path of ['/config/validate', '/config']) {
      const refused = await admin<ErrorBody>(path === '/config' ? 'PUT' : 'POST', path, JSON.stringify(bad));
      expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_config', message: `services[0].targets[0].url: "${url}" is not a valid URL` } } });
    }
  });

  it('refuses a target URL with a user or password, which would be stored and never sent, without quoting them', async () => {
    for (const url of ['http://svc:hunter2-secret@127.0.0.1:9', 'http://svc:hunter2-secret@api:99999']) {
      const bad = { ...good(), services: [{ name: 'web', targets: [{ url }] }] };
      const refused = await admin<ErrorBody>('POST', '/config/validate', JSON.stringify(bad));
      expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_config' } } });
      expect(refused.body.error.message).toMatch(/^services\[0\]\.targets\[0\]\.url: /);
      expect(refused.body.error.message).not.toContain('hunter2');
    }
  });

  it.each(['timeout', 'sendTimeout'])('refuses an ai.%s longer than a timer can wait', async (name) => {
    const refused = await admin<ErrorBody>('POST', '/config/validate', JSON.stringify({ ...good(), ai: { providers: [], [name]: '25d' } }));
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_config', message: `ai.${name}: at most 24d (a timer cannot wait longer), got "25d"` } } });
    expect((await admin('POST', '/config/validate', JSON.stringify({ ...good(), ai: { providers: [], [name]: '24d' } }))).status).toBe(200);
  });

  it.each(['timeout', 'sendTimeout'])('refuses an ai.%s too long to be read as milliseconds, which was taken as the default', async (name) => {
    const refused = await admin<ErrorBody>('POST', '/config/validate', JSON.stringify({ ...good(), ai: { providers: [], [name]: '999999999999d' } }));
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_config', message: `ai.${name}: at most 24d (a timer cannot wait longer), got "999999999999d"` } } });
  });

  it('refuses an ai.cache.ttl too long to be read as milliseconds, which turned the cache off', async () => {
    const refused = await admin<ErrorBody>('POST', '/config/validate', JSON.stringify({ ...good(), ai: { providers: [], cache: { ttl: '999999999999d' } } }));
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_config', message: 'ai.cache.ttl: too long to be read as milliseconds, got "999999999999d"' } } });
    expect((await admin('POST', '/config/validate', JSON.stringify({ ...good(), ai: { providers: [], cache: { ttl: '36500d' } } }))).status).toBe(200);
  });

  it('refuses an ai.circuitBreaker.cooldown longer than the other durations may be', async () => {
    const refused = await admin<ErrorBody>('POST', '/config/validate', JSON.stringify({ ...good(), ai: { providers: [], circuitBreaker: { failures: 3, cooldown: '25d' } } }));
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_config', message: 'ai.circuitBreaker.cooldown: at most 24d (a timer cannot wait longer), got "25d"' } } });
    expect((await admin('POST', '/config/validate', JSON.stringify({ ...good(), ai: { providers: [], circuitBreaker: { failures: 0, cooldown: '1m' } } }))).status).toBe(200);
  });

  it.each(['total', 'send'])('refuses a service duration longer than a timer can wait (Node would fire it after 1 ms): timeouts.%s', async (timeout) => {
    const bad = { ...good(), services: [{ name: 'web', targets: [{ url: upstream.url }], timeouts: { [timeout]: '25d' } }] };
    const refused = await admin<ErrorBody>('POST', '/config/validate', JSON.stringify(bad));
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_config', message: `services[0].timeouts.${timeout}: at most 24d (a timer cannot wait longer), got "25d"` } } });
    const fine = { ...good(), services: [{ name: 'web', targets: [{ url: upstream.url }], timeouts: { total: '24d' }, healthCheck: { passive: { cooldown: '1d' } } }] };
    expect((await admin('POST', '/config/validate', JSON.stringify(fine))).status).toBe(200);
  });

  it('validates a config without applying it', async () => {
    const version = gateway.snapshot().version;
    const bad = { ...good(), routes: [{ name: 'web', service: 'nope', paths: ['/'] }] };
    const refused = await admin<ErrorBody>('POST', '/config/validate', JSON.stringify(bad));
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_config', message: 'routes[0].service: no service is named "nope"' } } });
    const valid = { ...good(), services: [...good().services, { name: 'other', targets: [{ url: upstream.url }] }] };
    expect(await admin('POST', '/config/validate', JSON.stringify(valid))).toEqual({ status: 200, body: { valid: true } });
    expect(gateway.snapshot().version).toBe(version);
  });
});

describe('validating a config whose credential headers read [redacted], as GET /config exports them', () => {
  let gateway: Gateway;
  /** A config whose one AI provider sends `x-api-key: <value>`, named `name`. */
  const withHeader = (name: string, value: string) => ({ version: 1, ai: { providers: [{ name, type: 'openai-compatible', baseUrl: 'http://127.0.0.1:9', headers: { 'x-api-key': value } }] } });

  beforeAll(async () => {
    const settings = loadSettings({ KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_ADMIN_TOKEN: 't', KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1', KEYGATE_LOG_LEVEL: 'silent' });
    gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: false });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  async function admin<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${gateway.adminUrl}${path}`, { method, headers: { authorization: 'Bearer t', ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as T };
  }

  it('refuses [redacted] on a fresh store, with the answer PUT /config gives, and stores nothing', async () => {
    const file = withHeader('main', '[redacted]');
    const version = gateway.snapshot().version;
    const validated = await admin<ErrorBody>('POST', '/config/validate', file);
    expect(validated).toMatchObject({ status: 400, body: { error: { code: 'invalid_config', message: expect.stringContaining('ai.providers[0].headers.x-api-key: "[redacted]" stands for the value stored for provider "main", and it has none') } } });
    expect(gateway.snapshot().version).toBe(version);
    expect(await admin<ErrorBody>('PUT', '/config', file)).toEqual(validated);
  });

  it('accepts an exported config back, and refuses [redacted] for a provider with no stored value, as PUT /config does', async () => {
    const secret = 'stored-header-secret-0123456789';
    expect((await admin('PUT', '/config', withHeader('main', secret))).status).toBe(200);
    const exported = (await admin<ReturnType<typeof withHeader>>('GET', '/config')).body;
    expect(exported.ai.providers[0]!.headers).toEqual({ 'x-api-key': '[redacted]' });
    const version = gateway.snapshot().version;
    expect(await admin('POST', '/config/validate', exported)).toEqual({ status: 200, body: { valid: true } });

    const renamed = { ...exported, ai: { providers: [{ ...exported.ai.providers[0]!, name: 'main-2' }] } };
    const validated = await admin<ErrorBody>('POST', '/config/validate', renamed);
    expect(validated).toMatchObject({ status: 400, body: { error: { code: 'invalid_config', message: expect.stringContaining('stands for the value stored for provider "main-2", and it has none') } } });
    expect(JSON.stringify(validated.body)).not.toContain(secret);
    expect(gateway.snapshot().version).toBe(version);
    expect(await admin<ErrorBody>('PUT', '/config', renamed)).toEqual(validated);
    expect(await admin('PUT', '/config', exported)).toMatchObject({ status: 200 });
  });
});

describe('the config file from the keygate command', () => {
  let upstream: TestUpstream;
  let node: RunningKeygate | undefined;
  let dir: string;

  beforeAll(async () => {
    upstream = await TestUpstream.start('web');
    dir = join(tempDataDir(), '..');
  });
  afterAll(async () => {
    await node?.stop();
    await upstream?.stop();
  });

  /** A config file in the form `keygate export` prints (the yaml library's default style). */
  const fileFor = (routePath: string, weight: number) =>
    [
      'version: 1',
      'services:',
      '  - name: web',
      '    targets:',
      `      - url: ${upstream.url}`,
      `        weight: ${weight}`,
      '    retries:',
      '      attempts: 1',
      '      onStatus:',
      '        - 502',
      '        - 503',
      'routes:',
      '  - name: web',
      '    service: web',
      '    paths:',
      `      - ${routePath}`,
      '    methods:',
      '      - GET',
      '    stripPrefix: true',
      '',
    ].join('\n');

  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('refuses to start with a bad config file: exit code 2 and one line naming the file and the field', async () => {
    const file = write('bad.yaml', `version: 1\nservices:\n  - name: web\n    targets:\n      - url: ${upstream.url}\nroutes:\n  - name: web\n    service: nope\n    paths: [/]\n`);
    const result = await runKeygate(['start', '--config', file], { KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`keygate: ${file}: routes[0].service: no service is named "nope"\n`);
  });

  it('names a file that is not YAML once, with the parser\'s words and where', async () => {
    const file = write('broken.yaml', 'version: 1\nservices:\n  - name: a\n    targets: [\n  - x\n');
    const result = await runKeygate(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^keygate: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid YAML: .* at line \\d+, column \\d+\n$`));
  });

  it('starts with a good config file, serves its routes, and exports the file back unchanged', async () => {
    const file = write('good.yaml', fileFor('/web/*', 2));
    node = await startKeygate({}, ['--config', file]);
    const response = await fetch(`${node.proxyUrl}/web/echo`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { url: string }).url).toBe('/echo');
    const exported = await runKeygate(['export'], { KEYGATE_DATA_DIR: node.dataDir, KEYGATE_ADMIN_URL: node.adminUrl });
    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe(fileFor('/web/*', 2));
  });

  it('applies a file with keygate apply, and keygate export prints exactly that file', async () => {
    const env = { KEYGATE_DATA_DIR: node!.dataDir, KEYGATE_ADMIN_URL: node!.adminUrl };
    const file = write('next.yaml', fileFor('/site/*', 5));
    const applied = await runKeygate(['apply', file], env);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(new RegExp(`^applied ${file}: 1 service\\(s\\), 1 route\\(s\\); snapshot version \\d+\\n$`));
    expect((await runKeygate(['export'], env)).stdout).toBe(fileFor('/site/*', 5));
    expect((await fetch(`${node!.proxyUrl}/site/echo`)).status).toBe(200);
    expect((await fetch(`${node!.proxyUrl}/web/echo`)).status).toBe(404);
  });

  it('refuses a bad file with keygate apply, exit code 2, and leaves the running config alone', async () => {
    const env = { KEYGATE_DATA_DIR: node!.dataDir, KEYGATE_ADMIN_URL: node!.adminUrl };
    const file = write('typo.yaml', fileFor('/other/*', 5).replace('    stripPrefix: true', '    stripPrefx: true'));
    const refused = await runKeygate(['apply', file], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`keygate: ${file}: routes[0].stripPrefx: is not a known member; check its spelling (GET /config/schema lists them)\n`);
    expect((await fetch(`${node!.proxyUrl}/other/echo`)).status).toBe(404);
    expect((await fetch(`${node!.proxyUrl}/site/echo`)).status).toBe(200);
  });

  it('refuses a file the node refuses with keygate apply as it does one it refuses itself: the file, the field, exit code 2', async () => {
    const env = { KEYGATE_DATA_DIR: node!.dataDir, KEYGATE_ADMIN_URL: node!.adminUrl };
    // Valid as a file; only the node knows that no value is stored for the `[redacted]` header.
    const ai = ['ai:', '  providers:', '    - name: vllm', '      type: openai-compatible', '      baseUrl: http://127.0.0.1:9', '      headers:', '        x-gw-token: "[redacted]"', ''].join('\n');
    const file = write('redacted.yaml', `${fileFor('/other/*', 5)}${ai}`);
    expect((await runKeygate(['validate', file])).code).toBe(0);
    const refused = await runKeygate(['apply', file], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`keygate: ${file}: ai.providers[0].headers.x-gw-token: "[redacted]" stands for the value stored for provider "vllm", and it has none; give the value\n`);
    expect((await fetch(`${node!.proxyUrl}/other/echo`)).status).toBe(404);
    expect((await fetch(`${node!.proxyUrl}/site/echo`)).status).toBe(200);
  });
});
