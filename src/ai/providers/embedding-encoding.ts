/** OpenAI's `encoding_format: base64` for providers that answer floats: the vector's little-endian float32 bytes. */
export function base64Of(values: readonly number[]): string {
  const floats = Float32Array.from(values);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}
