import { openSecret, sealSecret } from '../keys/index.js';
import type { Store } from '../store/index.js';
import type { ResponseObject, ResponsesInputItem } from './responses-ingress/index.js';

/** A stored Response: the Response object as it was answered, and the whole input item list it answered. */
export interface StoredResponse {
  response: ResponseObject;
  input: ResponsesInputItem[];
}

/** Who stored a Response: `owner` alone may read, continue or delete it; the rest says where it came from. */
export interface ResponseOwnership {
  owner: string;
  app: string | null;
  team: string | null;
  route: string;
}

/** What a sealed row is bound to: a sealed Response copied into another row, or given to another owner, no longer opens. */
const binding = (id: string, owner: string) => `ai_responses:${id}:${JSON.stringify(owner)}`;

/**
 * The Responses kept for OpenAI's Responses API (`store`, `previous_response_id`, `GET`/`DELETE /v1/responses/{id}`,
 * https://platform.openai.com/docs/api-reference/responses), in the store, so that every worker and node sharing it
 * finds a Response the moment it is answered. Each row holds the Response and its whole input item list, the
 * earlier turns of its chain included: continuing a chain is one read. Both are sealed under the master key (AES-GCM,
 * as provider keys are), bound to the row's id and owner: conversations are user data. A row past its expiry is
 * never read, and `purge` (run every minute by the gateway) deletes it.
 */
export class StoredResponses {
  constructor(
    private readonly store: Store,
    private readonly masterKey: Uint8Array,
  ) {}

  /** Keeps `kept` for `retentionMs` from `now`; resolves once the store has committed it. */
  async save(ownership: ResponseOwnership, kept: StoredResponse, now: number, retentionMs: number): Promise<void> {
    const id = kept.response.id;
    const sealed = await sealSecret(this.masterKey, JSON.stringify(kept), binding(id, ownership.owner));
    await this.store.db
      .insertInto('ai_responses')
      .values({ id, owner: ownership.owner, app: ownership.app, team: ownership.team, route: ownership.route, created_at: now, expires_at: now + retentionMs, sealed })
      .execute();
  }

  /** The Response `id` if `owner` stored it and it has not expired (nor been deleted); undefined otherwise. */
  async find(id: string, owner: string, now: number): Promise<StoredResponse | undefined> {
    const row = await this.store.db.selectFrom('ai_responses').select('sealed').where('id', '=', id).where('owner', '=', owner).where('expires_at', '>', now).executeTakeFirst();
    if (!row) return undefined;
    return JSON.parse(await openSecret(this.masterKey, row.sealed, binding(id, owner))) as StoredResponse;
  }

  /** Deletes the Response `id` if `owner` may see it; whether there was one. */
  async delete(id: string, owner: string, now: number): Promise<boolean> {
    const result = await this.store.db.deleteFrom('ai_responses').where('id', '=', id).where('owner', '=', owner).where('expires_at', '>', now).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Deletes the Responses whose retention is over; returns how many. */
  async purge(now: number): Promise<number> {
    const result = await this.store.db.deleteFrom('ai_responses').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
