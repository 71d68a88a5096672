export { verifyDpopProof, DPOP_SIGNING_ALGORITHMS, type VerifyDpopProofOptions, type VerifiedDpopProof } from './verify-dpop-proof.js';
export { singleDpopHeader, type DpopHeaderSource } from './dpop-header.js';
export { checkTokenBinding } from './token-binding.js';
export { DpopError, type DpopErrorCode } from './dpop-error.js';
export { InMemoryDpopReplayCache, type DpopReplayCache, type InMemoryDpopReplayCacheOptions } from './replay-cache.js';
export { accessTokenHash } from './access-token-hash.js';
export { normalizeHtu } from './htu.js';
export { createDpopProof, type DpopProofInput } from './dpop-client.js';
