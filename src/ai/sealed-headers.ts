import { openSecret, sealSecret } from '../keys/index.js';
import type { AiProviderSpec, AiSection } from './ai-schema.js';
import { isCredentialHeader } from './secret-redaction.js';

/**
 * A provider header's value at rest: a flattened JWE (RFC 7516 §7.2.2, `dir` + `A256GCM` under the master key, as
 * sealSecret makes it) for a credential header; text for any other header, and for a credential header a release
 * before sealing stored.
 */
export type StoredHeaderValue = string | Readonly<Record<string, string>>;

/** The `ai` section as the store holds it: each provider's credential headers sealed. */
export type StoredAiSection = Omit<AiSection, 'providers'> & {
  providers: Array<Omit<AiProviderSpec, 'headers'> & { headers?: Record<string, StoredHeaderValue> }>;
};

/**
 * What a sealed value is bound to (its additional authenticated data): the provider's name and the header's. Neither
 * can hold a `:` (schema), so no two pairs make one text; a value copied to another provider or header does not open.
 */
const binding = (provider: string, header: string) => `config_sections:ai:${provider}:headers:${header}`;

/**
 * `ai` as the store keeps it: the value of each header that carries a credential (isCredentialHeader, the rule
 * that shows it `[redacted]`) sealed under the master key, every other header in clear. A value already sealed (of
 * a stored section) is kept as it is.
 */
export async function sealCredentialHeaders(ai: AiSection | StoredAiSection, masterKey: Uint8Array): Promise<StoredAiSection> {
  return {
    ...ai,
    providers: await Promise.all(
      ai.providers.map(async (provider) => {
        if (!provider.headers) return provider;
        const headers = await Promise.all(
          Object.entries(provider.headers).map(async ([name, value]): Promise<[string, StoredHeaderValue]> => [
            name,
            typeof value === 'string' && isCredentialHeader(name) ? (JSON.parse(await sealSecret(masterKey, value, binding(provider.name, name))) as Record<string, string>) : value,
          ]),
        );
        return { ...provider, headers: Object.fromEntries(headers) };
      }),
    ),
  };
}

/**
 * The stored `ai` section with its sealed headers opened. A value in clear is read as it is (a release before sealing
 * stored it so). One that does not open (the row altered, or copied from a store under another master key) is left
 * out and told to `onUnopenable`: the node still compiles, and applying the config with the value stores it again.
 */
export async function openCredentialHeaders(stored: StoredAiSection, masterKey: Uint8Array, onUnopenable: (provider: string, header: string) => void): Promise<AiSection> {
  const providers: AiProviderSpec[] = [];
  // One at a time: what does not open is told in the config's order.
  for (const provider of stored.providers) {
    if (!provider.headers) {
      providers.push(provider as AiProviderSpec);
      continue;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(provider.headers)) {
      if (typeof value === 'string') headers[name] = value;
      else {
        try {
          headers[name] = await openSecret(masterKey, JSON.stringify(value), binding(provider.name, name));
        } catch {
          onUnopenable(provider.name, name);
        }
      }
    }
    providers.push({ ...provider, headers } as AiProviderSpec);
  }
  return { ...stored, providers };
}

/** Whether the stored section holds a credential header in clear, as releases before sealing stored every one. */
export const holdsCredentialsInClear = (stored: StoredAiSection): boolean =>
  stored.providers.some((provider) => Object.entries(provider.headers ?? {}).some(([name, value]) => typeof value === 'string' && isCredentialHeader(name)));
