import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AiSection } from './ai-schema.js';
import { holdsCredentialsInClear, openCredentialHeaders, sealCredentialHeaders, type StoredAiSection } from './sealed-headers.js';

const masterKey = new Uint8Array(randomBytes(32));
const GATEWAY_TOKEN = 'Bearer cf-aig-token-0123456789';

/** A section as the admin API takes it (AiSection reads a provider's `type` as never: typebox cannot type it). */
const section = (providers: Array<Record<string, unknown>>) => ({ providers }) as unknown as AiSection;

const ai = section([
  { name: 'cloudflare', type: 'openai', headers: { 'cf-aig-authorization': GATEWAY_TOKEN, 'openai-organization': 'org-acme' } },
  { name: 'plain', type: 'openai' },
]);

const noneUnopenable = () => expect.unreachable('every value opens');

describe('AI providers\' credential headers at rest', () => {
  it('seals the value of a credential header as a JWE under the master key, and leaves other headers in clear', async () => {
    const stored = await sealCredentialHeaders(ai, masterKey);
    expect(JSON.stringify(stored)).not.toContain('cf-aig-token-0123456789');
    const sealed = stored.providers[0]!.headers!['cf-aig-authorization'] as Record<string, string>;
    expect(JSON.parse(Buffer.from(sealed.protected!, 'base64url').toString('utf8'))).toEqual({ alg: 'dir', enc: 'A256GCM' });
    expect(stored.providers[0]!.headers!['openai-organization']).toBe('org-acme');
    expect(stored.providers[1]).toEqual({ name: 'plain', type: 'openai' });
  });

  it('opens what it sealed into the section it was given', async () => {
    const stored = JSON.parse(JSON.stringify(await sealCredentialHeaders(ai, masterKey))) as StoredAiSection;
    expect(await openCredentialHeaders(stored, masterKey, noneUnopenable)).toEqual(ai);
  });

  it('reads a credential header stored in clear by an earlier release as it is, and knows it is in clear', async () => {
    const stored = ai as unknown as StoredAiSection;
    expect(holdsCredentialsInClear(stored)).toBe(true);
    expect(await openCredentialHeaders(stored, masterKey, noneUnopenable)).toEqual(ai);
    expect(holdsCredentialsInClear(await sealCredentialHeaders(ai, masterKey))).toBe(false);
  });

  it('keeps a value already sealed when sealing a stored section, and seals only those in clear', async () => {
    const stored = await sealCredentialHeaders(section([{ name: 'cloudflare', type: 'openai', headers: { 'cf-aig-authorization': GATEWAY_TOKEN } }]), masterKey);
    const mixed = { ...stored, providers: [...stored.providers, { name: 'proxied', type: 'ollama', headers: { 'x-api-key': 'proxy-key-0123456789' } }] } as StoredAiSection;
    const resealed = await sealCredentialHeaders(mixed, masterKey);
    expect(resealed.providers[0]).toEqual(stored.providers[0]);
    expect(JSON.stringify(resealed)).not.toContain('proxy-key-0123456789');
    expect((await openCredentialHeaders(resealed, masterKey, noneUnopenable)).providers[1]!.headers).toEqual({ 'x-api-key': 'proxy-key-0123456789' });
  });

  it('leaves out a sealed value moved to another provider or header, or under another master key, naming it', async () => {
    const stored = await sealCredentialHeaders(section([{ name: 'cloudflare', type: 'openai', headers: { 'cf-aig-authorization': GATEWAY_TOKEN, 'x-api-key': 'other-0123456789' } }]), masterKey);
    const headers = stored.providers[0]!.headers!;
    const moved = section([
      { name: 'elsewhere', type: 'openai', headers: { 'cf-aig-authorization': headers['cf-aig-authorization'] } },
      { name: 'cloudflare', type: 'openai', headers: { 'x-api-key': headers['cf-aig-authorization'], 'cf-aig-authorization': headers['x-api-key'] } },
    ]) as unknown as StoredAiSection;
    const unopenable: Array<[string, string]> = [];
    const opened = await openCredentialHeaders(moved, masterKey, (provider, header) => unopenable.push([provider, header]));
    expect(opened.providers.map((provider) => provider.headers)).toEqual([{}, {}]);
    expect(unopenable).toEqual([['elsewhere', 'cf-aig-authorization'], ['cloudflare', 'x-api-key'], ['cloudflare', 'cf-aig-authorization']]);
    const underAnotherKey: string[] = [];
    await openCredentialHeaders(stored, new Uint8Array(randomBytes(32)), (_provider, header) => underAnotherKey.push(header));
    expect(underAnotherKey).toEqual(['cf-aig-authorization', 'x-api-key']);
  });
});
