import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatRequest } from '../ai/chat-types.js';
import { PROVIDER_ADAPTERS } from '../ai/providers/index.js';
import { KeygateError } from '../errors.js';
import { configToYaml, parseConfigText, validateConfig, type ConfigFile } from './config-file.js';

const api = { name: 'api', targets: [{ url: 'http://127.0.0.1:9001' }] };
const route = { name: 'users', service: 'api', paths: ['/users/*'] };

/** The invalid_config message a value is refused with. */
function refusal(value: unknown): string {
  try {
    validateConfig(value);
  } catch (error) {
    expect(error).toBeInstanceOf(KeygateError);
    expect((error as KeygateError).code).toBe('invalid_config');
    return (error as KeygateError).message;
  }
  throw new Error('the config was accepted');
}

describe('validateConfig', () => {
  it('accepts a full config and returns it unchanged', () => {
    const config = {
      version: 1,
      services: [
        {
          name: 'api',
          targets: [{ url: 'http://127.0.0.1:9001', weight: 3 }, { url: 'https://10.0.0.2:8443/' }],
          balancing: 'least-connections',
          healthCheck: { active: { path: '/health', interval: '200ms', timeout: '1s', healthyThreshold: 1, unhealthyThreshold: 2, expectStatus: [200, 204] }, passive: { failures: 3, cooldown: '5s' } },
          retries: { attempts: 1, onStatus: [503], budget: 0.1 },
          timeouts: { connect: '250ms', idle: '30s', total: '1m' },
        },
      ],
      routes: [{ ...route, hosts: ['api.example.com', '*.example.org:8443'], methods: ['GET', 'POST'], headers: { 'x-channel': 'beta' }, stripPrefix: true, preserveHost: true, maxBodySize: '10mb' }],
    };
    const copy = structuredClone(config);
    expect(validateConfig(config)).toEqual(copy);
  });

  it('accepts a config with no services and no routes', () => {
    expect(validateConfig({ version: 1 })).toEqual({ version: 1 });
  });

  it('names a route whose service does not exist by its index', () => {
    expect(refusal({ version: 1, services: [api], routes: [route, { ...route, name: 'orders', service: 'billing' }] })).toBe('routes[1].service: no service is named "billing"');
  });

  it('names an unknown member by its full path', () => {
    expect(refusal({ version: 1, services: [api], routes: [{ ...route, colour: 'blue' }] })).toMatch(/^routes\[0\]\.colour: is not a known member/);
    expect(refusal({ version: 1, services: [{ ...api, targets: [{ url: 'http://127.0.0.1:9001', wieght: 2 }] }] })).toMatch(/^services\[0\]\.targets\[0\]\.wieght: is not a known member/);
    expect(refusal({ version: 1, servics: [] })).toMatch(/^servics: is not a known member/);
  });

  it('lists the allowed values of a field that takes one of a few', () => {
    expect(refusal({ version: 1, services: [{ ...api, balancing: 'random' }] })).toBe('services[0].balancing: must be one of "round-robin", "least-connections"');
    expect(refusal({ version: 1, services: [api], routes: [{ ...route, methods: ['GET', 'FETCH'] }] })).toMatch(/^routes\[0\]\.methods\[1\]: must be one of "GET", "HEAD", "POST"/);
    expect(refusal({ version: 2 })).toBe('version: must be 1');
  });

  it('lists the allowed values of an AI field that takes one of a list, however long the list', () => {
    const types = [...PROVIDER_ADAPTERS.keys()].map((type) => `"${type}"`).join(', ');
    expect(refusal({ version: 1, ai: { providers: [{ name: 'p', type: 'opanai' }] } })).toBe(`ai.providers[0].type: must be one of ${types}`);
    const model = { id: 'm', provider: 'p', kind: 'chat', contextWindow: 1000, maxOutputTokens: 100, inputPerMillion: 1, outputPerMillion: 2, cachedInputPerMillion: null, capabilities: ['chat'] };
    expect(refusal({ version: 1, ai: { providers: [], models: [{ ...model, kind: 'chatt' }] } })).toBe('ai.models[0].kind: must be one of "chat", "embedding"');
    expect(refusal({ version: 1, ai: { providers: [], models: [{ ...model, capabilities: ['chat', 'flying'] }] } })).toBe(
      'ai.models[0].capabilities[1]: must be one of "chat", "tools", "vision", "json_schema", "embeddings", "streaming", "reasoning", "adaptive_thinking"',
    );
  });

  it('names a missing required field', () => {
    expect(refusal({ version: 1, services: [api], routes: [{ name: 'users', service: 'api' }] })).toBe('routes[0]: must have required properties paths');
  });

  it('names a duration, a target URL, a weight and a name that do not have the right form', () => {
    expect(refusal({ version: 1, services: [{ ...api, timeouts: { idle: '5 seconds' } }] })).toMatch(/^services\[0\]\.timeouts\.idle: must match pattern/);
    expect(refusal({ version: 1, services: [{ name: 'api', targets: [{ url: 'http://127.0.0.1:9001/v1' }] }] })).toMatch(/^services\[0\]\.targets\[0\]\.url: must match pattern/);
    expect(refusal({ version: 1, services: [{ name: 'api', targets: [{ url: 'http://127.0.0.1:9001', weight: 1.5 }] }] })).toBe('services[0].targets[0].weight: must be integer');
    expect(refusal({ version: 1, services: [{ ...api, name: 'API' }] })).toMatch(/^services\[0\]\.name: must match pattern/);
  });

  it.each([
    ['a port over 65535', 'http://127.0.0.1:99999', 'is not a valid URL'],
    ['a space in the host', 'https://exa mple.com', 'is not a valid URL'],
    ['a user and password', 'https://user:s3cr3t@example.com', 'must not hold a user or password'],
    ['a query', 'https://example.com/v1beta?key=abc', 'must not hold a query or a fragment'],
    ['a fragment', 'https://example.com/#x', 'must not hold a query or a fragment'],
  ])('refuses an AI provider base URL with %s, quoting no credential', (_what, baseUrl, says) => {
    const message = refusal({ version: 1, ai: { providers: [{ name: 'p', type: 'openai-compatible', baseUrl }] } });
    expect(message).toMatch(new RegExp(`^ai\\.providers\\[0\\]\\.baseUrl: .*${says}`));
    expect(message).not.toContain('s3cr3t');
    expect(message).not.toContain('key=abc');
  });

  it('refuses an alias drained of every target, with no fallback, and takes one whose fallback answers', () => {
    const ai = (alias: Record<string, unknown>) => ({ version: 1, ai: { providers: [{ name: 'p', type: 'openai' }], aliases: [{ name: 'chat', ...alias }] } });
    expect(refusal(ai({ targets: [{ provider: 'p', model: 'a', weight: 0 }] }))).toMatch(/^ai\.aliases\[0\]: "chat" has no target or fallback of a weight above 0/);
    expect(validateConfig(ai({ targets: [{ provider: 'p', model: 'a', weight: 0 }], fallbacks: [{ provider: 'p', model: 'b' }] }))).toBeDefined();
  });

  it('refuses an AI provider header value no HTTP header may hold', () => {
    expect(refusal({ version: 1, ai: { providers: [{ name: 'p', type: 'openai-compatible', baseUrl: 'https://example.com', headers: { 'x-org': 'a\nb' } }] } })).toMatch(/^ai\.providers\[0\]\.headers\.x-org: holds a character no HTTP header may/);
    expect(validateConfig({ version: 1, ai: { providers: [{ name: 'p', type: 'openai-compatible', baseUrl: 'https://example.com/v1/', headers: { 'x-org': 'café\ttab' } }] } })).toBeDefined();
  });

  it('takes AI provider header names in any case, and gives them back in lower case, as they are stored and sent', () => {
    const config = (headers: Record<string, string>) => ({ version: 1, ai: { providers: [{ name: 'p', type: 'openai', headers }] } });
    expect(validateConfig(config({ 'OpenAI-Organization': 'org-acme', 'X-API-Key': 'k', 'x-trace': 'on' }))).toEqual(config({ 'openai-organization': 'org-acme', 'x-api-key': 'k', 'x-trace': 'on' }));
  });

  it('refuses two AI provider header names that differ only in case, naming both', () => {
    expect(refusal({ version: 1, ai: { providers: [{ name: 'p', type: 'anthropic', headers: { 'x-api-key': 'a', 'X-API-KEY': 'b' } }] } })).toBe(
      'ai.providers[0].headers: "x-api-key" and "X-API-KEY" name the same header (header names are case-insensitive); keep one',
    );
  });

  it('refuses an AI provider header name no HTTP header may have, saying what one is', () => {
    for (const name of ['x org', 'x:org', 'é']) {
      expect(refusal({ version: 1, ai: { providers: [{ name: 'p', type: 'openai', headers: { [name]: 'v' } }] } }), name).toBe(
        `ai.providers[0].headers.${name}: is not a header name; a header name is letters, digits and !#$%&'*+-.^_\`|~ (an HTTP token, RFC 9110 §5.6.2)`,
      );
    }
  });

  it('refuses a health-check interval or timeout of 0, which would probe without pause or wait forever', () => {
    const check = (active: Record<string, string>) => ({ version: 1, services: [{ ...api, healthCheck: { active: { path: '/health', ...active } } }] });
    expect(refusal(check({ interval: '0s' }))).toMatch(/^services\[0\]\.healthCheck\.active\.interval: must match pattern/);
    expect(refusal(check({ timeout: '0ms' }))).toMatch(/^services\[0\]\.healthCheck\.active\.timeout: must match pattern/);
    expect(validateConfig(check({ interval: '10s', timeout: '500ms' }))).toBeDefined();
  });

  it('refuses a service with no targets', () => {
    expect(refusal({ version: 1, services: [{ name: 'api', targets: [] }] })).toMatch(/^services\[0\]\.targets: /);
  });

  it('refuses two services with one name, naming both', () => {
    expect(refusal({ version: 1, services: [api, api] })).toBe('services[1].name: "api" is already used by services[0]');
  });

  it('refuses two routes with one name', () => {
    expect(refusal({ version: 1, services: [api], routes: [route, route] })).toMatch(/^routes\[1\]\.name: "users" is already used/);
  });

  it('refuses a target listed twice in one service, however its URL is spelled', () => {
    expect(refusal({ version: 1, services: [{ name: 'api', targets: [{ url: 'http://127.0.0.1:9001' }, { url: 'http://127.0.0.1:9001/' }] }] })).toBe(
      'services[0].targets[1].url: http://127.0.0.1:9001 is listed twice',
    );
  });

  it('names a path pattern that does not compile', () => {
    expect(refusal({ version: 1, services: [api], routes: [{ ...route, paths: ['/ok', '/files/*/meta'] }] })).toBe('routes[0].paths[1]: "*" must be the last segment of /files/*/meta');
    expect(refusal({ version: 1, services: [api], routes: [{ ...route, paths: ['/users/:user-id'] }] })).toMatch(/^routes\[0\]\.paths\[0\]: bad parameter name ":user-id"/);
  });

  it("takes reasoningBack only on the types whose requests it changes, and refuses it where it would do nothing", () => {
    const history: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello', reasoning_content: 'A greeting.' } as ChatMessage, { role: 'user', content: 'Bye' }] };
    for (const [type, adapter] of PROVIDER_ADAPTERS) {
      const provider = { name: 'p', type, baseUrl: 'http://127.0.0.1:1', region: 'us-east-1', reasoningBack: true };
      const sent = adapter.chatCall(history, { provider, credential: { id: 'k', secret: 'AKID:secret' }, model: 'some-model', stream: false, now: 0 }).body ?? '';
      const config = { version: 1, ai: { providers: [provider] } };
      if (sent.includes('A greeting.')) expect(validateConfig(config), type).toEqual(config);
      else expect(refusal(config), type).toBe(`ai.providers[0].reasoningBack: only providers of type openai, openai-compatible, azure-openai can be sent the history's reasoning_content; remove it from this ${type} provider`);
    }
  });

  it('takes a retention for stored responses, and refuses one of 0 or of no duration', () => {
    const config = (retention: string) => ({ version: 1, ai: { providers: [], responses: { retention } } });
    expect(validateConfig(config('7d'))).toEqual(config('7d'));
    expect(refusal(config('0d'))).toBe('ai.responses.retention: must be longer than 0 (a stored response must outlive its answer), got "0d"');
    expect(refusal(config('a month'))).toMatch(/^ai\.responses\.retention: /);
  });

  it('refuses something that is not an object', () => {
    expect(refusal('version: 1')).toBe('(root): must be object');
  });
});

describe('parseConfigText', () => {
  it('reads YAML and JSON alike', () => {
    const yaml = 'version: 1\nservices:\n  - name: api\n    targets:\n      - url: http://127.0.0.1:9001\n';
    expect(parseConfigText(yaml, 'keygate.yaml')).toEqual({ version: 1, services: [api] });
    expect(parseConfigText(JSON.stringify({ version: 1, services: [api] }), 'keygate.json')).toEqual({ version: 1, services: [api] });
  });

  it('names the source and the first line of the YAML error', () => {
    expect(() => parseConfigText('version: 1\nservices: [\n', 'keygate.yaml')).toThrow(/^keygate\.yaml is not valid YAML: [^\n]+[^:\n]$/);
  });

  it('reads back what configToYaml writes', () => {
    const config: ConfigFile = { version: 1, services: [{ ...api, retries: { attempts: 0 } }], routes: [{ ...route, rewrite: '/v2/:id' }] };
    expect(parseConfigText(configToYaml(config), 'export.yaml')).toEqual(config);
  });
});
