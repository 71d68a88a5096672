/** A JSON object: what a request body, a provider's answer and most of their members must be (not null, not an array). */
export const isJsonObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A JSON value's type as OpenAI names it in its refusals ("expected a string, but got an integer instead"): `an
 * array`, `an object`, `null`, `an integer`, `a decimal`, `a string`, `a boolean`.
 */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
