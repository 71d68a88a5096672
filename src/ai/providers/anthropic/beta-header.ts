import { ANTHROPIC_BETA, type ChatRequest } from '../../chat-types.js';

/**
 * The `anthropic-beta` header for a call to Anthropic: the features the provider's configured headers name (under any
 * case of the header's name, which is returned so that one header goes, not two), then the client's, each once.
 */
export function betaHeaderFor(configured: Readonly<Record<string, string>> | undefined, request: ChatRequest): { name: string; value: string } | undefined {
  const asked = request[ANTHROPIC_BETA];
  if (!asked?.length) return undefined;
  const name = Object.keys(configured ?? {}).find((key) => key.toLowerCase() === 'anthropic-beta') ?? 'anthropic-beta';
  const own = configured?.[name]?.split(',').map((feature) => feature.trim()).filter((feature) => feature !== '') ?? [];
  return { name, value: [...new Set([...own, ...asked])].join(',') };
}
