import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { generateKeyPairSync } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { tempDataDir } from './keygate-process.js';

const TOKEN = 'enc-admin';

describe('a route that encrypts beyond TLS', () => {
  let gateway: Gateway;
  let upstream: Server;
  const received: Array<{ body: string; type: string | undefined }> = [];
  const acceptEncodings: Array<string | undefined> = [];
  let apiKey: string;
  let appPrivate: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let gatewayEncKey: JWK;

  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${gateway.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return (await r.json()) as Record<string, unknown>;
  };
  const call = (path: string, body: string, type: string) => fetch(`${gateway.proxyUrl}${path}`, { method: 'POST', headers: { 'x-api-key': apiKey, 'content-type': type }, body });

  /** What a client does: encrypt to the gateway's published encryption key, found in its JWKS. */
  async function encryptToGateway(plaintext: string, alg = 'ECDH-ES', extra: Record<string, unknown> = {}): Promise<string> {
    const key = await importJWK(gatewayEncKey, gatewayEncKey.alg);
    return new CompactEncrypt(new TextEncoder().encode(plaintext)).setProtectedHeader({ alg, enc: 'A256GCM', kid: gatewayEncKey.kid, cty: 'application/json', ...extra }).encrypt(key);
  }

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ body, type: req.headers['content-type'] });
        res.setHeader('content-type', 'application/json');
        // Over the 16 MiB a response to encrypt may have.
        if (req.url?.endsWith('/huge')) return res.end(JSON.stringify({ blob: 'x'.repeat(17 * 1024 * 1024) }));
        acceptEncodings.push(req.headers['accept-encoding']);
        // An upstream that compresses whatever it was asked for.
        if (req.url?.endsWith('/gzipped')) {
          res.setHeader('content-encoding', 'gzip');
          res.setHeader('etag', '"v1-gzip"');
          return res.end(gzipSync(JSON.stringify({ card: { number: '4111 1111 1111 1111', expiry: '12/30' }, status: 'ok' })));
        }
        res.end(JSON.stringify({ card: { number: '4111 1111 1111 1111', expiry: '12/30' }, status: 'ok' }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
    const settings = loadSettings({ KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_ADMIN_TOKEN: TOKEN, KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1' });
    gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: false });
    const auth = { methods: ['api-key'] };
    await gateway.config.apply({
      version: 1,
      services: [{ name: 'pay', targets: [{ url: upstreamUrl }] }],
      routes: [
        { name: 'whole', service: 'pay', paths: ['/whole/*'], auth, encryption: { request: { algorithms: ['ECDH-ES'] }, response: {} } },
        { name: 'fields', service: 'pay', paths: ['/fields/*'], auth, encryption: { request: { required: false }, response: { fields: ['card.number'] } } },
        { name: 'strict', service: 'pay', paths: ['/strict/*'], auth, encryption: { request: { algorithms: ['RSA-OAEP-256'] } } },
      ],
    }, 'test');
    const pair = await generateKeyPair('ECDH-ES+A256KW', { extractable: true });
    appPrivate = pair.privateKey;
    await admin('PUT', '/teams/t', { name: 't' });
    await admin('PUT', '/apps/shop', { name: 'shop', team: 't', encryptionKey: { ...(await exportJWK(pair.publicKey)), alg: 'ECDH-ES+A256KW' } });
    await admin('POST', '/apps/shop/subscriptions', { service: 'pay' });
    apiKey = String((await admin('POST', '/apps/shop/api-keys', {})).secret);
    const jwks = (await (await fetch(`${gateway.proxyUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    gatewayEncKey = jwks.keys.find((k) => k.use === 'enc')!;
  });
  afterAll(async () => {
    await gateway?.stop();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
  });

  it('decrypts a JWE request body to the key service\'s published key before the upstream sees it', async () => {
    const response = await call('/whole/pay', await encryptToGateway('{"amount":42}'), 'application/jose');
    expect(response.status).toBe(200);
    expect(received.at(-1)).toEqual({ body: '{"amount":42}', type: 'application/json' });
  });

  it('encrypts the whole response to the calling app\'s registered key', async () => {
    const response = await call('/whole/pay', await encryptToGateway('{}'), 'application/jose');
    expect(response.headers.get('content-type')).toBe('application/jose');
    const { plaintext, protectedHeader } = await compactDecrypt(await response.text(), appPrivate);
    expect(protectedHeader).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' });
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toMatchObject({ card: { number: '4111 1111 1111 1111' } });
  });

  it('encrypts only the chosen JSON fields, leaving the rest readable', async () => {
    const response = await call('/fields/pay', '{"plain":true}', 'application/json');
    const body = (await response.json()) as { card: { number: string; expiry: string }; status: string };
    expect(body.status).toBe('ok');
    expect(body.card.expiry).toBe('12/30');
    expect(body.card.number.split('.')).toHaveLength(5);
    const { plaintext } = await compactDecrypt(body.card.number, appPrivate);
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toBe('4111 1111 1111 1111');
  });

  it('refuses a clear request body where encryption is required, with 415', async () => {
    const response = await call('/whole/pay', '{"amount":1}', 'application/json');
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('encryption_required');
  });

  it('refuses a JWE whose algorithm the route does not allow', async () => {
    const response = await call('/strict/pay', await encryptToGateway('{}'), 'application/jose');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('decryption_failed');
  });

  it("sends a JWE's short cty upstream as the media type it stands for", async () => {
    const response = await call('/whole/pay', await encryptToGateway('<a/>', 'ECDH-ES', { cty: 'xml' }), 'application/jose');
    expect(response.status).toBe(200);
    expect(received.at(-1)).toEqual({ body: '<a/>', type: 'application/xml' });
  });

  it('refuses a JWE whose cty is no media type with 400, and the target stays in service', async () => {
    const before = received.length;
    for (let i = 0; i < 8; i++) {
      const response = await call('/whole/pay', await encryptToGateway('{}', 'ECDH-ES', { cty: 'application/json\r\nx-injected: 1' }), 'application/jose');
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_content_type');
    }
    expect(received.length).toBe(before);
    expect((await call('/whole/pay', await encryptToGateway('{}'), 'application/jose')).status).toBe(200);
  });

  it("answers 502 to a response too large to encrypt, without counting it against the target's circuit", async () => {
    for (let i = 0; i < 6; i++) {
      const response = await call('/whole/huge', await encryptToGateway('{}'), 'application/jose');
      expect(response.status).toBe(502);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain('too large to encrypt');
    }
    expect((await call('/whole/pay', await encryptToGateway('{}'), 'application/jose')).status).toBe(200);
  });

  it('asks the upstream for an uncompressed response to encrypt, whatever the client accepts', async () => {
    const response = await fetch(`${gateway.proxyUrl}/whole/pay`, { method: 'POST', headers: { 'x-api-key': apiKey, 'content-type': 'application/jose', 'accept-encoding': 'gzip, br' }, body: await encryptToGateway('{}') });
    expect(response.status).toBe(200);
    expect(acceptEncodings.at(-1)).toBe('identity');
  });

  it('decodes a response the upstream compressed anyway before encrypting it, and says nothing of gzip', async () => {
    const whole = await call('/whole/gzipped', await encryptToGateway('{}'), 'application/jose');
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-encoding')).toBeNull();
    expect(whole.headers.get('etag')).toBeNull();
    const { plaintext } = await compactDecrypt(await whole.text(), appPrivate);
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toMatchObject({ status: 'ok' });

    const fields = await call('/fields/gzipped', '{"plain":true}', 'application/json');
    expect(fields.status).toBe(200);
    expect(fields.headers.get('content-encoding')).toBeNull();
    const body = (await fields.json()) as { card: { number: string }; status: string };
    expect(body.status).toBe('ok');
    expect(body.card.number.split('.')).toHaveLength(5);
  });

  it.each([
    ['a key type no one encrypts to', { kty: 'oct', alg: 'A256KW' }, 'invalid_jwk'],
    ['an EC key with no curve point', { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW' }, 'invalid_jwk'],
    ['a 1024-bit RSA key', { ...generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }), alg: 'RSA-OAEP-256' }, 'weak_key'],
  ])("refuses %s as an app's encryptionKey when it is registered, not at its first answer", async (_what, encryptionKey, code) => {
    const r = await fetch(`${gateway.adminUrl}/apps/other-shop`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'other-shop', team: 't', encryptionKey }) });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it('refuses a compressed JWE', async () => {
    const response = await call('/whole/pay', await encryptToGateway('{}', 'ECDH-ES', { zip: 'DEF' }), 'application/jose');
    expect(response.status).toBe(400);
  });

  it('refuses a password-based (PBES2) JWE', async () => {
    const jwe = await new CompactEncrypt(new TextEncoder().encode('{}')).setProtectedHeader({ alg: 'PBES2-HS256+A128KW', enc: 'A256GCM', p2c: 1000 }).encrypt(new TextEncoder().encode('password'));
    const response = await call('/whole/pay', jwe, 'application/jose');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('decryption_failed');
  });

  it('refuses a JWE larger than the route\'s body limit with 413', async () => {
    const big = await encryptToGateway(JSON.stringify({ blob: 'x'.repeat(11 * 1024 * 1024) }));
    const response = await call('/whole/pay', big, 'application/jose');
    expect(response.status).toBe(413);
  });

  it('publishes the encryption key it decrypts with in the JWKS', async () => {
    expect(gatewayEncKey).toMatchObject({ use: 'enc', alg: 'ECDH-ES', kty: 'EC' });
    expect(createLocalJWKSet({ keys: [gatewayEncKey] })).toBeTypeOf('function');
  });
});
