import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { JWK } from 'jose';
import type { Static } from 'typebox';
import { KeygateError } from '../../errors.js';
import { decryptJwe, encryptJwe, type KeySnapshot } from '../../keys/index.js';
import type { RouteEncryptionSchema } from '../../proxy/route-schema.js';
import { AuthFailure } from '../principal.js';

type RouteEncryptionSpec = Static<typeof RouteEncryptionSchema>;

export const DEFAULT_KEY_MANAGEMENT = ['ECDH-ES+A256KW', 'ECDH-ES', 'RSA-OAEP-256'];
export const DEFAULT_CONTENT_ENCRYPTION = ['A256GCM'];
const JOSE_TYPE = 'application/jose';
/** The most a compressed response may grow to when decoded for encryption: the proxy holds at most as much. */
const MAX_DECODED_RESPONSE = 16 * 1024 * 1024;

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Answer now and close the connection after the answer; the rest of the body is not read.
        reject(new AuthFailure(413, 'payload_too_large', `the request body is larger than this route allows (${limit} bytes)`, { connection: 'close' }));
        req.pause();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function setAt(target: Record<string, unknown>, path: string, transform: (value: unknown) => Promise<unknown>): Promise<void> | undefined {
  const parts = path.split('.');
  let node: unknown = target;
  for (const part of parts.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  const last = parts[parts.length - 1]!;
  if (node === null || typeof node !== 'object' || !(last in (node as object))) return undefined;
  const holder = node as Record<string, unknown>;
  return transform(holder[last]).then((value) => {
    holder[last] = value;
  });
}

/**
 * A route's encryption beyond TLS. Requests: the body must be a compact JWE (RFC 7516 §7.1,
 * `Content-Type: application/jose`) addressed to the key service's encryption key; it is decrypted before the
 * upstream sees it, with the route's algorithm allowlists, and compressed (`zip`) or oversize JWEs are refused.
 * Responses: the whole body, or chosen JSON fields, are encrypted to the calling app's registered public key.
 */
/** A media type as RFC 9110 §8.3.1 writes it, parameters included; nothing that is not visible ASCII, space or tab. */
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*;[ \t\x21-\x7e]*)*$/;

/**
 * The Content-Type for a decrypted body from its JWE's `cty` (RFC 7516 §4.1.12, RFC 7515 §4.1.10): a value
 * without a `/` has `application/` left off it; a value that is no media type (a line break in it, say, which
 * would otherwise reach the upstream request) is refused.
 */
function mediaTypeOfCty(cty: unknown): string {
  if (cty === undefined) return 'application/json';
  const text = typeof cty === 'string' ? (cty.includes('/') ? cty : `application/${cty}`) : '';
  if (!MEDIA_TYPE.test(text)) throw new AuthFailure(400, 'invalid_content_type', "the encrypted body's cty header is not a media type");
  return text;
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const brotliDecompress = promisify(zlib.brotliDecompress);

/** A response body without its content codings (RFC 9110 §8.4), innermost last; an unknown coding fails the answer. */
async function decoded(encoding: string | string[] | undefined, body: Buffer): Promise<Buffer> {
  const codings = (Array.isArray(encoding) ? encoding.join(',') : (encoding ?? '')).split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
  let out = body;
  for (const coding of codings.reverse()) {
    if (coding === 'gzip' || coding === 'x-gzip') out = await gunzip(out, { maxOutputLength: MAX_DECODED_RESPONSE });
    else if (coding === 'deflate') out = await inflate(out, { maxOutputLength: MAX_DECODED_RESPONSE });
    else if (coding === 'br') out = await brotliDecompress(out, { maxOutputLength: MAX_DECODED_RESPONSE });
    else throw new Error(`the response's content coding "${coding}" cannot be decoded for encryption`);
  }
  return out;
}

export class RouteEncryption {
  readonly #request: { required: boolean; algorithms: string[]; encryptionAlgorithms: string[] } | undefined;
  readonly #response: { algorithm: string | undefined; encryptionAlgorithm: string; fields: string[] | undefined } | undefined;

  constructor(spec: RouteEncryptionSpec) {
    this.#request = spec.request
      ? { required: spec.request.required ?? true, algorithms: spec.request.algorithms ?? DEFAULT_KEY_MANAGEMENT, encryptionAlgorithms: spec.request.encryptionAlgorithms ?? DEFAULT_CONTENT_ENCRYPTION }
      : undefined;
    this.#response = spec.response ? { algorithm: spec.response.algorithm, encryptionAlgorithm: spec.response.encryptionAlgorithm ?? 'A256GCM', fields: spec.response.fields } : undefined;
  }

  /**
   * Reads and decrypts the request body when the route asks for it; undefined leaves the body streaming. The
   * plaintext goes upstream with the JWE's `cty` as its Content-Type (application/json without one).
   */
  async decryptRequest(req: IncomingMessage, keys: KeySnapshot, maxBodySize: number): Promise<{ body: Buffer; contentType: string } | undefined> {
    if (!this.#request) return undefined;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (type !== JOSE_TYPE) {
      if (this.#request.required && hasBody) throw new AuthFailure(415, 'encryption_required', `this route takes request bodies encrypted to the gateway: a compact JWE sent as ${JOSE_TYPE}`);
      return undefined;
    }
    const jwe = (await readBody(req, maxBodySize)).toString('utf8').trim();
    let decrypted: Awaited<ReturnType<typeof decryptJwe>>;
    try {
      decrypted = await decryptJwe(keys, jwe, { algorithms: this.#request.algorithms, encryptionAlgorithms: this.#request.encryptionAlgorithms, maxLength: maxBodySize });
    } catch (error) {
      if (error instanceof KeygateError) throw new AuthFailure(400, error.code === 'payload_too_large' ? 'payload_too_large' : 'decryption_failed', 'the request body could not be decrypted with this route\'s allowed algorithms');
      throw error;
    }
    return { body: Buffer.from(decrypted.plaintext), contentType: mediaTypeOfCty(decrypted.header.cty) };
  }

  /**
   * The response rewriter for a caller, or undefined when the route does not encrypt responses. A route that
   * encrypts responses refuses callers without a registered encryption key rather than answer in the clear.
   */
  responseEncryptor(keys: KeySnapshot, recipient: JWK | undefined): ((status: number, headers: Record<string, string | string[]>, body: Buffer) => Promise<{ headers: Record<string, string | string[]>; body: Buffer }>) | undefined {
    const response = this.#response;
    if (!response) return undefined;
    if (!recipient) throw new AuthFailure(403, 'encryption_key_missing', "this route encrypts responses to the calling app's registered encryptionKey, and the caller has none");
    const alg = response.algorithm ?? (typeof recipient.alg === 'string' ? recipient.alg : 'ECDH-ES+A256KW');
    const seal = (plaintext: Uint8Array, contentType?: string) =>
      encryptJwe(keys, plaintext, { alg, enc: response.encryptionAlgorithm, algorithms: [alg], encryptionAlgorithms: [response.encryptionAlgorithm], recipient, contentType });
    return async (_status, received, encoded) => {
      if (encoded.length === 0) return { headers: received, body: encoded };
      // The gateway asks for the identity encoding; an upstream that compresses all the same is decoded first, so
      // that what is sealed (or parsed) is the representation itself. The headers then describe the new body.
      const { 'content-encoding': _encoding, etag: _etag, ...headers } = received;
      const body = await decoded(received['content-encoding'], encoded);
      const type = String(headers['content-type'] ?? '');
      if (!response.fields) {
        const jwe = await seal(body, type.split(';')[0] || undefined);
        return { headers: { ...headers, 'content-type': JOSE_TYPE }, body: Buffer.from(jwe) };
      }
      if (!type.includes('json')) return { headers, body };
      const document = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      await Promise.all(response.fields.map((path) => setAt(document, path, async (value) => seal(new TextEncoder().encode(JSON.stringify(value)), 'application/json'))));
      return { headers, body: Buffer.from(JSON.stringify(document)) };
    };
  }
}
