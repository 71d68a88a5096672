import { describe, expect, it } from 'vitest';
import { signSigV4, signingKey, uriEncode } from './sigv4.js';

// The example credentials and requests of AWS's Signature Version 4 documentation (General Reference, "Signature
// Version 4 signing process", tasks 1-3 and "Examples of the complete Signature Version 4 signing process").
const example = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

describe('AWS Signature Version 4', () => {
  it('derives the signing key of AWS documentation example (IAM, us-east-1, 2011-09-09)', () => {
    expect(signingKey(example.secretAccessKey, '20110909', 'us-east-1', 'iam').toString('hex')).toBe('98f1d889fec4f4421adc522bab0ce1f82e6929c262ed15e5a94c90efd1e3b0e7');
  });

  it('signs AWS documentation example POST request to IAM to the documented signature', () => {
    const signed = signSigV4(
      { method: 'POST', url: 'https://iam.amazonaws.com/', headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: 'Action=ListUsers&Version=2010-05-08' },
      { credentials: example, region: 'us-east-1', service: 'iam', now: Date.UTC(2011, 8, 9, 23, 36, 0) },
    );
    expect(signed.stringToSign).toBe('AWS4-HMAC-SHA256\n20110909T233600Z\n20110909/us-east-1/iam/aws4_request\n3511de7e95d28ecd39e9513b642aee07e54f4941150d8df8bf94b328ef7e55e2');
    expect(signed.headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ced6826de92d2bdeed8f846f0bf508e8559e98e4b0199114b84c54174deb456c',
    );
  });

  it('signs AWS documentation example GET request with a query string to the documented signature', () => {
    const signed = signSigV4(
      { method: 'GET', url: 'https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: '' },
      { credentials: example, region: 'us-east-1', service: 'iam', now: Date.UTC(2015, 7, 30, 12, 36, 0) },
    );
    expect(signed.canonicalRequest).toBe(
      'GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(signed.stringToSign.split('\n')[3]).toBe('f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59');
    expect(signed.signature).toBe('5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  });

  it('encodes a model id path segment twice in the canonical request, as every service but S3 requires', () => {
    const signed = signSigV4(
      { method: 'POST', url: `https://bedrock-runtime.us-east-1.amazonaws.com/model/${uriEncode('anthropic.claude-3-haiku-20240307-v1:0')}/converse`, headers: {}, body: '{}' },
      { credentials: example, region: 'us-east-1', service: 'bedrock', now: 0 },
    );
    expect(signed.canonicalRequest.split('\n')[1]).toBe('/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse');
  });

  it('percent-encodes every byte but the unreserved characters', () => {
    expect(uriEncode("a.b-c_d~e:f/g h!'()*é")).toBe('a.b-c_d~e%3Af%2Fg%20h%21%27%28%29%2A%C3%A9');
  });

  it('signs temporary credentials\' session token as x-amz-security-token', () => {
    const signed = signSigV4(
      { method: 'POST', url: 'https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/converse', headers: {}, body: '' },
      { credentials: { ...example, sessionToken: 'TOKEN' }, region: 'eu-west-1', service: 'bedrock', now: 0 },
    );
    expect(signed.headers['x-amz-security-token']).toBe('TOKEN');
    expect(signed.headers.authorization).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token,');
  });
});
