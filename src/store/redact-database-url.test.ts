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

  // A password holding `/`, `?` or `#` unescaped: a URL parser reads the host's end early and would let it pass as
  // a path, a query or a fragment.
  it.each([
    ['postgres://kg:s3cret@db:99999/kg?password=s3cret', 'postgres://kg:***@db:99999/kg?password=***'],
    ['postgres://kg:s3#cret@db/kg', 'postgres://kg:***@db/kg'],
    ['postgres://kg:s3?cret@db/kg', 'postgres://kg:***@db/kg'],
    ['postgres://kg:s3/cret@db/kg', 'postgres://kg:***@db/kg'],
    ['postgres://localhost:1/s3cret@db.example/kg', 'postgres://localhost:***@db.example/kg'],
    ['postgres://localhost:?s3cret@db.example/kg', 'postgres://localhost:***@db.example/kg'],
    ['postgres://kg@db/kg#s3cret', 'postgres://kg@db/kg'],
    ['postgres://kg@db/kg?password=s3#cret', 'postgres://kg@db/kg?password=***'],
  ])('%s → %s, whatever a URL parser makes of it', (url, printed) => {
    expect(redactDatabaseUrl(url)).toBe(printed);
    expect(redactDatabaseUrl(url)).not.toMatch(/s3.?cret/);
  });
});
