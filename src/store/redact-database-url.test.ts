import { describe, expect, it } from 'vitest';
import { redactDatabaseUrl } from './store.js';

describe('redactDatabaseUrl', () => {
  it.each([
    ['postgres://kg:s3cret@db:5432/kg', 'postgres://kg:***@db:5432/kg'],
    ['postgres://:s3cret@db/kg', 'postgres://:***@db/kg'],
    ['postgresql://kg@db/kg?password=s3cret&sslmode=require', 'postgresql://kg@db/kg?password=***&sslmode=require'],
    ['postgres://kg@db/kg?sslpassword=s3cret', 'postgres://kg@db/kg?sslpassword=***'],
    ['postgres://kg@db/kg', 'postgres://kg@db/kg'],
    ['sqlite:./data/keygate.db', 'sqlite:./data/keygate.db'],
  ])('%s → %s', (url, printed) => {
    expect(redactDatabaseUrl(url)).toBe(printed);
    expect(redactDatabaseUrl(url)).not.toContain('s3cret');
  });

  it.each(['postgres://kg:s3cret@db:99999/kg?password=s3cret', 'postgres://kg:s3#cret@db/kg', 'postgres://kg:s3?cret@db/kg', 'postgres://kg:s3/cret@db/kg'])(
    'drops the whole authority of a URL that does not parse: %s',
    (url) => {
      const printed = redactDatabaseUrl(url);
      expect(printed).not.toMatch(/s3.?cret/);
      expect(printed.startsWith('postgres://***@')).toBe(true);
    },
  );
});
