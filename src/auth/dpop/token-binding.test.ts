import { describe, expect, it } from 'vitest';
import { DpopError } from './dpop-error.js';
import { checkTokenBinding } from './token-binding.js';

const JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I';

describe('checkTokenBinding (RFC 9449 §7.1)', () => {
  it('accepts a proof key whose thumbprint is the token\'s "cnf.jkt"', () => {
    expect(() => checkTokenBinding(JKT, JKT)).not.toThrow();
  });

  it('refuses a proof key whose thumbprint differs from the token\'s "cnf.jkt"', () => {
    expect(() => checkTokenBinding(JKT, 'another-thumbprint')).toThrow(expect.objectContaining({ code: 'invalid_dpop_proof', reason: expect.stringContaining('"cnf.jkt"') }));
  });

  it('refuses a token that is not bound to any key', () => {
    expect(() => checkTokenBinding(undefined, JKT)).toThrow(DpopError);
    expect(() => checkTokenBinding('', JKT)).toThrow(expect.objectContaining({ code: 'invalid_dpop_proof' }));
  });
});
