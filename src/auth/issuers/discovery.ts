import { fetchIssuerDocument, type IssuerFetchOptions } from './fetch-issuer-document.js';
import { IssuerUnavailableError } from './issuer-errors.js';
import { parseIssuerUrl } from './issuer-url.js';

export interface DiscoverIssuerOptions extends IssuerFetchOptions {
  /** Accept plain `http:` URLs off loopback, for the issuer and its `jwks_uri`. */
  allowHttp?: boolean;
}

/** What the gateway needs from an issuer's metadata. */
export interface IssuerMetadata {
  /** The issuer identifier, exactly as configured and as the document states it. */
  issuer: string;
  /** Where the issuer publishes its JWK Set. */
  jwksUri: string;
  /** `id_token_signing_alg_values_supported` (OpenID Connect Discovery 1.0 §3); empty when the document is silent. */
  signingAlgorithms: string[];
  /** The document's URL. */
  metadataUrl: string;
}

/**
 * Finds an issuer's JWK Set from its identifier alone. Fetches OpenID Connect Discovery 1.0 §4
 * (`{issuer}/.well-known/openid-configuration`), and when that answers with an HTTP error, the OAuth 2.0
 * Authorization Server Metadata of RFC 8414 §3 (`/.well-known/oauth-authorization-server` inserted before the
 * issuer's path). The document's `issuer` must equal the configured one exactly (Discovery §4.3, RFC 8414 §3.3),
 * which stops one issuer's metadata from standing in for another's. Throws {@link IssuerUnavailableError}
 * (`issuer_mismatch`, `invalid_metadata`, or the fetch's reason), and `invalid_config` for a bad issuer URL.
 *
 * @example const { jwksUri } = await discoverIssuer('https://tenant.example.auth0.com/');
 */
export async function discoverIssuer(issuer: string, options: DiscoverIssuerOptions = {}): Promise<IssuerMetadata> {
  const issuerUrl = parseIssuerUrl(issuer, '"issuer"', { allowHttp: options.allowHttp });
  const path = issuerUrl.pathname.replace(/\/$/, '');
  const candidates = [
    new URL(`${issuerUrl.origin}${path}/.well-known/openid-configuration`),
    new URL(`${issuerUrl.origin}/.well-known/oauth-authorization-server${path}`),
  ];

  let lastError: IssuerUnavailableError | undefined;
  for (const metadataUrl of candidates) {
    let json: unknown;
    try {
      ({ json } = await fetchIssuerDocument(metadataUrl, options));
    } catch (error) {
      if (error instanceof IssuerUnavailableError && error.reason === 'http_status') {
        lastError = error;
        continue;
      }
      throw error;
    }
    return metadataFrom(json, issuer, metadataUrl, options);
  }
  throw lastError ?? new IssuerUnavailableError('unreachable');
}

function metadataFrom(json: unknown, issuer: string, metadataUrl: URL, options: DiscoverIssuerOptions): IssuerMetadata {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new IssuerUnavailableError('invalid_metadata');
  const document = json as Record<string, unknown>;
  if (document.issuer !== issuer) throw new IssuerUnavailableError('issuer_mismatch');
  if (typeof document.jwks_uri !== 'string') throw new IssuerUnavailableError('invalid_metadata');
  try {
    parseIssuerUrl(document.jwks_uri, '"jwks_uri"', { allowHttp: options.allowHttp, allowQuery: true });
  } catch {
    throw new IssuerUnavailableError('invalid_metadata');
  }
  const algorithms = document.id_token_signing_alg_values_supported;
  return {
    issuer,
    jwksUri: document.jwks_uri,
    signingAlgorithms: Array.isArray(algorithms) ? algorithms.filter((alg): alg is string => typeof alg === 'string') : [],
    metadataUrl: metadataUrl.toString(),
  };
}
