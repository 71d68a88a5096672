/** OpenAI's `encoding_format: base64` for providers that answer floats: the vector's little-endian float32 bytes. */
export function base64Of(values: readonly number[]): string {
  const floats = Float32Array.from(values);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

/** The float32 values a base64 vector (OpenAI's `encoding_format: base64`) holds. */
export function floatsOf(base64: string): number[] {
  const bytes = Buffer.from(base64, 'base64');
  return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4)));
}

/**
 * A host's vector as the client asked for it: floats a host answered to a base64 request (one that does not take
 * `encoding_format`, as some OpenAI-compatible servers do not) become base64, and the reverse, since the `openai`
 * SDK asks for base64 and reads a float array as no vector at all.
 */
export function vectorAs(format: 'float' | 'base64' | undefined, vector: unknown): unknown {
  if (format === 'base64' && Array.isArray(vector)) return base64Of(vector as number[]);
  if (format !== 'base64' && typeof vector === 'string') return floatsOf(vector);
  return vector;
}
