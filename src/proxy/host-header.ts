import type { IncomingMessage } from 'node:http';

/**
 * Whether a request has more than one Host header line, which RFC 9112 §3.2 says a server must answer with 400: Node
 * keeps the first, and an upstream that kept another would serve a host the routes never matched.
 */
export function hasSeveralHosts(req: IncomingMessage): boolean {
  const raw = req.rawHeaders;
  let seen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
    if (seen) return true;
    seen = true;
  }
  return false;
}
