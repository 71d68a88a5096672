/**
 * What a provider's configured header may be named: an HTTP field name, a token of RFC 9110 §5.6.2, in any case, as
 * providers' docs spell them (`OpenAI-Organization`, `X-API-Key`). A token holds no `:`, which the binding of a
 * sealed header value relies on (sealed-headers.ts).
 */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

/** The characters HEADER_NAME_PATTERN allows, as a refusal names them. */
export const HEADER_NAME_CHARACTERS = "letters, digits and !#$%&'*+-.^_`|~ (an HTTP token, RFC 9110 §5.6.2)";

/**
 * The first two names of `headers` that differ only in case: one header given twice, since field names are
 * case-insensitive (RFC 9110 §5.1). Undefined when there are none.
 *
 * @example caseTwins({ 'X-Org': 'a', 'x-org': 'b' }) // ['X-Org', 'x-org']
 */
export function caseTwins(headers: Readonly<Record<string, unknown>>): [string, string] | undefined {
  const seen = new Map<string, string>();
  for (const name of Object.keys(headers)) {
    const first = seen.get(name.toLowerCase());
    if (first !== undefined) return [first, name];
    seen.set(name.toLowerCase(), name);
  }
  return undefined;
}

/**
 * `headers` with their names in lower case, the case every adapter writes its credential header in, so that the
 * pooled key's header replaces a configured one of the same name rather than going out beside it (undici sends both,
 * and a provider reads them joined: `x-api-key: static, sk-ant-…`). Of twins a store kept from before they were
 * refused (caseTwins), the one already in lower case is kept, else the first. The same object when all are lower case.
 */
export function lowerCaseHeaderNames<T>(headers: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
  const names = Object.keys(headers);
  if (names.every((name) => name === name.toLowerCase())) return headers;
  const lowered: Record<string, T> = {};
  for (const name of names) {
    const lower = name.toLowerCase();
    if (!Object.hasOwn(lowered, lower) || name === lower) lowered[lower] = headers[name]!;
  }
  return lowered;
}
