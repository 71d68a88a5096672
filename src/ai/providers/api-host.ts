/**
 * The host a provider's base URL reaches, as the URL parser reads it (case, port, user info, a backslash, a root's
 * dot): how a provider is known to be a given host's, whatever the spelling of its `baseUrl`. Empty when it is no URL.
 *
 * @example apiHostOf('HTTPS://API.DeepSeek.com.:443/') // 'api.deepseek.com'
 */
export function apiHostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).hostname.replace(/\.$/, '');
  } catch {
    return '';
  }
}
