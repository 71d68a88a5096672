import { describe, expect, it } from 'vitest';
import { claimAt } from './principal.js';

describe('reading a claim by path', () => {
  const claims = {
    sub: 'user-7',
    realm_access: { roles: ['admin', 'billing'] },
    'https://example.com/roles': ['editor'],
    'https://example.com/app_metadata': { plan: 'gold', 'limits.v2': { rpm: 60 } },
    'a.b': 'the dotted name',
    a: { b: 'the nested member' },
    groups: ['ops', 'dev'],
  };

  it('follows dotted paths through nested members', () => {
    expect(claimAt(claims, 'sub')).toBe('user-7');
    expect(claimAt(claims, 'realm_access.roles')).toEqual(['admin', 'billing']);
    expect(claimAt(claims, 'groups.1')).toBe('dev');
  });

  it("reaches claims whose own names hold dots, such as Auth0's namespaced ones, and members below them", () => {
    expect(claimAt(claims, 'https://example.com/roles')).toEqual(['editor']);
    expect(claimAt(claims, 'https://example.com/app_metadata.plan')).toBe('gold');
    expect(claimAt(claims, 'https://example.com/app_metadata.limits.v2.rpm')).toBe(60);
  });

  it('prefers the longest member name when a dotted name and a nested path both exist', () => {
    expect(claimAt(claims, 'a.b')).toBe('the dotted name');
  });

  it('finds nothing for missing members, paths through non-objects, or inherited properties', () => {
    expect(claimAt(claims, 'realm_access.groups')).toBeUndefined();
    expect(claimAt(claims, 'sub.length')).toBeUndefined();
    expect(claimAt(claims, 'constructor')).toBeUndefined();
    expect(claimAt(claims, 'realm_access.__proto__')).toBeUndefined();
    expect(claimAt(claims, 'https://example.com')).toBeUndefined();
  });
});
