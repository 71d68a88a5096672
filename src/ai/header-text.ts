const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Text a client chose (a model name) as an HTTP header value: as it is when printable ASCII, else with each other
 * character percent-encoded as its UTF-8 bytes. Node refuses a header value with a control character or one beyond
 * Latin-1 (ERR_INVALID_CHAR), which would fail a call the provider has already answered, and billed.
 */
export function headerText(text: string): string {
  if (PRINTABLE_ASCII.test(text)) return text;
  let out = '';
  for (const char of text) {
    if (PRINTABLE_ASCII.test(char) && char !== '%') out += char;
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
