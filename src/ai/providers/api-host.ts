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

/** A provider as far as its host is known: the catalog it is priced from (`catalog`, else its type) and its base URL. */
interface HostedProvider {
  catalog?: string;
  type: string;
  baseUrl?: string;
}

/**
 * Whether a provider is one of a host's: priced from one of `keys` of the catalog, or with a base URL on one of
 * `hosts`. How the adapters know which host's ways to read an answer with (OpenRouter's failed choices, Together's
 * cache reads, the hosts that refuse the history's reasoning).
 *
 * @example isProviderOf({ type: 'openai-compatible', baseUrl: 'https://OpenRouter.ai/api' }, ['openrouter'], ['openrouter.ai']) // true
 */
export function isProviderOf(provider: HostedProvider, keys: readonly string[], hosts: ReadonlySet<string>): boolean {
  return keys.includes(provider.catalog ?? provider.type) || (hosts.size > 0 && hosts.has(apiHostOf(provider.baseUrl ?? '')));
}
