/**
 * The request's path as routes see it and upstreams receive it. Routing on the raw text and forwarding it would
 * let `/public/../admin/users` (or `/public/%2e%2e/admin/users`) pass the checks of the `/public/*` route and then
 * reach `/admin/users` at an upstream that resolves it, as nginx, Tomcat and Spring do. So the path is normalized
 * once (RFC 3986 §6.2.2), before anything looks at it, and the normalized path is the one forwarded.
 */

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const HEX = /^[0-9A-Fa-f]{2}$/;

/** One segment with its unreserved characters decoded and other escapes' hex upper-cased; undefined for a bad escape. */
function normalizeSegment(segment: string): string | undefined {
  if (!segment.includes('%')) return segment;
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const hex = segment.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return undefined;
    const decoded = String.fromCharCode(parseInt(hex, 16));
    out += UNRESERVED.test(decoded) ? decoded : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return out;
}

/**
 * Whether a segment holds a dot segment that some upstreams honour and the gateway would not see: behind an
 * encoded slash or backslash (`..%2F`) or a raw backslash (`..\`), or before path parameters (`..;x`).
 */
function hidesDotSegment(segment: string): boolean {
  // `..;x` is `..` to Tomcat and Spring, which drop a segment's `;` parameters before resolving it.
  const semicolon = segment.indexOf(';');
  if (semicolon !== -1 && (segment.slice(0, semicolon) === '.' || segment.slice(0, semicolon) === '..')) return true;
  if (!segment.includes('\\') && !segment.includes('%2F') && !segment.includes('%5C')) return false;
  return segment
    .replaceAll('%2F', '/')
    .replaceAll('%5C', '/')
    .split(/[/\\]/)
    .some((piece) => piece === '.' || piece === '..');
}

/**
 * The normalized path of an origin-form request target's path (`/a/b`, without its query): percent-encoded
 * unreserved characters decoded and other escapes upper-cased (§6.2.2.1–2), dot segments removed (§5.2.4), and
 * runs of slashes merged (nginx's `merge_slashes`: `//admin` is `/admin` to such an upstream). Undefined for a
 * path no route may take:
 * - one that does not start with `/` (asterisk-form `*`; absolute-form is reduced to its path by the caller);
 * - a `%` without two hex digits after it, or a `#` (a fragment is never part of a request target, RFC 9112 §3.2);
 * - a dot segment behind an encoded slash or a backslash, which an upstream might decode and resolve.
 */
export function normalizePath(path: string): string | undefined {
  if (path.charCodeAt(0) !== 0x2f) return undefined;
  // Most paths need nothing: no escape, no dot segment, no empty segment, no backslash, no fragment.
  if (!path.includes('%') && !path.includes('/.') && !path.includes('//') && !path.includes('\\') && !path.includes('#')) return path;
  if (path.includes('#')) return undefined;
  const raw = path.split('/');
  const out: string[] = [];
  let trailingSlash = false;
  // raw[0] is the empty text before the leading slash.
  for (let i = 1; i < raw.length; i++) {
    const segment = normalizeSegment(raw[i]!);
    if (segment === undefined || hidesDotSegment(segment)) return undefined;
    const last = i === raw.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..') out.pop();
      // `/a/b/..` is `/a/`: a dot segment at the end leaves the slash before it (§5.2.4).
      trailingSlash = last;
    } else if (segment === '') {
      // An empty segment at the end is a trailing slash; elsewhere two slashes in a row, merged.
      trailingSlash = last;
    } else {
      out.push(segment);
      trailingSlash = false;
    }
  }
  return `/${out.join('/')}${trailingSlash && out.length > 0 ? '/' : ''}`;
}

/**
 * The path and authority of a request target (RFC 9112 §3.2): origin-form as it is, absolute-form
 * (`http://host/path`, which a server must accept, and whose authority replaces the Host header) split.
 */
export function targetPath(url: string): { path: string; host?: string } {
  const q = url.indexOf('?');
  const beforeQuery = q === -1 ? url : url.slice(0, q);
  const scheme = /^https?:\/\//i.exec(beforeQuery);
  if (!scheme) return { path: beforeQuery };
  const rest = beforeQuery.slice(scheme[0].length);
  const slash = rest.indexOf('/');
  return slash === -1 ? { path: '/', host: rest } : { path: rest.slice(slash), host: rest.slice(0, slash) };
}
