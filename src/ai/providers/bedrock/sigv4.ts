import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 for a request signed in an Authorization header
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html): a canonical request, a string to
 * sign over its SHA-256, and an HMAC-SHA256 with a key derived from the secret for the day, region and service.
 *
 * @example
 * const signed = signSigV4(
 *   { method: 'POST', url: 'https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse', headers: { 'content-type': 'application/json' }, body },
 *   { credentials, region: 'us-east-1', service: 'bedrock', now: Date.now() },
 * );
 * // signed.headers: authorization, x-amz-date (and x-amz-security-token with temporary credentials)
 */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials' token, sent (and signed) as x-amz-security-token. */
  sessionToken?: string;
}

export interface SigV4Request {
  method: string;
  url: string;
  /** Headers to sign besides host and x-amz-date (which the signer adds). */
  headers: Record<string, string>;
  body: string;
}

export interface SigV4Options {
  credentials: AwsCredentials;
  region: string;
  service: string;
  /** Milliseconds since the epoch. */
  now: number;
}

export interface SigV4Signature {
  /** The headers to send: the ones given, plus x-amz-date, authorization and any x-amz-security-token. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

export function signSigV4(request: SigV4Request, options: SigV4Options): SigV4Signature {
  const url = new URL(request.url);
  const amzDate = new Date(options.now).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = { ...request.headers, 'x-amz-date': amzDate };
  if (options.credentials.sessionToken) headers['x-amz-security-token'] = options.credentials.sessionToken;

  const signed = new Map<string, string>([['host', url.host]]);
  for (const [name, value] of Object.entries(headers)) signed.set(name.toLowerCase(), value.trim().replace(/\s+/g, ' '));
  const names = [...signed.keys()].sort();
  const signedHeaders = names.join(';');
  const payloadHash = signed.get('x-amz-content-sha256') ?? sha256Hex(request.body);

  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQuery(url.search),
    names.map((name) => `${name}:${signed.get(name)}\n`).join(''),
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${options.region}/${options.service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = hmac(signingKey(options.credentials.secretAccessKey, day, options.region, options.service), stringToSign).toString('hex');
  headers.authorization = `${ALGORITHM} Credential=${options.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign, signature };
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request"). */
export function signingKey(secretAccessKey: string, day: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secretAccessKey}`, day);
  return hmac(hmac(hmac(kDate, region), service), 'aws4_request');
}

/**
 * SigV4's URI encoding: every byte but the unreserved A-Z a-z 0-9 - _ . ~ as %XX with upper-case hex. Bedrock puts
 * model ids in the path with it, so `anthropic.claude-v2:1` travels as `anthropic.claude-v2%3A1`.
 */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Every service but S3 signs the path encoded twice: the path as sent (already encoded) has each segment encoded
 * again, so `%3A` in the URL is `%253A` in the canonical request.
 */
function canonicalUri(path: string): string {
  if (path === '' || path === '/') return '/';
  return path.split('/').map(uriEncode).join('/');
}

function canonicalQuery(search: string): string {
  if (search.length <= 1) return '';
  return search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decodeURIComponent(eq === -1 ? pair : pair.slice(0, eq));
      const value = eq === -1 ? '' : decodeURIComponent(pair.slice(eq + 1));
      return [uriEncode(name), uriEncode(value)] as const;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

export function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
