/** RFC 3986 §2.3 unreserved characters: percent-encoded forms of these are decoded by normalization. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * The form in which an `htu` claim and a request URL are compared (RFC 9449 §4.3 step 9): the URI without its
 * query and fragment, after RFC 3986 §6.2.2 syntax-based normalization (lowercase scheme and host, uppercase
 * percent-encoding hex digits, unreserved characters decoded, dot segments removed) and §6.2.3 scheme-based
 * normalization (default port dropped, empty path as "/"). Only `http` and `https` URIs without user
 * information are comparable; anything else gives `undefined`.
 *
 * @example normalizeHtu('HTTPS://API.Example.com:443/a/../%7euser?x=1#f') // 'https://api.example.com/~user'
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  // The URL parser already lowercased scheme and host, dropped the default port and removed dot segments.
  return `${url.protocol}//${url.host}${normalizePercentEncoding(url.pathname)}`;
}

function normalizePercentEncoding(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}
