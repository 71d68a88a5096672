import { describe, expect, it } from 'vitest';
import { normalizeHtu } from './htu.js';

describe('normalizeHtu (RFC 9449 §4.3 step 9, RFC 3986 §6.2.2 and §6.2.3)', () => {
  it.each([
    ['HTTPS://API.Example.COM/orders', 'https://api.example.com/orders'],
    ['https://api.example.com:443/orders', 'https://api.example.com/orders'],
    ['http://api.example.com:80/orders', 'http://api.example.com/orders'],
    ['https://api.example.com:8443/orders', 'https://api.example.com:8443/orders'],
    ['https://api.example.com', 'https://api.example.com/'],
    ['https://api.example.com/a/./b/../orders', 'https://api.example.com/a/orders'],
    ['https://api.example.com/%7euser/%2fx', 'https://api.example.com/~user/%2Fx'],
    ['https://api.example.com/orders?page=1#top', 'https://api.example.com/orders'],
  ])('normalizes %s to %s', (input, expected) => {
    expect(normalizeHtu(input)).toBe(expected);
  });

  it('keeps the case of the path', () => {
    expect(normalizeHtu('https://api.example.com/Orders')).not.toBe(normalizeHtu('https://api.example.com/orders'));
  });

  it.each(['not a url', '/orders', 'ftp://api.example.com/orders', 'https://user:pass@api.example.com/orders'])('refuses to compare %s', (input) => {
    expect(normalizeHtu(input)).toBeUndefined();
  });
});
