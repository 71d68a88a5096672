/**
 * What an emulated model writes for a JSON schema (a tool's parameters, a structured output's schema): a value that
 * satisfies it, the same every time, so that a tool's arguments follow the tool the model was given, as a real
 * model's do. Strings are "Paris", numbers 21.
 */
export function sampleOf(schema: Record<string, unknown> | undefined): unknown {
  if (!schema) return null;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>).map(([key, value]) => [key, sampleOf(value)]));
    case 'array':
      return [sampleOf((schema.items ?? {}) as Record<string, unknown>)];
    case 'string':
      return 'Paris';
    case 'number':
    case 'integer':
      return 21;
    case 'boolean':
      return true;
    default:
      return null;
  }
}
