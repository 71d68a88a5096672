import { createHash } from 'node:crypto';
import type { CacheWrites } from './catalog/index.js';
import { CACHE_CONTROL, CACHE_MARKED, type AnthropicBlock, type ChatRequest, type EmbeddingsRequest, type StopSequence } from './chat-types.js';
import type { IdSpan } from './completion-id.js';

/** A completion as the cache keeps it: its JSON in OpenAI's shape, and what that JSON leaves out. */
export interface CachedCompletion {
  body: string;
  /** Where the completion's id is in `body` (idSpanOf): each answer from the cache is given one of its own there. */
  idAt?: IdSpan;
  /** The first choice's stop sequence (a symbol, which JSON.stringify skips). */
  stopped: StopSequence;
  /** The usage's prompt-cache writes (a symbol too), which a Messages API client is told of. */
  writes?: CacheWrites;
  /** The first choice's Anthropic blocks, thinking included (a symbol too), which a Messages API client is answered with. */
  blocks?: AnthropicBlock[];
  /**
   * The provider that answered is sent its reasoning back (its `reasoningBack`, sendsReasoningBack): a Messages API client that
   * asked for no thinking is handed it all the same where that host needs it (anthropic-ingress HiddenReasoning).
   */
  reasoningBack?: true;
  /** The usage in `body` is the gateway's count, not the provider's: every answer from it says so (x-keygate-usage-estimated). */
  estimated?: true;
}

interface Entry extends CachedCompletion {
  storedAt: number;
  /** The TTL in force when it was stored: a longer one later does not bring back what it let expire. */
  ttl: number;
}

/** What one process's cache holds at most, counted by its answers' JSON text: beyond, the oldest entries go. */
export const CACHE_MAX_CHARS = 64 * 1024 * 1024;
/** The largest answer the cache keeps (a sixteenth of the whole): a batch of embeddings can be megabytes. */
export const CACHE_MAX_ENTRY_CHARS = CACHE_MAX_CHARS / 16;

/**
 * The optional exact-match cache: a non-streamed completion (or embeddings answer) is served again for the same
 * model and the same request as JSON writes it, its cache breakpoints included, until a TTL passes since it was
 * stored: the shorter of the one in force then and the one in force now, so that a TTL shortened by the config
 * applies to the answers already kept, and one made longer brings back none that had expired. Bounded by entries and
 * by the characters of their answers: the oldest entry goes first.
 */
export class ResponseCache {
  readonly #entries = new Map<string, Entry>();
  #chars = 0;
  constructor(private maxEntries: number) {}

  /** The characters of the answers held (their JSON text), which CACHE_MAX_CHARS bounds. */
  get chars(): number {
    return this.#chars;
  }

  /**
   * The key of one caller's request: answers are never shared between callers, or a cache hit would tell one
   * what another asked. `space` says whose: see `cacheSpace` in the AI handler. `beyondJson` is what changes the
   * answer that JSON leaves out of the request (extended thinking, under symbols); cache breakpoints, symbols too,
   * are written into the request's JSON for the key when it has any (CACHE_MARKED).
   */
  static keyOf(space: string, model: string, request: ChatRequest | EmbeddingsRequest, beyondJson = ''): string {
    // `stream: false` asks what its absence asks (only answers to requests that are not streamed are cached): the
    // openai SDK leaves it out, other clients send it, and both should meet the same entries.
    const keyed = 'stream' in request && request.stream === false ? withoutStream(request) : request;
    const hash = createHash('sha256').update(space).update('\n').update(model).update('\n').update(JSON.stringify(keyed, (request as ChatRequest)[CACHE_MARKED] ? withBreakpoints : undefined));
    if (beyondJson !== '') hash.update('\n').update(beyondJson);
    return hash.digest('base64url');
  }

  /** Forgets every answer (a provider's config changed: another host may answer its names now). */
  clear(): void {
    this.#entries.clear();
    this.#chars = 0;
  }

  /** Follows the config's `ai.cache.maxEntries`; shrinking drops the oldest entries. */
  resize(maxEntries: number): void {
    this.maxEntries = Math.max(1, maxEntries);
    while (this.#entries.size > this.maxEntries) this.#dropOldest();
  }

  /** The answer kept for `key`, unless its TTL or `ttl` (ms, the config's now), the shorter, has passed since it was stored. */
  get(key: string, now: number, ttl: number): CachedCompletion | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (now >= entry.storedAt + Math.min(entry.ttl, ttl)) {
      this.#drop(key);
      return undefined;
    }
    return entry;
  }

  /** Keeps an answer stored at `now` under `ttl` (ms); one larger than CACHE_MAX_ENTRY_CHARS is not kept. */
  set(key: string, { body, idAt, stopped, writes, blocks, reasoningBack, estimated }: CachedCompletion, now: number, ttl: number): void {
    this.#drop(key);
    if (body.length > CACHE_MAX_ENTRY_CHARS) return;
    while (this.#entries.size > 0 && (this.#entries.size >= this.maxEntries || this.#chars + body.length > CACHE_MAX_CHARS)) this.#dropOldest();
    this.#entries.set(key, { body, idAt, stopped, writes, blocks, reasoningBack, estimated, storedAt: now, ttl });
    this.#chars += body.length;
  }

  #drop(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#chars -= entry.body.length;
  }

  #dropOldest(): void {
    const oldest = this.#entries.keys().next().value;
    if (oldest !== undefined) this.#drop(oldest);
  }
}

/**
 * A JSON.stringify replacer that writes each breakpoint (CACHE_CONTROL, a symbol JSON leaves out) as a
 * `cache_control` member of what it marks. Breakpoints change the answer's usage (cache reads and writes), which the
 * cache keeps, so requests that differ in them are not one request; only marked requests (CACHE_MARKED) pay for the
 * replacer. No plain `cache_control` member is left where breakpoints are read, so none is mistaken for one.
 */
function withBreakpoints(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !(CACHE_CONTROL in value)) return value;
  return { ...value, cache_control: (value as { [CACHE_CONTROL]: unknown })[CACHE_CONTROL] };
}

/** The request without its `stream` member; its symbols (CACHE_MARKED among them) are copied with the rest. */
function withoutStream(request: ChatRequest): ChatRequest {
  const { stream: _stream, ...rest } = request;
  return rest as ChatRequest;
}
