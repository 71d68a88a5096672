import { request, type Dispatcher } from 'undici';
import { IssuerUnavailableError } from './issuer-errors.js';

export interface IssuerFetchOptions {
  /** Time allowed for the whole exchange, headers and body together; 3 s by default. */
  timeoutMs?: number;
  /** The largest body accepted; 512 KiB by default. */
  maxBytes?: number;
  /** The undici dispatcher to send through (a proxy agent, a pool with custom TLS); the global one by default. */
  dispatcher?: Dispatcher;
}

/** A JSON document an issuer serves, with the one header its cache needs. */
export interface IssuerDocument {
  json: unknown;
  cacheControl: string | undefined;
}

export const DEFAULT_FETCH_TIMEOUT_MS = 3_000;
export const DEFAULT_MAX_DOCUMENT_BYTES = 512 * 1024;

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * GETs a JSON document from an issuer — its discovery document (OpenID Connect Discovery 1.0 §4, RFC 8414 §3) or
 * its JWK Set (RFC 7517 §5) — within a time and size budget. Only `200 OK` counts (RFC 8414 §3.2); redirects are
 * not followed. Every failure is an {@link IssuerUnavailableError} whose reason says what went wrong, never what
 * the body held.
 */
export async function fetchIssuerDocument(url: URL, options: IssuerFetchOptions = {}): Promise<IssuerDocument> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const signal = AbortSignal.timeout(timeoutMs);
  const failed = (error: unknown): IssuerUnavailableError => {
    if (error instanceof IssuerUnavailableError) return error;
    const code = (error as { code?: unknown } | null)?.code;
    return new IssuerUnavailableError(signal.aborted || (typeof code === 'string' && TIMEOUT_CODES.has(code)) ? 'timeout' : 'unreachable');
  };

  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json, application/jwk-set+json' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
  } catch (error) {
    throw failed(error);
  }

  let text: string;
  try {
    if (response.statusCode !== 200) throw new IssuerUnavailableError('http_status', response.statusCode);
    if (Number(response.headers['content-length'] ?? 0) > maxBytes) throw new IssuerUnavailableError('too_large');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new IssuerUnavailableError('too_large');
      chunks.push(chunk);
    }
    text = Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    // The rest of the body is not wanted; destroying it reports an abort nobody needs to hear.
    response.body.on('error', () => undefined).destroy();
    throw failed(error);
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new IssuerUnavailableError('not_json');
  }
  const cacheControl = response.headers['cache-control'];
  return { json, cacheControl: Array.isArray(cacheControl) ? cacheControl.join(', ') : cacheControl };
}
