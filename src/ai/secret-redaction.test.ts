import { describe, expect, it } from 'vitest';
import { SecretRedaction, headerSecrets, isCredentialHeader } from './secret-redaction.js';

const KEY = 'tok/REVIEW+b64/SessionToken+Value==';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');

describe('cutting a provider key out of what a provider sends back', () => {
  const redaction = SecretRedaction.of([KEY]);

  it.each([
    ['as sent', KEY],
    ['URL-encoded', encodeURIComponent(KEY)],
    ['URL-encoded with lower-case escapes', encodeURIComponent(KEY).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())],
    ['in base64', b64(KEY)],
    ['in base64url', b64url(KEY)],
    ['as the password of Basic credentials', `Basic ${b64(`:${KEY}`)}`],
    ['as the user of Basic credentials', `Basic ${b64(`${KEY}:`)}`],
    ['JSON-escaped, slashes too', JSON.stringify(KEY).slice(1, -1).replaceAll('/', '\\/')],
  ])('finds and cuts the key quoted %s', (_how, quoted) => {
    const text = `the provider refused ${quoted} for this call`;
    expect(redaction.foundIn(text)).toBe(true);
    expect(redaction.foundIn(Buffer.from(text))).toBe(true);
    const cut = redaction.cut(text);
    expect(cut).toContain('[redacted]');
    expect(cut).not.toContain(quoted.replace(/^Basic /, ''));
  });

  it.each([0, 1, 2, 3, 4, 5])('finds the key inside a longer base64 value, %i bytes into it', (offset) => {
    const dump = `${'x'.repeat(offset)}{"headers":{"authorization":"Bearer ${KEY}"},"trace":"abc"}`;
    for (const encoded of [b64(dump), b64url(dump)]) {
      const text = `{"error":{"message":"request dump ${encoded}"}}`;
      expect(redaction.foundIn(text)).toBe(true);
      const cut = redaction.cut(text);
      // What is left of the value no longer decodes to the key.
      const left = cut.match(/request dump (\S+?)"/)![1]!.split('[redacted]');
      for (const piece of left) expect(Buffer.from(piece, 'base64').toString('latin1')).not.toContain(KEY.slice(0, 8));
    }
  });

  it('does not look for a short key inside longer base64 values, where a few letters would match by chance', () => {
    const short = SecretRedaction.of(['k-12345678']);
    expect(short.foundIn(b64(`xx{"key":"k-12345678","more":"data"}`))).toBe(false);
  });

  it('cuts each part of a Bedrock credential, the session token included', () => {
    const token = 'FQoGZXIvYXdzEREVIEW/session+token/Value==';
    const bedrock = SecretRedaction.of([`AKIAREVIEW0123456789:wJalrXUtnFEMI/K7MDENG/bPxRfiCYREVIEWKEY:${token}`]);
    const cut = bedrock.cut(`credential AKIAREVIEW0123456789; X-Amz-Security-Token=${encodeURIComponent(token)}; secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYREVIEWKEY`);
    expect(cut).toBe('credential [redacted]; X-Amz-Security-Token=[redacted]; secret [redacted]');
  });

  it('cuts a short key where it stands alone, and leaves words that only contain it', () => {
    const short = SecretRedaction.of(['vllm-k1']);
    expect(short.cut('Invalid authorization header: Bearer vllm-k1')).toBe('Invalid authorization header: Bearer [redacted]');
    expect(short.foundIn('model vllm-k10 and xvllm-k1 are unknown')).toBe(false);
    expect(short.cut('model vllm-k10 and xvllm-k1 are unknown')).toBe('model vllm-k10 and xvllm-k1 are unknown');
    expect(short.foundIn(Buffer.from('{"error":"bad key vllm-k1"}'))).toBe(true);
    expect(short.cut(`Basic ${b64('vllm-k1:')}`)).toBe('Basic [redacted]=');
  });

  it('cuts nothing for an empty key', () => {
    const none = SecretRedaction.of(['']);
    expect(none.foundIn('anything at all')).toBe(false);
    expect(none.cut('anything at all')).toBe('anything at all');
  });

  it('copies a parsed answer with every string cut, member names too', () => {
    const answer = { id: 'x', error: { message: `bad ${KEY}`, code: KEY }, [KEY]: [1, `also ${KEY}`, null] };
    expect(redaction.cutJson(answer)).toEqual({ id: 'x', error: { message: 'bad [redacted]', code: '[redacted]' }, '[redacted]': [1, 'also [redacted]', null] });
    expect(answer.error.code).toBe(KEY);
  });

  it('keeps the gateway\'s own symbol-keyed members in the copy, and leaves out a non-enumerable source text', () => {
    const stop = Symbol('stop');
    const source = Symbol('source');
    const chunk: Record<string | symbol, unknown> = { error: `bad ${KEY}`, [stop]: '###' };
    Object.defineProperty(chunk, source, { value: `{"error":"bad ${KEY}"}` });
    const copy = redaction.cutJson(chunk);
    expect(copy).toEqual({ error: 'bad [redacted]', [stop]: '###' });
    expect(copy[source]).toBeUndefined();
  });

  it('re-serialises an event\'s JSON data line rather than cutting inside its escapes', () => {
    const slashy = SecretRedaction.of(['key-with-\\backslash']);
    const event = `data: ${JSON.stringify({ error: { message: 'bad key-with-\\backslash' } })}\n\n`;
    expect(slashy.foundIn(event)).toBe(true);
    expect(JSON.parse(slashy.cutEvent(event).slice(6))).toEqual({ error: { message: 'bad [redacted]' } });
  });
});

describe('the secrets among a provider\'s configured headers', () => {
  it('takes the values of credential headers, without their scheme, and leaves other headers alone', () => {
    const secrets = headerSecrets({
      authorization: 'Bearer proxy-token-0123456789',
      'cf-aig-authorization': 'Bearer cf-token-0123456789',
      'x-api-key': 'xkey-0123456789',
      'x-organisation': 'org-public',
      cookie: 'session=cookie-value-0123; theme=dark',
    });
    expect(secrets).toEqual(expect.arrayContaining(['proxy-token-0123456789', 'cf-token-0123456789', 'xkey-0123456789', 'cookie-value-0123']));
    expect(secrets.join(' ')).not.toContain('org-public');
  });

  it('decodes Basic credentials, so that the password is cut however it is quoted, and not the user name, which is no secret', () => {
    const redaction = SecretRedaction.of(headerSecrets({ 'proxy-authorization': `Basic ${b64('admin:proxy-password-0123')}` }));
    expect(redaction.cut('denied for proxy-password-0123')).toBe('denied for [redacted]');
    expect(redaction.cut('type "admin" to log in')).toBe('type "admin" to log in');
  });

  it.each([
    ['authorization', true],
    ['proxy-authorization', true],
    ['cf-aig-authorization', true],
    ['x-api-key', true],
    ['x-goog-api-key', true],
    ['x-auth-token', true],
    ['cookie', true],
    ['x-portkey-provider', false],
    ['x-author', false],
    ['openai-organization', false],
    ['x-title', false],
  ])('reads %s as a credential header: %s (whole words between dashes)', (name, credential) => {
    expect(isCredentialHeader(name)).toBe(credential);
  });
});

describe('answers, whose text is the model’s', () => {
  it('are searched for long forms only: a short key is a word a model writes', () => {
    const redaction = SecretRedaction.of(['x', 'EMPTY', KEY]);
    expect(redaction.foundIn('Invalid authorization header: Bearer EMPTY')).toBe(true);
    expect(redaction.answers.quotedIn('{"content":"Solve for x: 2x + 3 = 7, or leave it EMPTY."}')).toBe(false);
    expect(redaction.answers.quotedIn(`{"error":{"message":"key ${KEY}"}}`)).toBe(true);
  });

  it('find a key written with \\u escapes, which a JSON parser turns back into the key', () => {
    const escaped = [...KEY].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const body = `{"warning":"key ${escaped}"}`;
    expect(JSON.parse(body)).toEqual({ warning: `key ${KEY}` });
    expect(SecretRedaction.of([KEY]).answers.foundIn(body)).toBe(false);
    expect(SecretRedaction.of([KEY]).answers.quotedIn(body)).toBe(true);
    expect(SecretRedaction.of([KEY]).answers.quotedIn(Buffer.from(body))).toBe(true);
    expect(SecretRedaction.of([KEY]).answers.cutJson(JSON.parse(body))).toEqual({ warning: 'key [redacted]' });
  });
});
