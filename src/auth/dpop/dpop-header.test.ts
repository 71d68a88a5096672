import { describe, expect, it } from 'vitest';
import { DpopError } from './dpop-error.js';
import { singleDpopHeader } from './dpop-header.js';

const PROOF = 'eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJqdGkiOiJ4In0.c2ln';

function refusal(work: () => unknown): DpopError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(DpopError);
    return error as DpopError;
  }
  throw new Error('expected a DpopError');
}

describe('singleDpopHeader (RFC 9449 §4.3 step 1)', () => {
  it('returns the one DPoP header of a Node request', () => {
    expect(singleDpopHeader({ host: 'api.example.com', dpop: PROOF })).toBe(PROOF);
  });

  it('finds the header whatever the case of its name', () => {
    expect(singleDpopHeader({ DPoP: PROOF })).toBe(PROOF);
  });

  it('returns the one DPoP header of a Fetch Headers object', () => {
    expect(singleDpopHeader(new Headers({ DPoP: PROOF }))).toBe(PROOF);
  });

  it('refuses a request without a DPoP header', () => {
    expect(refusal(() => singleDpopHeader({ host: 'api.example.com' }))).toMatchObject({ code: 'invalid_dpop_proof', reason: expect.stringContaining('no DPoP header') });
  });

  it('refuses an empty DPoP header', () => {
    expect(refusal(() => singleDpopHeader({ dpop: ' ' })).reason).toContain('no DPoP header');
  });

  it('refuses two DPoP headers given as an array', () => {
    expect(refusal(() => singleDpopHeader({ dpop: [PROOF, PROOF] })).reason).toContain('more than one');
  });

  it('refuses two DPoP headers that Node joined with a comma', () => {
    expect(refusal(() => singleDpopHeader({ dpop: `${PROOF}, ${PROOF}` })).reason).toContain('more than one');
  });

  it('refuses two DPoP headers appended to a Fetch Headers object', () => {
    const headers = new Headers();
    headers.append('DPoP', PROOF);
    headers.append('DPoP', PROOF);
    expect(refusal(() => singleDpopHeader(headers)).reason).toContain('more than one');
  });

  it('refuses two DPoP headers whose names differ only in case', () => {
    expect(refusal(() => singleDpopHeader({ dpop: PROOF, DPoP: PROOF })).reason).toContain('more than one');
  });
});
