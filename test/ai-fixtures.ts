import type Anthropic from '@anthropic-ai/sdk';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import OpenAI from 'openai';
import type { Response, ResponseCustomToolCall } from 'openai/resources/responses/responses';
import pino, { type Logger } from 'pino';
import type { Clock } from '../src/clock.js';
import { expect } from 'vitest';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { startAnthropicEmulator, type AnthropicEmulator } from './emulators/anthropic.js';
import { startGeminiEmulator, type GeminiEmulator } from './emulators/gemini.js';
import { startOpenAIEmulator, type OpenAIEmulator, type OpenAIEmulatorOptions } from './emulators/openai.js';
import { tempDataDir } from './keygate-process.js';

export const ADMIN_TOKEN = 't';

/** The keys the emulators accept by default. */
export const PROVIDER_SECRETS = { openai: 'test-openai-key', anthropic: 'test-anthropic-key', gemini: 'test-gemini-key' } as const;

/** An answer of the proxy: status, headers, the raw text and the parsed JSON body. */
export interface AiResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

/** OpenAI's error body (https://platform.openai.com/docs/guides/error-codes). */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface UsageRow {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costUsd: number;
  estimatedCalls: number;
  cacheHits: number;
  [group: string]: unknown;
}

export interface AiAppSetup {
  name: string;
  team: string;
  models?: string[];
  budget?: { dailyUsd?: number; monthlyUsd?: number; tokensPerMinute?: number };
  teamBudget?: { dailyUsd?: number; monthlyUsd?: number };
}

interface AiTarget {
  provider: string;
  model: string;
  weight?: number;
}

/**
 * The config's `ai` section as the tests write it; the admin API validates it. (AiSection, the schema's static
 * type, reads `type` as never: typebox cannot type a union built from a mapped array.)
 */
export interface AiConfig {
  providers: Array<{ name: string; type: string; baseUrl?: string; catalog?: string; region?: string; pathPrefix?: string; headers?: Record<string, string>; reasoningBack?: boolean }>;
  aliases?: Array<{ name: string; targets: AiTarget[]; fallbacks?: AiTarget[] }>;
  cache?: { ttl: string; maxEntries?: number };
  timeout?: string;
  sendTimeout?: string;
  circuitBreaker?: { failures?: number; cooldown?: string };
  responses?: { retention?: string; store?: boolean };
}

/** The AI route every test uses: the unified API under /v1, for callers with an API key. */
export const AI_ROUTE = { name: 'ai', paths: ['/v1/*'], ai: {}, auth: { methods: ['api-key'] } };

/**
 * A Keygate node started in this process on ephemeral loopback ports, with the admin and proxy calls the AI
 * tests make through it: config, apps with their API keys, provider keys, usage.
 */
export class AiGateway {
  private constructor(
    readonly gateway: Gateway,
    private readonly dataDir: string,
  ) {}

  /**
   * `logger`: where the node logs (silent by default), for a test that reads its logs; `clock`: a test's own time;
   * `env`: more settings (KEYGATE_DATABASE_URL for another store than a SQLite file in the data folder).
   */
  static async start(options: { logger?: Logger; clock?: Clock; env?: Record<string, string> } = {}): Promise<AiGateway> {
    const dataDir = tempDataDir();
    const settings = loadSettings({ KEYGATE_DATA_DIR: dataDir, KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN, KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1', ...options.env });
    const gateway = await startGateway(settings, { logger: options.logger ?? pino({ level: 'silent' }), clock: options.clock, timers: false });
    return new AiGateway(gateway, dataDir);
  }

  /** The node's data folder: its store file among others. */
  get dataFolder(): string {
    return this.dataDir;
  }

  get proxyUrl(): string {
    return this.gateway.proxyUrl!;
  }

  /** An admin call that must answer `status`; otherwise the test fails with what the API said. */
  async admin<T = Record<string, unknown>>(status: number, method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.gateway.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    expect(response.status, `${method} ${path}: ${text}`).toBe(status);
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  /** An admin call whatever it answers: its status and parsed body. */
  async send(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${this.gateway.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  /** Replaces the config (PUT /config) with `ai` and the AI route (plus `route` members such as `ai.models`). */
  async configure(ai: AiConfig, route: Record<string, unknown> = {}): Promise<void> {
    await this.admin(200, 'PUT', '/config', { version: 1, routes: [{ ...AI_ROUTE, ...route }], ai });
  }

  /** Creates (or updates) the team and the app, and returns a new API key of the app. */
  async createApp(setup: AiAppSetup): Promise<string> {
    await this.admin(200, 'PUT', `/teams/${setup.team}`, { name: setup.team, ...(setup.teamBudget ? { budget: setup.teamBudget } : {}) });
    const { teamBudget: _teamBudget, ...app } = setup;
    await this.admin(200, 'PUT', `/apps/${setup.name}`, app);
    return (await this.admin<{ secret: string }>(201, 'POST', `/apps/${setup.name}/api-keys`, {})).secret;
  }

  /** Adds a key to a provider's pool (lower priority is tried first); returns its id. */
  async addProviderKey(provider: string, secret: string, priority = 0): Promise<string> {
    return (await this.admin<{ id: string }>(201, 'POST', `/ai/providers/${provider}/keys`, { secret, priority })).id;
  }

  /** Flushes the buffered usage records, then reads GET /ai/usage. */
  async usage(query: Record<string, string>): Promise<UsageRow[]> {
    await this.gateway.flushUsage();
    return (await this.admin<{ rows: UsageRow[] }>(200, 'GET', `/ai/usage?${new URLSearchParams(query).toString()}`)).rows;
  }

  /** The official OpenAI client pointed at the gateway; it retries nothing, so every test sees the first answer. */
  openai(apiKey: string): OpenAI {
    return new OpenAI({ baseURL: `${this.proxyUrl}/v1`, apiKey, maxRetries: 0 });
  }

  /** A raw call on the proxy port with a Bearer API key. */
  async call<T = Record<string, unknown>>(method: string, path: string, apiKey: string, body?: unknown): Promise<AiResult<T>> {
    const response = await fetch(`${this.proxyUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = {};
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      parsed = {};
    }
    return { status: response.status, headers: response.headers, text, body: parsed as T };
  }

  /** POST /v1/chat/completions with `body`. */
  chat<T = Record<string, unknown>>(apiKey: string, body: Record<string, unknown>): Promise<AiResult<T>> {
    return this.call<T>('POST', '/v1/chat/completions', apiKey, body);
  }

  /** Stops the node and removes its data folder. */
  async stop(): Promise<void> {
    await this.gateway.stop();
    rmSync(dirname(this.dataDir), { recursive: true, force: true });
  }
}

/** One emulator of each of the three provider APIs the tests route to. */
export interface ProviderEmulators {
  openai: OpenAIEmulator;
  anthropic: AnthropicEmulator;
  gemini: GeminiEmulator;
  stop(): Promise<void>;
}

export async function startProviderEmulators(openaiOptions: OpenAIEmulatorOptions = {}): Promise<ProviderEmulators> {
  const [openai, anthropic, gemini] = await Promise.all([startOpenAIEmulator(openaiOptions), startAnthropicEmulator(), startGeminiEmulator()]);
  return {
    openai,
    anthropic,
    gemini,
    stop: async () => {
      await Promise.all([openai.stop(), anthropic.stop(), gemini.stop()]);
    },
  };
}

/** Providers named after their types, one per emulator, each with the key its emulator accepts; `extra.providers` are added (without keys). */
export async function configureThreeProviders(gateway: AiGateway, emulators: ProviderEmulators, extra: Partial<AiConfig> = {}, route: Record<string, unknown> = {}): Promise<void> {
  await gateway.configure(
    {
      ...extra,
      providers: [
        { name: 'openai', type: 'openai', baseUrl: emulators.openai.url },
        { name: 'anthropic', type: 'anthropic', baseUrl: emulators.anthropic.url },
        { name: 'gemini', type: 'gemini', baseUrl: emulators.gemini.url },
        ...(extra.providers ?? []),
      ],
    },
    route,
  );
  for (const provider of ['openai', 'anthropic', 'gemini'] as const) await gateway.addProviderKey(provider, PROVIDER_SECRETS[provider]);
}

/** The aliases most tests route by: `smart` to Claude on Anthropic, `fast` to Gemini. */
export const SMART_AND_FAST = [
  { name: 'smart', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-6' }] },
  { name: 'fast', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
];

/** A tool definition as OpenAI takes it. */
export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
} as const;

/** The same tool as Anthropic's Messages API takes it. */
export const CLAUDE_TOOL = {
  name: 'get_weather',
  description: 'The current weather in a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

/** Extended thinking at Anthropic's least budget. */
export const CLAUDE_THINKING = { type: 'enabled' as const, budget_tokens: 1024 };

/**
 * What `model` answers, through the gateway, to a tool result whose assistant turn lost its thinking block (the
 * client sent the turn back without it): the error, or the answer if none came.
 */
export async function lostThinkingAnswer(claude: Anthropic, model: string): Promise<unknown> {
  const ask = { model, max_tokens: 2000, thinking: CLAUDE_THINKING, tools: [CLAUDE_TOOL] };
  const question = { role: 'user' as const, content: 'Use get_weather for Paris.' };
  const first = await claude.messages.create({ ...ask, messages: [question] });
  const use = first.content.find((block) => block.type === 'tool_use')!;
  return claude.messages
    .create({ ...ask, messages: [question, { role: 'assistant', content: first.content.filter((block) => block.type !== 'thinking') }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '21' }] }] })
    .catch((error: unknown) => error);
}

/** Every item of a stream (an SDK's events or chunks), once it has ended. */
export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

/** A Response's first custom tool call (`custom_tool_call` item). */
export const customCallOf = (response: Response): ResponseCustomToolCall => response.output.find((item): item is ResponseCustomToolCall => item.type === 'custom_tool_call')!;
