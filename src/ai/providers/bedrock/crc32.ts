/**
 * CRC-32 as gzip uses it (RFC 1952 §8; ISO 3309 / ITU-T V.42): reflected polynomial 0xEDB88320, initial value and
 * final XOR 0xFFFFFFFF. The AWS event-stream framing checks both its prelude and each whole message with it.
 */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let value = byte;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? (value >>> 1) ^ 0xedb88320 : value >>> 1;
    table[byte] = value >>> 0;
  }
  return table;
})();

/** The CRC-32 of `bytes`, as an unsigned 32-bit integer: crc32(Buffer.from('123456789')) === 0xcbf43926. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (crc >>> 8) ^ (TABLE[(crc ^ byte) & 0xff] as number);
  return (crc ^ 0xffffffff) >>> 0;
}
