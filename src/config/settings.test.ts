import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';
import { SettingsError, loadSettings } from './settings.js';

describe('settings', () => {
  it('default to the embedded store in ./data, proxy port 8080 and admin port 8081 on loopback', () => {
    const s = loadSettings({});
    expect(s).toMatchObject({ proxyPort: 8080, adminPort: 8081, adminHost: '127.0.0.1', signingAlg: 'ES256', keyRotationInterval: 30 * 86_400_000, keyPublishLead: 86_400_000 });
    expect(s.dataDir).toMatch(/\/data$/);
    expect(s.databaseUrl).toBe(`sqlite:${s.dataDir}/keygate.db`);
  });

  it('take flags over environment variables', () => {
    expect(loadSettings({ KEYGATE_PROXY_PORT: '9000' }, { 'proxy-port': '9100' }).proxyPort).toBe(9100);
  });

  it('read durations in s, m, h and d', () => {
    const s = loadSettings({ KEYGATE_KEY_ROTATION_INTERVAL: '7d', KEYGATE_KEY_PUBLISH_LEAD: '12h', KEYGATE_JWKS_MAX_AGE: '5m', KEYGATE_SYNC_INTERVAL: '500ms' });
    expect([s.keyRotationInterval, s.keyPublishLead, s.jwksMaxAge, s.syncInterval]).toEqual([7 * 86_400_000, 12 * 3_600_000, 300_000, 500]);
  });

  it('refuse a secret given as a flag, since flags show in the process list', () => {
    expect(() => loadSettings({}, { 'master-key': 'x' })).toThrow('unknown flag --master-key');
  });

  it('never print a database password in an error', () => {
    expect(() => loadSettings({ KEYGATE_DATABASE_URL: 'mysql://user:hunter2@db/x' })).toThrow(SettingsError);
    try {
      loadSettings({ KEYGATE_DATABASE_URL: 'mysql://user:hunter2@db/x' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it.each([
    'jdbc:postgresql://127.0.0.1:1/kg?user=kg&password=hunter2',
    'postgresql+psycopg2://kg:hun/ter2@127.0.0.1:1/kg',
    'hunter2',
  ])('never quote a database URL of another form, which may hold a password: %s', (url) => {
    expect(() => loadSettings({ KEYGATE_DATABASE_URL: url })).toThrow(/KEYGATE_DATABASE_URL must start with postgres:\/\/, postgresql:\/\/ or sqlite:, got (a URL starting "[a-z0-9+]+:"|something else)$/);
    expect(() => loadSettings({ KEYGATE_DATABASE_URL: url })).not.toThrow(/hun\/?ter2/);
  });

  it('refuse a database password in --database-url, which shows in ps, and take one without', () => {
    expect(() => loadSettings({}, { 'database-url': 'postgres://kg:hunter2@db/kg' })).toThrow('--database-url must not hold a password (a flag shows in ps); set KEYGATE_DATABASE_URL instead');
    expect(() => loadSettings({}, { 'database-url': 'postgres://kg@db/kg?sslmode=require&password=hunter2' })).toThrow('--database-url must not hold a password');
    expect(loadSettings({}, { 'database-url': 'postgres://kg@db/kg?sslmode=require' }).databaseUrl).toBe('postgres://kg@db/kg?sslmode=require');
    expect(loadSettings({ KEYGATE_DATABASE_URL: 'postgres://kg:hunter2@db/kg' }).databaseUrl).toBe('postgres://kg:hunter2@db/kg');
  });

  it('refuse an issuer with a user or password, which would be published in the metadata and every token', () => {
    expect(() => loadSettings({ KEYGATE_ISSUER: 'https://gw:hunter2@auth.example.com' })).toThrow('KEYGATE_ISSUER must not hold a user or password');
    expect(() => loadSettings({ KEYGATE_ISSUER: 'https://gw:hunter2@auth.example.com' })).not.toThrow(/hunter2/);
    expect(loadSettings({ KEYGATE_ISSUER: 'https://auth.example.com' }).issuer).toBe('https://auth.example.com');
  });

  it('refuse a Redis URL the client cannot read without quoting it (its password may hold a /)', () => {
    expect(() => loadSettings({ KEYGATE_REDIS_URL: 'redis://kg:Redis/hunter2@127.0.0.1:6379' })).toThrow('KEYGATE_REDIS_URL is not a URL the Redis client can read; percent-encode');
    expect(() => loadSettings({ KEYGATE_REDIS_URL: 'redis://kg:Redis/hunter2@127.0.0.1:6379' })).not.toThrow(/hunter2/);
    expect(() => loadSettings({ KEYGATE_REDIS_URL: 'http://kg:hunter2@127.0.0.1:6379' })).toThrow('KEYGATE_REDIS_URL must start with redis:// or rediss://, got a URL starting "http:"');
    expect(loadSettings({ KEYGATE_REDIS_URL: 'redis://kg:Redis%2Fhunter2@127.0.0.1:6379' }).redisUrl).toBe('redis://kg:Redis%2Fhunter2@127.0.0.1:6379');
  });

  it.each(['KEYGATE_SYNC_INTERVAL', 'KEYGATE_SHUTDOWN_GRACE', 'KEYGATE_TLS_RELOAD_INTERVAL', 'KEYGATE_CLIENT_HEADER_TIMEOUT', 'KEYGATE_CLIENT_REQUEST_TIMEOUT'])(
    'refuse %s longer than a timer can wait (Node fires longer ones after 1 ms)',
    (name) => {
      expect(() => loadSettings({ [name]: '25d' })).toThrow(`${name} must be at most 24d`);
      expect(() => loadSettings({ KEYGATE_CLIENT_REQUEST_TIMEOUT: '24d', [name]: '24d' })).not.toThrow();
    },
  );

  it('require the rotation interval to exceed the publication lead', () => {
    expect(() => loadSettings({ KEYGATE_KEY_ROTATION_INTERVAL: '1d', KEYGATE_KEY_PUBLISH_LEAD: '1d' })).toThrow('KEYGATE_KEY_PUBLISH_LEAD must be shorter than KEYGATE_KEY_ROTATION_INTERVAL');
  });
});

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['30d', 2_592_000_000],
    ['250ms', 250],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it.each(['', '10', 'd', '1.5h', '-1h', '1w'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
