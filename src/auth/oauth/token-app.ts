import type { CatalogSnapshot } from '../../catalog/index.js';

/** Our access tokens' private claim: when the app they were issued to was made (ms), which tells it from another of its name. */
export const APP_CREATED_CLAIM = 'kg_app_created';

/**
 * Whether one of our access tokens still speaks for the app it was issued to (its `client_id`): that app must
 * exist, and be the one it was issued to. A token outlives its app's deletion until it expires, and an app made
 * again under the deleted one's name is another app (new credentials, maybe other models and budgets): neither
 * may be reached with the old app's tokens. The token says which app by its creation (APP_CREATED_CLAIM), which
 * no node's clock enters; one issued before tokens said so is the app's if issued (`iat`, whole seconds) after it
 * was made. A token that names no app is not an app's to lose.
 */
export function tokenAppIsCurrent(claims: Record<string, unknown>, catalog: CatalogSnapshot): boolean {
  const client = claims.client_id;
  if (client === undefined) return true;
  const app = typeof client === 'string' ? catalog.apps.get(client) : undefined;
  if (!app) return false;
  const created = claims[APP_CREATED_CLAIM];
  if (created !== undefined) return created === app.createdAt;
  return typeof claims.iat === 'number' && claims.iat >= Math.floor(app.createdAt / 1000);
}
