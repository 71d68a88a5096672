export { ExternalIssuer, type ExternalIssuerConfig, type VerifiedIssuerToken } from './external-issuer.js';
export { RemoteKeySet, REMOTE_KEY_SET_DEFAULTS, type RemoteKeySetOptions, type RemoteKeySetStatus, type KeySelector, type IssuerLogger } from './remote-key-set.js';
export { discoverIssuer, type DiscoverIssuerOptions, type IssuerMetadata } from './discovery.js';
export { IssuerTokenError, IssuerUnavailableError, type IssuerTokenReason, type IssuerFetchReason } from './issuer-errors.js';
export { ISSUER_SIGNATURE_ALGORITHMS } from './signature-algorithms.js';
export { DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_MAX_DOCUMENT_BYTES, type IssuerFetchOptions } from './fetch-issuer-document.js';
