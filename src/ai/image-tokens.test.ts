import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { dataUrlImageSize, imageTokens, UNKNOWN_IMAGE_TOKENS } from './image-tokens.js';

/** A whole, valid PNG of this size (grey, 8-bit), as a data: URL. */
function png(width: number, height: number): string {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    // The CRC is not checked by the size reader; zeros keep the test free of a CRC table.
    return Buffer.concat([length, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  const rows = Buffer.alloc((width + 1) * height);
  const bytes = Buffer.concat([Buffer.from([0x89]), Buffer.from('PNG\r\n\x1a\n', 'latin1'), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
  return `data:image/png;base64,${bytes.toString('base64')}`;
}

const dataUrl = (type: string, bytes: Buffer) => `data:${type};base64,${bytes.toString('base64')}`;

describe('the tokens of an image in a prompt', () => {
  it('reads the size of a PNG, a GIF, a WebP (lossy, lossless, extended) and a JPEG from its first bytes', () => {
    expect(dataUrlImageSize(png(300, 200))).toEqual({ width: 300, height: 200 });
    const gif = Buffer.from('GIF89a\x40\x01\xc8\x00', 'latin1');
    expect(dataUrlImageSize(dataUrl('image/gif', gif))).toEqual({ width: 320, height: 200 });
    const lossy = Buffer.alloc(30);
    lossy.write('RIFF', 0, 'latin1');
    lossy.write('WEBPVP8 ', 8, 'latin1');
    lossy.writeUInt16LE(640, 26);
    lossy.writeUInt16LE(480, 28);
    expect(dataUrlImageSize(dataUrl('image/webp', lossy))).toEqual({ width: 640, height: 480 });
    const lossless = Buffer.alloc(30);
    lossless.write('RIFF', 0, 'latin1');
    lossless.write('WEBPVP8L', 8, 'latin1');
    lossless[20] = 0x2f;
    lossless.writeUInt32LE((800 - 1) | ((600 - 1) << 14), 21);
    expect(dataUrlImageSize(dataUrl('image/webp', lossless))).toEqual({ width: 800, height: 600 });
    const extended = Buffer.alloc(30);
    extended.write('RIFF', 0, 'latin1');
    extended.write('WEBPVP8X', 8, 'latin1');
    extended.writeUIntLE(2000 - 1, 24, 3);
    extended.writeUIntLE(1000 - 1, 27, 3);
    expect(dataUrlImageSize(dataUrl('image/webp', extended))).toEqual({ width: 2000, height: 1000 });
    // SOI, an APP1 segment (EXIF's place) of 100 bytes, a DHT that is no frame, then SOF2 (progressive): height, width.
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0x00, 100]), Buffer.alloc(98)]);
    const dht = Buffer.from([0xff, 0xc4, 0x00, 0x04, 0x00, 0x00]);
    const sof = Buffer.from([0xff, 0xc2, 0x00, 0x11, 0x08, 0x01, 0x90, 0x02, 0x58, 0x03]);
    expect(dataUrlImageSize(dataUrl('image/jpeg', Buffer.concat([Buffer.from([0xff, 0xd8]), app1, dht, sof, Buffer.alloc(16)])))).toEqual({ width: 600, height: 400 });
  });

  it("counts an image as Anthropic does: width × height / 750, after fitting it within 1,568 pixels and 1.15 megapixels", () => {
    expect(imageTokens(png(300, 200))).toBe(80);
    expect(imageTokens(png(1000, 1000))).toBe(1334);
    // 3000 × 1000 fits in 1,568 × 523 (820,000 pixels).
    expect(imageTokens(png(3000, 1000))).toBe(Math.ceil((1568 * (1000 * (1568 / 3000))) / 750));
    // 1200 × 1200 is past 1.15 megapixels: it counts as 1.15 megapixels.
    expect(imageTokens(png(1200, 1200))).toBe(Math.ceil(1_150_000 / 750));
  });

  it('counts an image it cannot size (a web URL, an unknown format, a broken data: URL) as the largest', () => {
    for (const url of ['https://example.com/cat.png', 'data:image/png;base64,AAAA', 'data:text/plain,hello', dataUrl('image/bmp', Buffer.from('BM\x00\x00', 'latin1'))]) expect(imageTokens(url)).toBe(UNKNOWN_IMAGE_TOKENS);
  });
});
