import { describe, expect, it } from 'vitest';
import { PathPatternError, Router, type RouteEntry } from './router.js';

/** Routes named by their declaration, so a match reads as the name of the route that won. */
function router(entries: Array<Omit<RouteEntry<string>, 'route'> & { name: string }>): Router<string> {
  return new Router(entries.map(({ name, ...entry }) => ({ route: name, ...entry })));
}

const winner = (r: Router<string>, path: string, options: { method?: string; host?: string; headers?: Record<string, string> } = {}) =>
  r.match(options.method ?? 'GET', options.host, path, options.headers ?? {})?.route;

describe('the router', () => {
  it('matches an exact path and nothing longer or shorter', () => {
    const r = router([{ name: 'health', paths: ['/health'] }]);
    expect(winner(r, '/health')).toBe('health');
    expect(winner(r, '/health/x')).toBeUndefined();
    expect(winner(r, '/')).toBeUndefined();
  });

  it('captures parameter segments by name', () => {
    const r = router([{ name: 'order', paths: ['/users/:userId/orders/:orderId'] }]);
    expect(r.match('GET', undefined, '/users/42/orders/7', {})).toEqual({ route: 'order', params: { userId: '42', orderId: '7' }, wildcard: undefined });
  });

  it('does not let a parameter match an empty segment', () => {
    const r = router([{ name: 'user', paths: ['/users/:id'] }]);
    expect(winner(r, '/users/')).toBeUndefined();
  });

  it('matches a prefix with the rest of the path as the wildcard, including nothing', () => {
    const r = router([{ name: 'static', paths: ['/static/*'] }]);
    expect(r.match('GET', undefined, '/static/css/site.css', {})?.wildcard).toBe('css/site.css');
    expect(r.match('GET', undefined, '/static/', {})?.wildcard).toBe('');
    expect(r.match('GET', undefined, '/static', {})?.wildcard).toBe('');
    expect(winner(r, '/staticky')).toBeUndefined();
  });

  it('prefers a static segment to a parameter, and a parameter to a prefix, whatever the declaration order', () => {
    const r = router([
      { name: 'prefix', paths: ['/users/*'] },
      { name: 'param', paths: ['/users/:id'] },
      { name: 'static', paths: ['/users/me'] },
    ]);
    expect(winner(r, '/users/me')).toBe('static');
    expect(winner(r, '/users/42')).toBe('param');
    expect(winner(r, '/users/42/avatar')).toBe('prefix');
  });

  it('prefers the longer of two prefixes', () => {
    const r = router([
      { name: 'api', paths: ['/api/*'] },
      { name: 'v1', paths: ['/api/v1/*'] },
    ]);
    expect(winner(r, '/api/v1/users')).toBe('v1');
    expect(winner(r, '/api/v2/users')).toBe('api');
  });

  it('gives the same path to the first declared route', () => {
    const r = router([
      { name: 'first', paths: ['/same', '/other'] },
      { name: 'second', paths: ['/same'] },
    ]);
    expect(winner(r, '/same')).toBe('first');
  });

  it('falls back from a static route that refuses the method to a parameter route that accepts it', () => {
    const r = router([
      { name: 'create-me', paths: ['/users/me'], methods: ['POST'] },
      { name: 'read-user', paths: ['/users/:id'], methods: ['GET'] },
    ]);
    expect(winner(r, '/users/me', { method: 'POST' })).toBe('create-me');
    expect(r.match('GET', undefined, '/users/me', {})).toEqual({ route: 'read-user', params: { id: 'me' }, wildcard: undefined });
    expect(winner(r, '/users/me', { method: 'DELETE' })).toBeUndefined();
  });

  it('routes by method among routes on the same path', () => {
    const r = router([
      { name: 'read', paths: ['/items'], methods: ['GET', 'HEAD'] },
      { name: 'write', paths: ['/items'], methods: ['POST'] },
    ]);
    expect(winner(r, '/items', { method: 'HEAD' })).toBe('read');
    expect(winner(r, '/items', { method: 'POST' })).toBe('write');
  });

  it('requires every header condition, compared case-insensitively by name and exactly by value', () => {
    const r = router([
      { name: 'beta', paths: ['/app'], headers: { 'X-Channel': 'beta', 'x-tenant': 'acme' } },
      { name: 'stable', paths: ['/app'] },
    ]);
    expect(winner(r, '/app', { headers: { 'x-channel': 'beta', 'x-tenant': 'acme' } })).toBe('beta');
    expect(winner(r, '/app', { headers: { 'x-channel': 'beta' } })).toBe('stable');
    expect(winner(r, '/app', { headers: { 'x-channel': 'Beta', 'x-tenant': 'acme' } })).toBe('stable');
  });

  it('prefers an exact host to a wildcard host, and a wildcard host to a route without hosts', () => {
    const r = router([
      { name: 'any', paths: ['/*'] },
      { name: 'wildcard', hosts: ['*.example.com'], paths: ['/*'] },
      { name: 'exact', hosts: ['api.example.com'], paths: ['/*'] },
    ]);
    expect(winner(r, '/x', { host: 'api.example.com' })).toBe('exact');
    expect(winner(r, '/x', { host: 'shop.example.com' })).toBe('wildcard');
    expect(winner(r, '/x', { host: 'deep.shop.example.com' })).toBe('wildcard');
    expect(winner(r, '/x', { host: 'example.com' })).toBe('any');
    expect(winner(r, '/x', { host: 'elsewhere.org' })).toBe('any');
    expect(winner(r, '/x')).toBe('any');
  });

  it('prefers the longest wildcard host suffix', () => {
    const r = router([
      { name: 'example', hosts: ['*.example.com'], paths: ['/'] },
      { name: 'eu', hosts: ['*.eu.example.com'], paths: ['/'] },
    ]);
    expect(winner(r, '/', { host: 'shop.eu.example.com' })).toBe('eu');
    expect(winner(r, '/', { host: 'shop.us.example.com' })).toBe('example');
  });

  it('matches hosts case-insensitively and with or without the port', () => {
    const r = router([
      { name: 'bare', hosts: ['api.example.com'], paths: ['/'] },
      { name: 'with-port', hosts: ['admin.example.com:8443'], paths: ['/'] },
    ]);
    expect(winner(r, '/', { host: 'API.Example.com:8080' })).toBe('bare');
    expect(winner(r, '/', { host: 'admin.example.com:8443' })).toBe('with-port');
    expect(winner(r, '/', { host: 'admin.example.com:9000' })).toBeUndefined();
  });

  it('falls back to routes without hosts when the host-specific routes do not match the path', () => {
    const r = router([
      { name: 'api-users', hosts: ['api.example.com'], paths: ['/users'] },
      { name: 'fallback', paths: ['/status-page'] },
    ]);
    expect(winner(r, '/status-page', { host: 'api.example.com' })).toBe('fallback');
    expect(winner(r, '/users', { host: 'other.example.com' })).toBeUndefined();
  });

  it('refuses a "*" that is not the last segment and a parameter with a bad name', () => {
    expect(() => router([{ name: 'r', paths: ['/a/*/b'] }])).toThrow(new PathPatternError('"*" must be the last segment of /a/*/b'));
    expect(() => router([{ name: 'r', paths: ['/a/:1st'] }])).toThrow(PathPatternError);
  });
});
