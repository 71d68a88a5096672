/**
 * `text` as a URL, or undefined when no URL parser takes it. `URL.parse` does the same, but Node has it only from
 * 20.18, and Keygate runs on 20.11 and later (package.json's engines): `URL.canParse` is there since 19.9.
 */
export function parseUrl(text: string): URL | undefined {
  return URL.canParse(text) ? new URL(text) : undefined;
}
