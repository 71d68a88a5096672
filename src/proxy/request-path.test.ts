import { describe, expect, it } from 'vitest';
import { normalizePath, targetPath } from './request-path.js';

describe('normalizePath', () => {
  it.each([
    ['/orders/today', '/orders/today'],
    ['/', '/'],
    ['/public/../admin/users', '/admin/users'],
    ['/public/%2e%2e/admin/users', '/admin/users'],
    ['/public/%2E%2e/admin', '/admin'],
    ['/a/./b/', '/a/b/'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/..', '/'],
    ['//admin//users', '/admin/users'],
    ['/%61dmin/x', '/admin/x'],
    ['/a%7Eb/%2d', '/a~b/-'],
    ['/a%2fb', '/a%2Fb'],
    ['/name%20with%20spaces', '/name%20with%20spaces'],
    ['/x/..%2e/y', '/x/.../y'],
  ])('%s → %s', (raw, normalized) => {
    expect(normalizePath(raw)).toBe(normalized);
  });

  it.each([
    ['*', 'asterisk-form'],
    ['/a%zz', 'a bad escape'],
    ['/a%2', 'a cut escape'],
    ['/a#/../admin', 'a fragment'],
    ['/public/..%2Fadmin/users', 'a dot segment behind an encoded slash'],
    ['/public/..%2fadmin', 'the same in lower case'],
    ['/public/%2e%2e%5Cadmin', 'behind an encoded backslash'],
    ['/public/..\\admin', 'behind a backslash'],
    ['/public/..;/admin/users', 'before path parameters, which Tomcat and Spring drop'],
    ['/public/%2e%2e;x=1/admin', 'the same, escaped'],
    ['/public/.;/admin', 'a single dot the same way'],
  ])('refuses %s (%s)', (raw) => {
    expect(normalizePath(raw)).toBeUndefined();
  });

  it('keeps segments that only contain a semicolon as they are', () => {
    expect(normalizePath('/a/b;v=1/c')).toBe('/a/b;v=1/c');
  });

  it('leaves a path that needs nothing as the same string', () => {
    const path = '/v1/chat/completions';
    expect(normalizePath(path)).toBe(path);
  });
});

describe('targetPath', () => {
  it('splits origin-form and absolute-form targets', () => {
    expect(targetPath('/a/b?x=1')).toEqual({ path: '/a/b' });
    expect(targetPath('http://orders.example/a/b?x=1')).toEqual({ path: '/a/b', host: 'orders.example' });
    expect(targetPath('HTTPS://orders.example:8443')).toEqual({ path: '/', host: 'orders.example:8443' });
  });
});
