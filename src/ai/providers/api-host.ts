/** Hosts already read, by base URL: the adapters ask for a call's host on every answer, and a URL parse costs microseconds. */
const hosts = new Map<string, string>();

/** Base URLs remembered at most: configured providers are few; beyond this the memory starts over. */
const MAX_REMEMBERED = 256;

/**
 * The host a provider's base URL reaches, as the URL parser reads it (case, port, user info, a backslash, a root's
 * dot): how a provider is known to be a given host's, whatever the spelling of its `baseUrl`. Empty when it is no URL.
 *
 * @example apiHostOf('HTTPS://API.DeepSeek.com.:443/') // 'api.deepseek.com'
 */
export function apiHostOf(baseUrl: string): string {
  let host = hosts.get(baseUrl);
  if (host === undefined) {
    try {
      host = new URL(baseUrl).hostname.replace(/\.$/, '');
    } catch {
      host = '';
    }
    if (hosts.size >= MAX_REMEMBERED) hosts.clear();
    hosts.set(baseUrl, host);
  }
  return host;
}
