import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { KeygateError } from '../errors.js';
import type { JWK } from 'jose';
import { checkRecipientKey, hasPrivateMembers } from '../keys/index.js';
import type { Store, StoreTx } from '../store/index.js';
import type { AppSpec, CredentialInfo, SubscriptionInfo, SubscriptionState, TeamSpec } from './catalog-schema.js';
import { newSecret } from './credential-secret.js';
import { deleteAppResponses } from '../ai/stored-responses.js';
import { compareText } from '../text-order.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());
/** Rows in the order of their names' characters, whatever the store's collation (compareText). */
const byName = (a: { name: string }, b: { name: string }): number => compareText(a.name, b.name);

/** How a service admits subscribers: its `subscription` setting in the config file. */
export type ServiceAdmission = (service: string) => Promise<{ exists: boolean; approval: boolean; team?: string }>;

/**
 * Teams, apps, their credentials and subscriptions: the control plane of who may call. Each change is one store
 * transaction with an audit row, announced so the data plane recompiles.
 */
export class CatalogService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly onChange: (version: number) => Promise<void>,
    private readonly admission: ServiceAdmission,
  ) {}

  async #change<T>(actor: string, action: string, target: string, work: (tx: StoreTx, now: number) => Promise<T>): Promise<T> {
    const now = this.clock.now();
    const { result, version } = await this.store.change({ actor, action, target }, now, (tx) => work(tx, now));
    await this.onChange(version);
    return result;
  }

  async listTeams(): Promise<TeamSpec[]> {
    const rows = await this.store.db.selectFrom('teams').selectAll().execute();
    return rows.sort(byName).map((r) => ({ name: r.name, ...(r.description ? { description: r.description } : {}), ...(r.budget ? { budget: JSON.parse(r.budget) as TeamSpec['budget'] } : {}) }));
  }

  async putTeam(team: TeamSpec, actor: string): Promise<TeamSpec> {
    await this.#change(actor, 'team.put', team.name, async (tx, now) => {
      await tx
        .insertInto('teams')
        .values({ name: team.name, description: team.description ?? null, budget: team.budget ? JSON.stringify(team.budget) : null, created_at: now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ description: team.description ?? null, budget: team.budget ? JSON.stringify(team.budget) : null }))
        .execute();
    });
    return team;
  }

  async deleteTeam(name: string, actor: string): Promise<void> {
    await this.#change(actor, 'team.delete', name, async (tx) => {
      const apps = await tx.selectFrom('apps').select('name').where('team', '=', name).execute();
      if (apps.length > 0) throw new KeygateError('config_conflict', `team "${name}" still has app(s) ${apps.map((a) => a.name).join(', ')}`);
      const result = await tx.deleteFrom('teams').where('name', '=', name).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw new KeygateError('not_found', `no team is named "${name}"`);
    });
  }

  /**
   * Teams and apps with their budgets, by name: one app, a team and its apps, or all of them (the admin API's
   * budget standing). Names not found are left out, for the caller to tell.
   */
  async budgetsOf(filter: { app?: string; team?: string }): Promise<{ teams: Array<{ name: string; budget: TeamSpec['budget'] }>; apps: Array<{ name: string; team: string; budget: AppSpec['budget'] }> }> {
    let teams = this.store.db.selectFrom('teams').select(['name', 'budget']);
    let apps = this.store.db.selectFrom('apps').select(['name', 'team', 'spec']);
    if (filter.app !== undefined) apps = apps.where('name', '=', filter.app);
    if (filter.team !== undefined) {
      teams = teams.where('name', '=', filter.team);
      apps = apps.where('team', '=', filter.team);
    }
    const [teamRows, appRows] = await Promise.all([teams.execute(), apps.execute()]);
    return {
      teams: teamRows.sort(byName).map((row) => ({ name: row.name, budget: row.budget === null ? undefined : (JSON.parse(row.budget) as TeamSpec['budget']) })),
      apps: appRows.sort(byName).map((row) => ({ name: row.name, team: row.team, budget: (JSON.parse(row.spec) as AppSpec).budget })),
    };
  }

  async listApps(): Promise<AppSpec[]> {
    const rows = await this.store.db.selectFrom('apps').selectAll().execute();
    return rows.sort(byName).map((r) => JSON.parse(r.spec) as AppSpec);
  }

  async getApp(name: string): Promise<AppSpec> {
    const row = await this.store.db.selectFrom('apps').select('spec').where('name', '=', name).executeTakeFirst();
    if (!row) throw new KeygateError('not_found', `no app is named "${name}"`);
    return JSON.parse(row.spec) as AppSpec;
  }

  async putApp(app: AppSpec, actor: string): Promise<AppSpec> {
    for (const [i, jwk] of (app.jwks?.keys ?? []).entries()) {
      if (hasPrivateMembers(jwk)) throw new KeygateError('private_key_not_allowed', `jwks.keys[${i}] holds private key members; register only public keys`);
    }
    if (app.encryptionKey && hasPrivateMembers(app.encryptionKey)) throw new KeygateError('private_key_not_allowed', 'encryptionKey holds private key members; register only its public part');
    if (app.encryptionKey) await checkRecipientKey(app.encryptionKey as JWK, 'encryptionKey');
    await this.#change(actor, 'app.put', app.name, async (tx, now) => {
      const team = await tx.selectFrom('teams').select('name').where('name', '=', app.team).executeTakeFirst();
      if (!team) throw new KeygateError('invalid_request', `no team is named "${app.team}"; create it first`);
      await tx
        .insertInto('apps')
        .values({ name: app.name, team: app.team, description: app.description ?? null, spec: JSON.stringify(app), created_at: now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ team: app.team, description: app.description ?? null, spec: JSON.stringify(app) }))
        .execute();
    });
    return app;
  }

  async deleteApp(name: string, actor: string): Promise<void> {
    await this.#change(actor, 'app.delete', name, async (tx) => {
      await tx.deleteFrom('credentials').where('app', '=', name).execute();
      await tx.deleteFrom('subscriptions').where('app', '=', name).execute();
      // Its stored Responses (the AI module's table, through its function) go with it, in the same transaction.
      await deleteAppResponses(tx, name);
      const result = await tx.deleteFrom('apps').where('name', '=', name).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw new KeygateError('not_found', `no app is named "${name}"`);
    });
  }

  /** Creates an API key or client secret; the secret is in the result once and never again. */
  async createCredential(app: string, kind: 'api_key' | 'client_secret', options: { label?: string; expiresAt?: number }, actor: string): Promise<CredentialInfo & { secret: string }> {
    await this.getApp(app);
    if (options.expiresAt !== undefined && options.expiresAt <= this.clock.now()) throw new KeygateError('invalid_request', '"expiresAt" must be in the future');
    const created = newSecret(kind);
    const id = randomUUID();
    const now = await this.#change(actor, `credential.create`, `${app}/${id}`, async (tx, at) => {
      await tx
        .insertInto('credentials')
        .values({ id, app, kind, prefix: created.prefix, hash: created.hash, label: options.label ?? null, created_at: at, expires_at: options.expiresAt ?? null, revoked_at: null })
        .execute();
      return at;
    });
    return { id, app, kind, prefix: created.prefix, label: options.label ?? null, createdAt: iso(now)!, expiresAt: iso(options.expiresAt ?? null), revokedAt: null, secret: created.secret };
  }

  async listCredentials(app: string): Promise<CredentialInfo[]> {
    // No credentials and no app are different answers: an empty list would hide a misspelt name.
    await this.getApp(app);
    // The id breaks ties: credentials made in one millisecond would come in any order on PostgreSQL.
    const rows = await this.store.db.selectFrom('credentials').selectAll().where('app', '=', app).orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, app: r.app, kind: r.kind as CredentialInfo['kind'], prefix: r.prefix, label: r.label, createdAt: iso(r.created_at)!, expiresAt: iso(r.expires_at), revokedAt: iso(r.revoked_at) }));
  }

  async revokeCredential(app: string, id: string, actor: string): Promise<void> {
    await this.#change(actor, 'credential.revoke', `${app}/${id}`, async (tx, now) => {
      const result = await tx.updateTable('credentials').set({ revoked_at: now }).where('app', '=', app).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw new KeygateError('not_found', `app "${app}" has no live credential ${id}`);
    });
  }

  /** An app asks to call a service: approved at once for an open service, pending for one that needs approval. */
  async subscribe(app: string, service: string, actor: string): Promise<SubscriptionInfo> {
    await this.getApp(app);
    const admission = await this.admission(service);
    if (!admission.exists) throw new KeygateError('not_found', `no service is named "${service}"`);
    const state: SubscriptionState = admission.approval ? 'pending' : 'approved';
    await this.#change(actor, 'subscription.request', `${app}/${service}`, async (tx, now) => {
      const existing = await tx.selectFrom('subscriptions').select('state').where('app', '=', app).where('service', '=', service).executeTakeFirst();
      if (existing && (existing.state === 'approved' || existing.state === 'pending')) throw new KeygateError('config_conflict', `app "${app}" already has a ${existing.state} subscription to "${service}"`);
      const decided = state === 'approved' ? { decided_at: now, decided_by: 'open service' } : { decided_at: null, decided_by: null };
      if (existing) await tx.updateTable('subscriptions').set({ state, requested_at: now, ...decided }).where('app', '=', app).where('service', '=', service).execute();
      else await tx.insertInto('subscriptions').values({ app, service, state, requested_at: now, ...decided }).execute();
    });
    return this.getSubscription(app, service);
  }

  /** The service's team decides: approve or reject a pending subscription, or revoke an approved one. */
  async decide(app: string, service: string, decision: 'approve' | 'reject' | 'revoke', actor: string): Promise<SubscriptionInfo> {
    const from: Record<typeof decision, SubscriptionState[]> = { approve: ['pending', 'rejected', 'revoked'], reject: ['pending'], revoke: ['approved', 'pending'] };
    const to: Record<typeof decision, SubscriptionState> = { approve: 'approved', reject: 'rejected', revoke: 'revoked' };
    await this.#change(actor, `subscription.${decision}`, `${app}/${service}`, async (tx, now) => {
      const result = await tx
        .updateTable('subscriptions')
        .set({ state: to[decision], decided_at: now, decided_by: actor })
        .where('app', '=', app)
        .where('service', '=', service)
        .where('state', 'in', from[decision])
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) {
        const current = await tx.selectFrom('subscriptions').select('state').where('app', '=', app).where('service', '=', service).executeTakeFirst();
        if (!current) throw new KeygateError('not_found', `app "${app}" has no subscription to "${service}"`);
        throw new KeygateError('config_conflict', `a ${current.state} subscription cannot be ${decision === 'approve' ? 'approved' : decision === 'reject' ? 'rejected' : 'revoked'}`);
      }
    });
    return this.getSubscription(app, service);
  }

  async getSubscription(app: string, service: string): Promise<SubscriptionInfo> {
    const row = await this.store.db.selectFrom('subscriptions').selectAll().where('app', '=', app).where('service', '=', service).executeTakeFirst();
    if (!row) throw new KeygateError('not_found', `app "${app}" has no subscription to "${service}"`);
    return { app: row.app, service: row.service, state: row.state as SubscriptionState, requestedAt: iso(row.requested_at)!, decidedAt: iso(row.decided_at), decidedBy: row.decided_by };
  }

  async listSubscriptions(filter: { app?: string; service?: string; state?: SubscriptionState } = {}): Promise<SubscriptionInfo[]> {
    let query = this.store.db.selectFrom('subscriptions').selectAll();
    if (filter.app) query = query.where('app', '=', filter.app);
    if (filter.service) query = query.where('service', '=', filter.service);
    if (filter.state) query = query.where('state', '=', filter.state);
    // The key breaks ties: requests made in one millisecond would come in any order on PostgreSQL.
    const rows = await query.execute();
    rows.sort((a, b) => Number(a.requested_at) - Number(b.requested_at) || compareText(a.app, b.app) || compareText(a.service, b.service));
    return rows.map((row) => ({ app: row.app, service: row.service, state: row.state as SubscriptionState, requestedAt: iso(row.requested_at)!, decidedAt: iso(row.decided_at), decidedBy: row.decided_by }));
  }

  /**
   * RFC 7009: a token of ours that must no longer be accepted, remembered until it would have expired anyway.
   * Resolves to the store version that committed it, announced to no one: the caller tells the data plane of it as
   * a delta (RevokedTokens), since a client that loops token and revoke would otherwise keep every node compiling.
   * Snapshots compiled from then on read it from the store.
   */
  async revokeToken(jti: string, expiresAt: number, actor: string): Promise<number> {
    const now = this.clock.now();
    const { version } = await this.store.change({ actor, action: 'token.revoke', target: jti }, now, async (tx) => {
      await tx.deleteFrom('revoked_tokens').where('expires_at', '<', now).execute();
      await tx.insertInto('revoked_tokens').values({ jti, expires_at: expiresAt }).onConflict((oc) => oc.column('jti').doNothing()).execute();
    });
    return version;
  }
}
