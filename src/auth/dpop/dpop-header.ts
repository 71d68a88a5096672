import { DpopError } from './dpop-error.js';

/** Request headers as Node gives them (`req.headers`, `req.headersDistinct`) or as a Fetch `Headers`. */
export type DpopHeaderSource = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The one `DPoP` request header value (RFC 9449 §4.3 step 1: "there is not more than one DPoP HTTP request
 * header field"). Node and Fetch join repeated fields with ", ", and a compact JWT never contains a comma, so a
 * comma means a second value.
 *
 * @example singleDpopHeader(req.headers) // 'eyJ0eXAiOiJkcG9wK2p3dCIs…'
 */
export function singleDpopHeader(headers: DpopHeaderSource): string {
  const values = dpopFieldValues(headers).flatMap((value) => value.split(',').map((part) => part.trim()));
  if (values.length > 1) throw new DpopError('invalid_dpop_proof', 'the request carries more than one DPoP header');
  const [proof] = values;
  if (proof === undefined || proof === '') throw new DpopError('invalid_dpop_proof', 'the request carries no DPoP header');
  return proof;
}

function dpopFieldValues(headers: DpopHeaderSource): string[] {
  if (headers instanceof Headers) {
    const value = headers.get('dpop');
    return value === null ? [] : [value];
  }
  // Node lowercases field names; a hand-built record may not, and field names are case-insensitive (RFC 9110 §5.1).
  const values: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'dpop' || value === undefined) continue;
    if (typeof value === 'string') values.push(value);
    else values.push(...value);
  }
  return values;
}
