import { exportSPKI, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import { KeygateError } from '../errors.js';
import type { ChangeRecord, Store, StoreTx } from '../store/index.js';
import type { KeyUse } from './algorithms.js';
import { generateKey, type GenerateKeyOptions } from './generate-key.js';
import { importKey, type ImportKeyInput } from './import-key.js';
import type { KeyMaterial } from './key-material.js';
import { keyInfoOf, type KeyInfo, type KeyRow, type KeyState } from './key-record.js';
import { sealPrivateJwk } from './seal.js';

/** A (use, alg) pair with at most one active and one next key: what rotation works on. */
export interface KeySlot {
  use: KeyUse;
  alg: string;
  crv?: string;
}

export interface KeyPolicy {
  defaultSigningAlg: string;
  /** Slots that always have an active key: created on first start, replaced when revoked. */
  managedSlots: readonly KeySlot[];
  rotationInterval: number;
  publishLead: number;
  /** The longest lifetime a token signed by Keygate may have; a retiring key stays published this long. */
  tokenMaxTtl: number;
}

/** Verifiers allow a little clock skew; a retiring key stays published that much longer than its last token. */
export const RETIRE_GRACE_MS = 5 * 60_000;

export interface KeyEvent {
  action: 'created' | 'activated' | 'retiring' | 'retired' | 'revoked' | 'imported';
  kid: string;
  alg: string;
  use: KeyUse;
}

export interface KeyServiceOptions {
  store: Store;
  masterKey: Uint8Array;
  clock: Clock;
  policy: KeyPolicy;
  /** Called after every committed change with the new store version; resolves once this node serves it. */
  onChange: (version: number) => Promise<void>;
}

export type NewKeyState = 'next' | 'active';

/** One conditional change of the schedule; a step another node already took is skipped, not an error. */
type ScheduleStep = (event: KeyEvent, record: { action: string; target: string }, work: (tx: StoreTx, now: number) => Promise<void>) => Promise<void>;

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A unique violation on the kid itself (the same key twice), as opposed to the one-active/one-next indexes. */
function isDuplicateKid(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown };
  if (e.code === '23505') return e.constraint === 'jwk_keys_pkey';
  return e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || (e.code === 'SQLITE_CONSTRAINT_UNIQUE' && /jwk_keys\.kid\b/.test(String(e.message)));
}

function conflict(message: string): KeygateError {
  return new KeygateError('key_state_conflict', message);
}

/** The state an imported key takes: a private key `next` (or the state asked for), a public key `trusted`. */
function importedState(material: KeyMaterial, state: NewKeyState | undefined): KeyState {
  if (material.privateJwk) return state ?? 'next';
  if (state !== undefined) throw new KeygateError('private_key_required', `a public key cannot be made "${state}": only a private key can sign or decrypt`);
  return 'trusted';
}

/** A refusal of one key of a set, as the set's: which key, and that none was imported. A lone key's, as it is. */
function ofSet(entries: ReadonlyArray<{ material: KeyMaterial }>, kid: string, error: unknown): unknown {
  if (entries.length === 1 || !(error instanceof KeygateError)) return error;
  return inSet(entries.findIndex((entry) => entry.material.kid === kid), error);
}

function inSet(index: number, error: KeygateError): KeygateError {
  return new KeygateError(error.code, `key ${index + 1} of the set: ${error.message}; nothing was imported`, { cause: error });
}

/** Modulus lengths generateKey makes; an imported key may have any length of at least 2048 bits. */
const GENERATED_RSA_LENGTHS = [2048, 3072, 4096];

/** The modulus length for a key replacing `row`: the smallest generated length no shorter than the row's own. */
function rsaModulusLength(row: KeyRow): number | undefined {
  if (row.kty !== 'RSA' || !row.public_jwk) return undefined;
  const n = (JSON.parse(row.public_jwk) as { n: string }).n;
  const bits = Buffer.from(n, 'base64url').length * 8;
  return GENERATED_RSA_LENGTHS.find((length) => length >= bits) ?? Math.max(...GENERATED_RSA_LENGTHS);
}

/**
 * The control-plane side of the key service: creating, importing, rotating and revoking keys in the store, each
 * change one transaction with an audit row. The data plane never calls this; it reads the compiled KeySnapshot.
 */
export class KeyService {
  readonly #store: Store;
  readonly #masterKey: Uint8Array;
  readonly #clock: Clock;
  readonly policy: KeyPolicy;
  readonly #onChange: (version: number) => Promise<void>;

  constructor(options: KeyServiceOptions) {
    this.#store = options.store;
    this.#masterKey = options.masterKey;
    this.#clock = options.clock;
    this.policy = options.policy;
    this.#onChange = options.onChange;
  }

  /** Every key row, for compiling the snapshot. */
  async rows(): Promise<KeyRow[]> {
    return this.#store.db.selectFrom('jwk_keys').selectAll().orderBy('created_at', 'asc').orderBy('kid', 'asc').execute();
  }

  async list(filter: { state?: KeyState; use?: KeyUse; alg?: string } = {}): Promise<KeyInfo[]> {
    let query = this.#store.db.selectFrom('jwk_keys').selectAll();
    if (filter.state) query = query.where('state', '=', filter.state);
    if (filter.use) query = query.where('use', '=', filter.use);
    if (filter.alg) query = query.where('alg', '=', filter.alg);
    const rows = await query.orderBy('created_at', 'desc').orderBy('kid', 'asc').execute();
    return rows.map(keyInfoOf);
  }

  async get(kid: string): Promise<KeyInfo> {
    return keyInfoOf(await this.#row(kid));
  }

  /** The public part of a key as a JWK or an SPKI PEM; oct keys have none to export. */
  async exportPublic(kid: string, format: 'jwk' | 'pem'): Promise<JWK | string> {
    const row = await this.#row(kid);
    if (!row.public_jwk) throw new KeygateError('invalid_request', `key ${kid} is a shared secret (oct) and has no public part to export`);
    const jwk = JSON.parse(row.public_jwk) as JWK;
    if (format === 'jwk') return jwk;
    return exportSPKI((await importJWK(jwk, row.alg, { extractable: true })) as CryptoKey);
  }

  /** Generates a key. `next` publishes it now and lets rotation activate it after the publication lead; `active` signs with it at once. */
  async create(options: GenerateKeyOptions & { state?: NewKeyState }, actor: string): Promise<KeyInfo> {
    const material = await generateKey(options);
    const [key] = await this.#add([{ material, state: options.state ?? 'next' }], 'generated', actor, 'key.create');
    return key!;
  }

  /**
   * Imports a JWK or PEM. A private key joins the lifecycle (`next` by default, or `active`); a public key is
   * `trusted`: it verifies and is encrypted to, and is never published or used to sign.
   */
  async import(input: ImportKeyInput & { state?: NewKeyState; publicOnly?: boolean }, actor: string): Promise<KeyInfo> {
    const material = await importKey(input, { publicOnly: input.publicOnly });
    const [key] = await this.#add([{ material, state: importedState(material, input.state) }], 'imported', actor, 'key.import');
    return key!;
  }

  /**
   * Imports the keys of a JWK Set (RFC 7517 §5) as one change: each is checked as `import` checks a JWK, with the
   * same `alg`, `use`, `state` and `publicOnly`, and either every key joins the store or, one refused, none does.
   * A refusal names the key by its place in the set.
   */
  async importSet(input: { keys: unknown[]; alg?: string; use?: KeyUse; state?: NewKeyState; publicOnly?: boolean }, actor: string): Promise<KeyInfo[]> {
    if (input.keys.length === 0) throw new KeygateError('invalid_request', 'the JWK Set holds no keys; nothing was imported');
    const entries: Array<{ material: KeyMaterial; state: KeyState }> = [];
    const places = new Map<string, number>();
    const slots = new Map<string, number>();
    for (const [i, jwk] of input.keys.entries()) {
      try {
        const material = await importKey({ jwk, alg: input.alg, use: input.use }, { publicOnly: input.publicOnly });
        const state = importedState(material, input.state);
        const same = places.get(material.kid);
        if (same !== undefined) throw new KeygateError('duplicate_kid', `it is the same key as key ${same + 1}`);
        places.set(material.kid, i);
        // One active and one next key per slot: a second for the same slot would retire, or be refused after, the first.
        const slot = `${material.use} ${material.alg} ${state}`;
        const other = slots.get(slot);
        if (state !== 'trusted' && other !== undefined) throw conflict(`key ${other + 1} is already the ${state} ${material.alg} key of the set`);
        slots.set(slot, i);
        entries.push({ material, state });
      } catch (error) {
        throw error instanceof KeygateError ? inSet(i, error) : error;
      }
    }
    return this.#add(entries, 'imported', actor, 'key.import');
  }

  /**
   * Rotates the slot of `alg`: the `next` key becomes active (or, if there is none, a new key is generated and
   * activated) and the active key starts retiring.
   */
  async rotate(alg: string, actor: string): Promise<{ activated: KeyInfo; retiring: KeyInfo | null }> {
    const rows = await this.#slotRows(alg);
    const active = rows.find((r) => r.state === 'active');
    const next = rows.find((r) => r.state === 'next');
    const reference = next ?? active;
    if (!reference) throw new KeygateError('key_not_found', `there is no key for ${alg} to rotate; create one with "keygate keys create --alg ${alg}"`);
    const use = reference.use as KeyUse;
    const material = next ? undefined : await this.#regenerate(active!);
    const now = this.#clock.now();
    const { version, result } = await this.#change({ actor, action: 'key.rotate', target: alg, detail: { from: active?.kid ?? null } }, now, async (tx) => {
      const retiring = await this.#retireActive(tx, { use, alg }, now);
      const kid = next ? next.kid : material!.kid;
      if (next) await this.#promote(tx, next.kid, now);
      else await this.#insert(tx, material!, 'active', 'generated', now);
      return { kid, retiring };
    });
    await this.#onChange(version);
    return { activated: await this.get(result.kid), retiring: result.retiring ? await this.get(result.retiring) : null };
  }

  /**
   * Revokes a key: it leaves the JWKS, and stops verifying and decrypting, as soon as this call returns. An active
   * key is replaced at once, by the next key if there is one, else by a new key of the same kind, so signing
   * and encrypting with that algorithm never stop.
   */
  async revoke(kid: string, reason: string | undefined, actor: string): Promise<KeyInfo> {
    const row = await this.#row(kid);
    if (row.state === 'revoked') throw conflict(`key ${kid} is already revoked`);
    const slot = { use: row.use as KeyUse, alg: row.alg };
    const wasActive = row.state === 'active';
    const next = wasActive ? (await this.#slotRows(row.alg)).find((r) => r.state === 'next') : undefined;
    const replacement = wasActive && !next && row.sealed_private ? await this.#regenerate(row) : undefined;
    const now = this.#clock.now();
    const { version } = await this.#change({ actor, action: 'key.revoke', target: kid, detail: { reason: reason ?? null, state: row.state } }, now, async (tx) => {
      const result = await tx
        .updateTable('jwk_keys')
        .set({ state: 'revoked', revoked_at: now, revoke_reason: reason ?? null })
        .where('kid', '=', kid)
        .where('state', '=', row.state)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw conflict(`key ${kid} changed while it was being revoked; try again`);
      if (next) await this.#promote(tx, next.kid, now);
      else if (replacement) await this.#insert(tx, replacement, 'active', 'generated', now);
      return slot;
    });
    await this.#onChange(version);
    return this.get(kid);
  }

  /**
   * The scheduled work, safe to run on every node at once: gives each managed slot an active key, publishes the
   * next key `publishLead` before the active one is due, activates it when due, and retires keys whose tokens
   * have all expired. Each step is a conditional change; a step another node already took is skipped.
   */
  async runSchedule(actor = 'scheduler'): Promise<KeyEvent[]> {
    const events: KeyEvent[] = [];
    let version: number | undefined;
    const step: ScheduleStep = async (event, record, work) => {
      const now = this.#clock.now();
      try {
        const done = await this.#store.change({ actor, ...record }, now, (tx) => work(tx, now));
        version = done.version;
        events.push(event);
      } catch (error) {
        if (!(error instanceof KeygateError && error.code === 'key_state_conflict') && !isUniqueViolation(error)) throw error;
      }
    };

    const rows = await this.#store.db.selectFrom('jwk_keys').selectAll().where('state', 'in', ['next', 'active', 'retiring']).execute();
    const slots = new Map<string, KeySlot>();
    for (const slot of this.policy.managedSlots) slots.set(`${slot.use}:${slot.alg}`, slot);
    for (const row of rows) if (row.sealed_private && row.state !== 'retiring') slots.set(`${row.use}:${row.alg}`, { use: row.use as KeyUse, alg: row.alg });

    const failures: Error[] = [];
    for (const slot of slots.values()) {
      try {
        await this.#scheduleSlot(slot, rows, step);
      } catch (error) {
        // One slot's failure must not stop rotation and retirement of the others.
        failures.push(error as Error);
      }
    }

    for (const row of rows) {
      if (row.state !== 'retiring' || row.retire_at === null || this.#clock.now() < Number(row.retire_at)) continue;
      await step({ action: 'retired', kid: row.kid, alg: row.alg, use: row.use as KeyUse }, { action: 'key.retire', target: row.kid }, async (tx, at) => {
        const result = await tx.updateTable('jwk_keys').set({ state: 'retired', retired_at: at }).where('kid', '=', row.kid).where('state', '=', 'retiring').executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) throw conflict(`key ${row.kid} is no longer retiring`);
      });
    }

    if (version !== undefined) await this.#onChange(version);
    if (failures.length > 0) throw new AggregateError(failures, `key rotation failed for ${failures.length} slot(s): ${failures.map((f) => f.message).join('; ')}`);
    return events;
  }

  /** One slot's share of the schedule: bootstrap, publish the next key ahead of time, or activate it when due. */
  async #scheduleSlot(slot: KeySlot, rows: KeyRow[], step: ScheduleStep): Promise<void> {
    const inSlot = rows.filter((r) => r.use === slot.use && r.alg === slot.alg);
    const active = inSlot.find((r) => r.state === 'active');
    const next = inSlot.find((r) => r.state === 'next');
    const now = this.#clock.now();
    if (!active && !next) {
      const material = await generateKey({ alg: slot.alg, crv: slot.crv });
      await step({ action: 'created', kid: material.kid, alg: slot.alg, use: slot.use }, { action: 'key.bootstrap', target: material.kid }, async (tx, at) => {
        await this.#insert(tx, material, 'active', 'generated', at);
      });
      return;
    }
    // A next key signs only once it has been published for its lead, even in a slot with no active key.
    if (next && now >= Number(next.activate_at ?? 0)) {
      await step({ action: 'activated', kid: next.kid, alg: slot.alg, use: slot.use }, { action: 'key.activate', target: next.kid }, async (tx, at) => {
        await this.#retireActive(tx, slot, at);
        await this.#promote(tx, next.kid, at);
      });
      return;
    }
    if (active && !next && active.sealed_private) {
      const due = Number(active.activated_at ?? active.created_at) + this.policy.rotationInterval;
      if (now >= due - this.policy.publishLead) {
        const material = await this.#regenerate(active);
        await step({ action: 'created', kid: material.kid, alg: slot.alg, use: slot.use }, { action: 'key.publish_next', target: material.kid }, async (tx, at) => {
          await this.#insert(tx, material, 'next', 'generated', at, Math.max(due, at + this.policy.publishLead));
        });
      }
    }
  }

  /** Adds keys in one change, each with its audit record: all of them, or, one refused, none. */
  async #add(entries: ReadonlyArray<{ material: KeyMaterial; state: KeyState }>, origin: string, actor: string, action: string): Promise<KeyInfo[]> {
    const kids = entries.map((entry) => entry.material.kid);
    const existing = await this.#store.db.selectFrom('jwk_keys').select(['kid', 'state']).where('kid', 'in', kids).executeTakeFirst();
    if (existing) throw ofSet(entries, existing.kid, new KeygateError('duplicate_kid', `a key with kid ${existing.kid} (the same key) already exists, in state ${existing.state}`));
    const now = this.#clock.now();
    const record = (material: KeyMaterial, state: KeyState) => ({ actor, action, target: material.kid, detail: { alg: material.alg, state } });
    let adding = entries[0]!;
    let version: number;
    try {
      ({ version } = await this.#change(entries.map(({ material, state }) => record(material, state)), now, async (tx) => {
        for (const entry of entries) {
          adding = entry;
          const { material, state } = entry;
          const slot = { use: material.use, alg: material.alg };
          if (state === 'active') {
            await this.#retireActive(tx, slot, now);
          } else if (state === 'next') {
            const next = await tx.selectFrom('jwk_keys').select('kid').where('use', '=', slot.use).where('alg', '=', slot.alg).where('state', '=', 'next').executeTakeFirst();
            if (next) throw conflict(`${material.alg} already has a next key (${next.kid}); activate it with "keygate keys rotate --alg ${material.alg}" or revoke it first`);
          }
          await this.#insert(tx, material, state, origin, now, state === 'next' ? now + this.policy.publishLead : null);
        }
      }));
    } catch (error) {
      const { material, state } = adding;
      if (isDuplicateKid(error)) throw ofSet(entries, material.kid, new KeygateError('duplicate_kid', `a key with kid ${material.kid} (the same key) already exists`));
      if (isUniqueViolation(error)) throw ofSet(entries, material.kid, conflict(`${material.alg} already has a ${state} key (created meanwhile); list the keys and try again`));
      throw ofSet(entries, material.kid, error);
    }
    // After the commit, outside the refusals above: a failure to serve the new version is no refused key, and every
    // key of the set is stored.
    await this.#onChange(version);
    return Promise.all(kids.map((kid) => this.get(kid)));
  }

  async #change<T>(record: ChangeRecord | readonly ChangeRecord[], now: number, work: (tx: StoreTx) => Promise<T>) {
    return this.#store.change(record, now, work);
  }

  async #insert(tx: StoreTx, material: KeyMaterial, state: KeyState, origin: string, now: number, activateAt: number | null = null): Promise<void> {
    const row = { kid: material.kid, use: material.use, alg: material.alg };
    await tx
      .insertInto('jwk_keys')
      .values({
        kid: material.kid,
        kty: material.kty,
        alg: material.alg,
        use: material.use,
        crv: material.crv,
        state,
        public_jwk: material.publicJwk ? JSON.stringify(material.publicJwk) : null,
        sealed_private: material.privateJwk ? await sealPrivateJwk(this.#masterKey, material.privateJwk, row) : null,
        origin,
        created_at: now,
        activate_at: activateAt,
        activated_at: state === 'active' ? now : null,
        retiring_at: null,
        retire_at: null,
        retired_at: null,
        revoked_at: null,
        revoke_reason: null,
      })
      .execute();
  }

  /** Moves the slot's active key, if any, to retiring; returns its kid. */
  async #retireActive(tx: StoreTx, slot: { use: string; alg: string }, now: number): Promise<string | null> {
    const active = await tx.selectFrom('jwk_keys').select('kid').where('use', '=', slot.use).where('alg', '=', slot.alg).where('state', '=', 'active').executeTakeFirst();
    if (!active) return null;
    const result = await tx
      .updateTable('jwk_keys')
      .set({ state: 'retiring', retiring_at: now, retire_at: now + this.policy.tokenMaxTtl + RETIRE_GRACE_MS })
      .where('kid', '=', active.kid)
      .where('state', '=', 'active')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw conflict(`the active ${slot.alg} key changed meanwhile`);
    return active.kid;
  }

  async #promote(tx: StoreTx, kid: string, now: number): Promise<void> {
    const result = await tx.updateTable('jwk_keys').set({ state: 'active', activated_at: now }).where('kid', '=', kid).where('state', '=', 'next').executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw conflict(`key ${kid} is no longer the next key`);
  }

  /** A new key like `row`: same algorithm, curve and RSA modulus length. */
  #regenerate(row: KeyRow): Promise<KeyMaterial> {
    return generateKey({ alg: row.alg, ...(row.crv ? { crv: row.crv } : {}), ...(rsaModulusLength(row) ? { modulusLength: rsaModulusLength(row) } : {}) });
  }

  async #slotRows(alg: string): Promise<KeyRow[]> {
    return this.#store.db.selectFrom('jwk_keys').selectAll().where('alg', '=', alg).where('state', 'in', ['next', 'active']).execute();
  }

  async #row(kid: string): Promise<KeyRow> {
    const row = await this.#store.db.selectFrom('jwk_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
    if (!row) throw new KeygateError('key_not_found', `no key has kid ${JSON.stringify(kid)}`);
    return row;
  }
}
