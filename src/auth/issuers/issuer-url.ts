import { isIP } from 'node:net';
import { KeygateError } from '../../errors.js';

export interface IssuerUrlOptions {
  /** Accept plain `http:` for hosts other than loopback (e.g. an in-cluster Keycloak). Off by default. */
  allowHttp?: boolean;
  /** Whether a query string is allowed: yes for a `jwks_uri`, no for an issuer identifier (RFC 8414 §2). */
  allowQuery?: boolean;
}

/**
 * Parses the URL of an outside issuer or of its JWK Set. It must be `https:` (OpenID Connect Discovery 1.0 §3,
 * RFC 8414 §2), or `http:` on loopback or when `allowHttp` is set; it must not carry credentials (they would end
 * up in logs) or a fragment. Throws `invalid_config` naming `parameter`.
 *
 * @example parseIssuerUrl('https://login.example.com/realms/main', '"issuer"')
 */
export function parseIssuerUrl(value: string, parameter: string, options: IssuerUrlOptions = {}): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new KeygateError('invalid_config', `${parameter} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (options.allowHttp || isLoopback(url.hostname)))) {
    throw new KeygateError('invalid_config', `${parameter} must be an https: URL (http: is accepted only on loopback, or with allowHttp)`);
  }
  if (url.username || url.password) throw new KeygateError('invalid_config', `${parameter} must not carry credentials`);
  if (url.hash || value.includes('#')) throw new KeygateError('invalid_config', `${parameter} must not have a fragment`);
  if (!options.allowQuery && (url.search || value.includes('?'))) throw new KeygateError('invalid_config', `${parameter} must not have a query`);
  return url;
}

function isLoopback(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}
