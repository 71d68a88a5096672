import { describe, expect, it } from 'vitest';
import type { AppEntry, CatalogSnapshot } from '../../catalog/index.js';
import { APP_CREATED_CLAIM, tokenAppIsCurrent } from './token-app.js';

const MADE = Date.UTC(2026, 10, 30, 12, 0, 0, 250);
const catalog = (apps: Record<string, number>): CatalogSnapshot => ({
  apps: new Map(Object.entries(apps).map(([name, createdAt]) => [name, { name, team: 'team', createdAt } as AppEntry])),
  teams: new Map(),
  apiKeys: new Map(),
  clientSecrets: new Map(),
  subscriptions: new Set(),
  revokedTokens: new Map(),
});

describe('whether an access token still speaks for its app', () => {
  const apps = catalog({ reporting: MADE });

  it('is by the app it names and that app\'s creation, which the token carries, whatever its iat', () => {
    expect(tokenAppIsCurrent({ client_id: 'reporting', [APP_CREATED_CLAIM]: MADE, iat: MADE / 1000 - 60 }, apps)).toBe(true);
    expect(tokenAppIsCurrent({ client_id: 'reporting', [APP_CREATED_CLAIM]: MADE - 1, iat: MADE / 1000 + 60 }, apps)).toBe(false);
    expect(tokenAppIsCurrent({ client_id: 'reporting', [APP_CREATED_CLAIM]: String(MADE) }, apps)).toBe(false);
  });

  it('is by iat for a token that does not carry it: issued in or after the second the app was made', () => {
    const second = Math.floor(MADE / 1000);
    expect(tokenAppIsCurrent({ client_id: 'reporting', iat: second }, apps)).toBe(true);
    expect(tokenAppIsCurrent({ client_id: 'reporting', iat: second + 1 }, apps)).toBe(true);
    expect(tokenAppIsCurrent({ client_id: 'reporting', iat: second - 1 }, apps)).toBe(false);
    expect(tokenAppIsCurrent({ client_id: 'reporting' }, apps)).toBe(false);
  });

  it('is never for an app that does not exist, or a client_id that is not a name', () => {
    expect(tokenAppIsCurrent({ client_id: 'deleted', [APP_CREATED_CLAIM]: MADE, iat: MADE / 1000 }, apps)).toBe(false);
    expect(tokenAppIsCurrent({ client_id: 7, iat: MADE / 1000 }, apps)).toBe(false);
  });

  it('does not concern a token that names no app', () => {
    expect(tokenAppIsCurrent({ sub: 'someone' }, apps)).toBe(true);
  });
});
