/**
 * What an image in a prompt counts for, in tokens, before any provider has said: Anthropic's rule, width × height / 750,
 * after the image is scaled to fit a long edge of 1,568 pixels and 1.15 megapixels
 * (https://docs.anthropic.com/en/docs/build-with-claude/vision, "Evaluate image size"). Other providers count images
 * their own ways (OpenAI by 512-pixel tiles, or 85 tokens in low detail, its mini models at many times the tokens for
 * a lower price; Gemini by 768-pixel tiles): an estimate for holds, token limits and count_tokens, no provider's
 * count; the least a prompt can cost, which a budget refuses for good, counts its images as nothing
 * (promptMediaTokens apart). An image whose size cannot be read from its bytes (an http(s) URL, which the gateway
 * does not fetch, or a format it does not know) counts as the largest: UNKNOWN_IMAGE_TOKENS.
 */
export const UNKNOWN_IMAGE_TOKENS = 1600;

const MAX_EDGE = 1568;
const MAX_PIXELS = 1_150_000;
/** Base64 characters read to find a size: 192 KiB of the image, past the EXIF data a JPEG may put before its frame. */
const HEAD_CHARS = 262_144;

export function imageTokens(url: string): number {
  const size = dataUrlImageSize(url);
  if (size === undefined) return UNKNOWN_IMAGE_TOKENS;
  const { width, height } = size;
  const scale = Math.min(1, MAX_EDGE / Math.max(width, height), Math.sqrt(MAX_PIXELS / (width * height)));
  return Math.max(1, Math.ceil((width * scale * (height * scale)) / 750));
}

/** The size of a `data:` URL's PNG, GIF, WebP or JPEG image, from its first bytes; undefined for any other URL. */
export function dataUrlImageSize(url: string): { width: number; height: number } | undefined {
  const comma = url.indexOf(',');
  if (!url.startsWith('data:') || comma < 0 || !url.slice(0, comma).endsWith(';base64')) return undefined;
  // Whole base64 quanta only, so that the prefix decodes to the image's own first bytes.
  const head = url.slice(comma + 1, comma + 1 + HEAD_CHARS);
  const bytes = Buffer.from(head.slice(0, head.length - (head.length % 4)), 'base64');
  const size = pngSize(bytes) ?? gifSize(bytes) ?? webpSize(bytes) ?? jpegSize(bytes);
  return size && size.width > 0 && size.height > 0 ? size : undefined;
}

const ascii = (bytes: Buffer, at: number, text: string): boolean => bytes.length >= at + text.length && bytes.toString('latin1', at, at + text.length) === text;

/** PNG: the IHDR chunk, first after the 8-byte signature (width and height big-endian at 16 and 20). */
function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 24 || !ascii(bytes, 1, 'PNG\r\n\x1a\n') || bytes[0] !== 0x89 || !ascii(bytes, 12, 'IHDR')) return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** GIF: the logical screen's size, little-endian at 6 and 8. */
function gifSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 10 || !(ascii(bytes, 0, 'GIF87a') || ascii(bytes, 0, 'GIF89a'))) return undefined;
  return { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
}

/** WebP: its first chunk, lossy (`VP8 `), lossless (`VP8L`) or extended (`VP8X`), each with the size its own way. */
function webpSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 30 || !ascii(bytes, 0, 'RIFF') || !ascii(bytes, 8, 'WEBP')) return undefined;
  if (ascii(bytes, 12, 'VP8 ')) return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
  if (ascii(bytes, 12, 'VP8L')) {
    const bits = bytes.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (ascii(bytes, 12, 'VP8X')) return { width: bytes.readUIntLE(24, 3) + 1, height: bytes.readUIntLE(27, 3) + 1 };
  return undefined;
}

/** JPEG: the frame header (a SOF marker other than DHT, JPG and DAC), found by walking the segments from the start. */
function jpegSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let at = 2;
  while (at + 9 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    // Fill bytes, and markers that stand alone (RSTn, TEM).
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { width: bytes.readUInt16BE(at + 7), height: bytes.readUInt16BE(at + 5) };
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  return undefined;
}
