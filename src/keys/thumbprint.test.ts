import { describe, expect, it } from 'vitest';
import { rfc7638Thumbprint } from '../../test/key-harness.js';
import { kidOf } from './thumbprint.js';

/** The RSA public key of RFC 7638 §3.1 (the key of RFC 7517 Appendix A.1), with its metadata members. */
const RFC7638_RSA_KEY = {
  kty: 'RSA',
  n:
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs' +
    'tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5h' +
    'ajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};
const RFC7638_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

describe('kidOf (RFC 7638 JWK thumbprint)', () => {
  it('gives the thumbprint RFC 7638 section 3.1 computes for its example RSA key', async () => {
    expect(await kidOf(RFC7638_RSA_KEY)).toBe(RFC7638_THUMBPRINT);
  });

  it('ignores the key\'s own "kid", "alg" and "use" members', async () => {
    const { kty, n, e } = RFC7638_RSA_KEY;
    expect(await kidOf({ kty, n, e, kid: 'something-else', alg: 'PS512', use: 'enc' })).toBe(RFC7638_THUMBPRINT);
  });

  it('agrees with the thumbprint computed from the RFC\'s rules by the tests themselves', () => {
    expect(rfc7638Thumbprint(RFC7638_RSA_KEY)).toBe(RFC7638_THUMBPRINT);
  });
});
