import { DpopError } from './dpop-error.js';

/**
 * Confirms that a DPoP-bound access token is bound to the key that signed the proof (RFC 9449 §7.1 and §4.3
 * step 12): the token's `cnf.jkt` (§6.1) must equal the proof key's RFC 7638 thumbprint, as returned by
 * `verifyDpopProof`. A token without `cnf.jkt` is not DPoP-bound and is refused here.
 *
 * @example checkTokenBinding(accessTokenPayload.cnf?.jkt, (await verifyDpopProof(proof, options)).jkt)
 */
export function checkTokenBinding(tokenCnfJkt: string | undefined, proofJkt: string): void {
  if (typeof tokenCnfJkt !== 'string' || tokenCnfJkt === '') {
    throw new DpopError('invalid_dpop_proof', 'the access token is not bound to a DPoP key (no "cnf.jkt")');
  }
  if (tokenCnfJkt !== proofJkt) {
    throw new DpopError('invalid_dpop_proof', 'the proof key does not match the access token\'s "cnf.jkt"');
  }
}
