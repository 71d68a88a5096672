import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { KeygateError, type ErrorCode } from '../src/errors.js';
import { compileKeySnapshot, type KeySnapshot, type LoadedKey } from '../src/keys/key-snapshot.js';
import { KeyService, type KeyPolicy } from '../src/keys/key-service.js';
import { loadMasterKey, newMasterKeyText } from '../src/keys/master-key.js';
import { openStore, type Store } from '../src/store/index.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

const DAY = 86_400_000;

/** The policy the key service tests run under: ES256 by default, an RSA and an ECDH-ES slot beside it. */
export const TEST_POLICY: KeyPolicy = {
  defaultSigningAlg: 'ES256',
  managedSlots: [
    { use: 'sig', alg: 'ES256' },
    { use: 'sig', alg: 'RS256' },
    { use: 'enc', alg: 'ECDH-ES', crv: 'P-256' },
  ],
  rotationInterval: 30 * DAY,
  publishLead: DAY,
  tokenMaxTtl: DAY,
};

/** One gateway node's key service over a fresh test database, with the clock in the test's hand. */
export interface KeyHarness {
  kind: 'sqlite' | 'postgres';
  db: TestDatabase;
  store: Store;
  dataDir: string;
  masterKeyText: string;
  masterKey: Uint8Array;
  clock: ManualClock;
  service: KeyService;
  /** The snapshot this node would serve now, compiled with the node's long-lived key cache. */
  snapshot(): Promise<KeySnapshot>;
  /** Rows in jwk_keys and audit_log: what a refused change must leave as it was. */
  counts(): Promise<{ keys: number; audit: number }>;
  close(): Promise<void>;
}

export async function openKeyHarness(kind: 'sqlite' | 'postgres', options: { policy?: KeyPolicy } = {}): Promise<KeyHarness> {
  const db = await createTestDatabase(kind);
  const store = await openStore(db.url);
  const dataDir = mkdtempSync(join(tmpdir(), 'keygate-keys-'));
  const masterKeyText = newMasterKeyText();
  const master = await loadMasterKey(store, dataDir, masterKeyText);
  const clock = new ManualClock();
  const policy = options.policy ?? TEST_POLICY;
  const service = new KeyService({ store, masterKey: master.key, clock, policy, onChange: async () => undefined });
  const cache = new Map<string, LoadedKey>();
  return {
    kind,
    db,
    store,
    dataDir,
    masterKeyText,
    masterKey: master.key,
    clock,
    service,
    snapshot: async () => compileKeySnapshot(await service.rows(), { masterKey: master.key, defaultSigningAlg: policy.defaultSigningAlg, cache }),
    counts: async () => {
      const keys = await store.db.selectFrom('jwk_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const audit = await store.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return { keys: Number(keys.n), audit: Number(audit.n) };
    },
    close: async () => {
      await store.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The kids a snapshot's JWKS document publishes, read from the bytes it serves. */
export function jwksKids(snapshot: KeySnapshot): string[] {
  const body = JSON.parse(snapshot.jwks.body.toString('utf8')) as { keys: Array<{ kid: string }> };
  return body.keys.map((k) => k.kid);
}

/** Awaits `work` and asserts it failed with a KeygateError of `code` (and that code's status); returns it. */
export async function expectKeygateError(work: Promise<unknown>, code: ErrorCode, status?: number): Promise<KeygateError> {
  const error: unknown = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeygateError);
  const keygateError = error as KeygateError;
  expect({ code: keygateError.code, message: keygateError.message }).toMatchObject({ code });
  if (status !== undefined) expect(keygateError.status).toBe(status);
  return keygateError;
}

/** The members RFC 7638 §3.2 hashes for each key type, already in lexicographic order. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  oct: ['k', 'kty'],
};

/**
 * The RFC 7638 §3 SHA-256 thumbprint, computed here from the RFC's own rules rather than through jose, so the
 * tests check the key service against the standard and not against the library it uses.
 */
export function rfc7638Thumbprint(jwk: Record<string, unknown>): string {
  const members = THUMBPRINT_MEMBERS[String(jwk.kty)];
  if (!members) throw new Error(`no RFC 7638 members for kty ${String(jwk.kty)}`);
  const canonical: Record<string, unknown> = {};
  for (const m of members) {
    if (typeof jwk[m] !== 'string') throw new Error(`"${m}" is missing`);
    canonical[m] = jwk[m];
  }
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/** Every member name, at any depth, that holds private or secret key material (RFC 7518 §6). */
const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']);

/** The paths of private members found anywhere inside `value`, e.g. `["keys.0.d"]`; empty when there are none. */
export function privateMemberPaths(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => privateMemberPaths(v, `${path}${i}.`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([name, v]) => [
    ...(PRIVATE_MEMBERS.has(name) ? [`${path}${name}`] : []),
    ...privateMemberPaths(v, `${path}${name}.`),
  ]);
}
