import type { AiSection } from './ai-schema.js';
import { KeygateError } from '../errors.js';

/** What a cut secret reads as. */
export const REDACTED = '[redacted]';

/**
 * Forms of at least this many characters are cut wherever they occur; shorter ones only where they stand alone
 * (no letter or digit on either side): a 7-character vLLM key is cut from "Bearer vllm-k1", a 2-character one
 * does not cut every word it happens to be part of.
 */
const ANYWHERE_FROM = 8;

interface Form {
  text: string;
  bytes: Buffer;
  /** Cut only where it stands alone (a short form). */
  whole: RegExp | undefined;
}

const isAlphanumeric = (code: number | undefined) => code !== undefined && ((code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122));

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64').replace(/=+$/, '');

/** Secrets of at least this many characters are also looked for inside longer base64 values (see inBase64). */
const INSIDE_BASE64_FROM = 12;

/**
 * The base64 characters that spell `part` wherever it sits in a longer encoded value (a JSON document or a
 * request dump in base64): one run for each of the three places a byte can take in a 3-byte group (RFC 4648 §4).
 * The characters that also hold bits of the bytes before or after the secret are left off each run.
 */
function inBase64(part: string): string[] {
  const bytes = Buffer.from(part, 'utf8');
  return [0, 1, 2].map((before) => {
    const encoded = Buffer.concat([Buffer.alloc(before), bytes]).toString('base64').replace(/=+$/, '');
    const whole = (before + bytes.length) % 3 === 0 ? encoded : encoded.slice(0, -1);
    return whole.slice([0, 2, 3][before]);
  });
}

/**
 * The ways a provider is known to quote a secret back: as sent; URL-encoded (a signed URL's
 * `X-Amz-Security-Token=…`), with upper- or lower-case escapes; JSON-escaped, as the raw bytes of an answer hold
 * it; and in base64 and base64url, alone, as one side of HTTP Basic credentials (`:secret`, `secret:`,
 * RFC 7617), or, for a long enough secret, anywhere inside a longer value. Base64 forms are unpadded, so that
 * they match padded text too.
 */
function formsOf(part: string): string[] {
  const encoded = encodeURIComponent(part);
  const json = JSON.stringify(part).slice(1, -1);
  const forms = [part, encoded, encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()), json, json.replaceAll('/', '\\/')];
  const encodings = [part, `:${part}`, `${part}:`].map(base64);
  if (part.length >= INSIDE_BASE64_FROM) encodings.push(...inBase64(part));
  for (const b64 of encodings) forms.push(b64, b64.replaceAll('+', '-').replaceAll('/', '_'));
  return forms;
}

/**
 * The secrets a provider call carries, and everything a provider might bring back quoting them cut out: the pooled
 * key it was made with (each part of a compound one: Bedrock's `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]`)
 * and the credentials among the provider's configured headers. Compiled once per key and snapshot: a call only
 * looks for its forms (one `indexOf` each), and cuts only when one is there.
 */
export class SecretRedaction {
  static readonly NONE = new SecretRedaction([]);

  readonly #forms: readonly Form[];
  #answers: SecretRedaction | undefined;

  private constructor(forms: readonly Form[]) {
    this.#forms = forms;
  }

  /**
   * The redaction for answers (a 200 body, a streamed event), whose text is the model's: only the forms of
   * ANYWHERE_FROM characters or more. A short key (`x`, vLLM's `EMPTY`) is a word a model writes: cut from errors,
   * where a host quotes what it was sent, it would cut the word out of every answer that holds it.
   */
  get answers(): SecretRedaction {
    this.#answers ??= this.#forms.every((form) => !form.whole) ? this : new SecretRedaction(this.#forms.filter((form) => !form.whole));
    return this.#answers;
  }

  /** The redaction of `secrets` (empty ones are ignored): each, and each part of one holding `:`, in every form. */
  static of(secrets: readonly string[]): SecretRedaction {
    const texts = new Set<string>();
    for (const secret of secrets) {
      for (const part of [secret, ...secret.split(':')]) {
        if (part === '') continue;
        for (const form of formsOf(part)) if (form !== '') texts.add(form);
      }
    }
    if (texts.size === 0) return SecretRedaction.NONE;
    // Longest first: a whole compound secret goes as one cut, not as its parts around a stray `:`.
    const forms = [...texts]
      .sort((a, b) => b.length - a.length)
      .map((text) => ({ text, bytes: Buffer.from(text, 'utf8'), whole: text.length >= ANYWHERE_FROM ? undefined : new RegExp(`(?<![A-Za-z0-9])${text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')}(?![A-Za-z0-9])`, 'g') }));
    return new SecretRedaction(forms);
  }

  /** Whether `data` (text, or a provider's bytes) quotes a secret in any of its forms. */
  foundIn(data: string | Buffer): boolean {
    for (const form of this.#forms) {
      const at = typeof data === 'string' ? data.indexOf(form.text) : data.indexOf(form.bytes);
      if (at === -1) continue;
      if (!form.whole || standsAlone(data, form, at)) return true;
    }
    return false;
  }

  /**
   * Whether JSON text (a provider's answer, an event) quotes a secret, written as it is or with `\uXXXX` escapes,
   * which a JSON parser turns back into the secret (Go's encoder escapes `<`, `>` and `&` so). The escapes are read
   * only when the text has one.
   */
  quotedIn(json: string | Buffer): boolean {
    if (this.#forms.length === 0) return false;
    if (this.foundIn(json)) return true;
    if (!json.includes('\\u')) return false;
    const text = typeof json === 'string' ? json : json.toString('utf8');
    return this.foundIn(text.replace(/\\u([0-9a-fA-F]{4})/g, (_escape, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))));
  }

  /** `text` with every secret it quotes replaced by `[redacted]`. */
  cut(text: string): string {
    let out = text;
    for (const form of this.#forms) {
      if (!out.includes(form.text)) continue;
      out = form.whole ? out.replace(form.whole, REDACTED) : out.split(form.text).join(REDACTED);
    }
    return out;
  }

  /**
   * A copy of a parsed JSON value with every string in it (member names too) cut. The gateway's own symbol-keyed
   * members (a stop sequence, cache writes) are kept as they are; a non-enumerable one (a chunk's source text) is not.
   */
  cutJson<T>(value: T): T {
    if (typeof value === 'string') return this.cut(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => this.cutJson(item)) as T;
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string | symbol, unknown> = {};
    for (const [name, member] of Object.entries(value)) out[this.cut(name)] = this.cutJson(member);
    for (const symbol of Object.getOwnPropertySymbols(value)) if (Object.prototype.propertyIsEnumerable.call(value, symbol)) out[symbol] = (value as Record<symbol, unknown>)[symbol];
    return out as T;
  }

  /**
   * A server-sent event's text cut: each `data:` line that is JSON re-serialised from its parsed value (cutting the
   * text itself could split an escape sequence), any other line cut as text.
   */
  cutEvent(text: string): string {
    return text
      .split('\n')
      .map((line) => {
        if (!line.startsWith('data: ')) return this.cut(line);
        try {
          return `data: ${JSON.stringify(this.cutJson(JSON.parse(line.slice(6)) as unknown))}`;
        } catch {
          return this.cut(line);
        }
      })
      .join('\n');
  }
}

/** Whether the short form found at `at` stands alone there, or the next occurrence that does exists. */
function standsAlone(data: string | Buffer, form: Form, at: number): boolean {
  const length = typeof data === 'string' ? form.text.length : form.bytes.length;
  const code = (i: number) => (typeof data === 'string' ? (i < 0 || i >= data.length ? undefined : data.charCodeAt(i)) : data[i]);
  for (let i = at; i !== -1; i = typeof data === 'string' ? data.indexOf(form.text, i + 1) : data.indexOf(form.bytes, i + 1)) {
    if (!isAlphanumeric(code(i - 1)) && !isAlphanumeric(code(i + length))) return true;
  }
  return false;
}

/**
 * The words of a header name that say it carries a credential: `authorization` (`proxy-authorization`,
 * `cf-aig-authorization`), `cookie`, and a key, token, secret, auth or password (`x-api-key`, `x-goog-api-key`,
 * `x-auth-token`). Whole words between dashes: `x-portkey-provider` and `x-author` carry none.
 */
const CREDENTIAL_WORDS = new Set(['authorization', 'cookie', 'key', 'apikey', 'token', 'secret', 'auth', 'password', 'passwd', 'credential', 'credentials']);

/** Whether a provider's configured header carries a credential (CREDENTIAL_WORDS). */
export const isCredentialHeader = (name: string): boolean => name.toLowerCase().split('-').some((word) => CREDENTIAL_WORDS.has(word));

/**
 * The AI section as the admin API shows it (GET /config, `keygate export`): each provider's credential headers with
 * `[redacted]` for their values. Applied back, `[redacted]` keeps the stored value (restoreCredentialHeaders).
 */
export function withCredentialHeadersMasked(ai: AiSection): AiSection {
  if (!ai.providers.some((provider) => provider.headers && Object.keys(provider.headers).some(isCredentialHeader))) return ai;
  return {
    ...ai,
    providers: ai.providers.map((provider) =>
      provider.headers ? { ...provider, headers: Object.fromEntries(Object.entries(provider.headers).map(([name, value]) => [name, isCredentialHeader(name) ? REDACTED : value])) } : provider,
    ),
  };
}

/**
 * `next` with each credential header whose value is `[redacted]` (as the admin API exported it) given back the value
 * the same provider's same header, in any case, has in `current`. A provider or header with no stored value is
 * refused: the placeholder would otherwise reach the provider as the credential.
 */
export function restoreCredentialHeaders(next: AiSection, current: AiSection | undefined): AiSection {
  if (!next.providers.some((provider) => provider.headers && Object.values(provider.headers).includes(REDACTED))) return next;
  return {
    ...next,
    providers: next.providers.map((provider, i) => {
      if (!provider.headers) return provider;
      const stored = current?.providers.find((p) => p.name === provider.name)?.headers;
      const headers = Object.fromEntries(
        Object.entries(provider.headers).map(([name, value]) => {
          // A header that carries no credential was never masked: its value is its own, `[redacted]` included.
          if (value !== REDACTED || !isCredentialHeader(name)) return [name, value];
          // Names are compared in lower case: a header stored in another case (before names were lowered on
          // validation, or given so in the file) is the same header, and a file may spell it either way.
          const kept = stored?.[name] ?? Object.entries(stored ?? {}).find(([storedName]) => storedName.toLowerCase() === name.toLowerCase())?.[1];
          if (kept === undefined) throw new KeygateError('invalid_config', `ai.providers[${i}].headers.${name}: "${REDACTED}" stands for the value stored for provider "${provider.name}", and it has none; give the value`);
          return [name, kept];
        }),
      );
      return { ...provider, headers };
    }),
  };
}

/**
 * The secrets in a provider's configured headers (an Ollama behind an authenticating proxy, Cloudflare AI
 * Gateway's `cf-aig-authorization`, an `x-api-key`): each credential header's value, its credentials without the
 * scheme (`Bearer …`), the password of Basic credentials (RFC 7617; the user name is no secret), and a cookie's
 * values.
 */
export function headerSecrets(headers: Readonly<Record<string, string>> | undefined): string[] {
  const secrets: string[] = [];
  for (const [name, raw] of Object.entries(headers ?? {})) {
    if (!isCredentialHeader(name)) continue;
    const value = raw.trim();
    secrets.push(value);
    const scheme = /^([A-Za-z][\w-]*)\s+(\S.*)$/.exec(value);
    if (scheme) {
      secrets.push(scheme[2]!);
      if (scheme[1]!.toLowerCase() === 'basic') {
        const decoded = Buffer.from(scheme[2]!, 'base64').toString('utf8');
        secrets.push(decoded.slice(decoded.indexOf(':') + 1));
      }
    }
    if (/^cookie$/i.test(name)) for (const pair of value.split(';')) secrets.push(pair.slice(pair.indexOf('=') + 1).trim());
  }
  return secrets;
}
