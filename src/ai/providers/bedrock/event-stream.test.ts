import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';
import { EventStreamDecoder, EventStreamError, encodeEventStreamMessage } from './event-stream.js';

const event = (type: string, payload: unknown) => encodeEventStreamMessage({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, Buffer.from(JSON.stringify(payload)));

describe('the AWS event-stream framing', () => {
  it('computes the CRC-32 check value of "123456789"', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('frames a message without headers as published test vectors do', () => {
    const frame = encodeEventStreamMessage({}, Buffer.from('{"foo": "bar"}'));
    expect([...frame.subarray(0, 12)]).toEqual([0, 0, 0, 30, 0, 0, 0, 0, 186, 242, 246, 138]);
    expect([...frame.subarray(26)]).toEqual([174, 114, 88, 228]);
  });

  it('frames a message with a string header as published test vectors do', () => {
    const frame = encodeEventStreamMessage({ 'content-type': 'application/json' }, Buffer.from('{"foo": "bar"}'));
    expect([...frame.subarray(0, 12)]).toEqual([0, 0, 0, 62, 0, 0, 0, 32, 64, 93, 249, 70]);
    expect([...frame.subarray(58)]).toEqual([111, 162, 191, 59]);
  });

  it('decodes the headers and payload of each message', () => {
    const [message] = new EventStreamDecoder().push(event('messageStart', { role: 'assistant' }));
    expect(message?.headers).toEqual({ ':event-type': 'messageStart', ':content-type': 'application/json', ':message-type': 'event' });
    expect(JSON.parse(message?.payload.toString() ?? '')).toEqual({ role: 'assistant' });
  });

  it('decodes the same messages whatever the byte boundaries', () => {
    const stream = Buffer.concat([event('messageStart', { role: 'assistant' }), event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'héllo' } }), event('messageStop', { stopReason: 'end_turn' })]);
    for (const size of [1, 2, 3, 7, 13, 64, stream.length]) {
      const decoder = new EventStreamDecoder();
      const types: unknown[] = [];
      for (let at = 0; at < stream.length; at += size) for (const m of decoder.push(stream.subarray(at, at + size))) types.push(m.headers[':event-type']);
      decoder.end();
      expect(types).toEqual(['messageStart', 'contentBlockDelta', 'messageStop']);
    }
  });

  it('decodes every header value type', () => {
    const name = (n: string) => Buffer.concat([Buffer.from([n.length]), Buffer.from(n)]);
    const headers = Buffer.concat([
      name('t'), Buffer.from([0]),
      name('f'), Buffer.from([1]),
      name('b'), Buffer.from([2, 0xff]),
      name('s'), Buffer.from([3, 0x01, 0x00]),
      name('i'), Buffer.from([4, 0, 0, 1, 0]),
      name('l'), Buffer.from([5, 0, 0, 0, 0, 0, 0, 0, 9]),
      name('y'), Buffer.from([6, 0, 2, 0xca, 0xfe]),
      name('d'), Buffer.from([8, 0, 0, 0, 0, 0, 0, 0x03, 0xe8]),
      name('u'), Buffer.from([9, ...Array.from({ length: 16 }, (_, i) => i)]),
    ]);
    const total = 16 + headers.length;
    const frame = Buffer.alloc(total);
    frame.writeUInt32BE(total, 0);
    frame.writeUInt32BE(headers.length, 4);
    frame.writeUInt32BE(crc32(frame.subarray(0, 8)), 8);
    headers.copy(frame, 12);
    frame.writeUInt32BE(crc32(frame.subarray(0, total - 4)), total - 4);
    const [message] = new EventStreamDecoder().push(frame);
    expect(message?.headers).toEqual({ t: true, f: false, b: -1, s: 256, i: 256, l: 9n, y: new Uint8Array([0xca, 0xfe]), d: new Date(1000), u: new Uint8Array(Array.from({ length: 16 }, (_, i) => i)) });
  });

  it('refuses a message whose payload fails its CRC', () => {
    const frame = event('contentBlockDelta', { delta: { text: 'hello' } });
    frame.writeUInt8(frame.readUInt8(frame.length - 8) ^ 0x01, frame.length - 8);
    expect(() => new EventStreamDecoder().push(frame)).toThrow(expect.objectContaining({ code: 'event_stream_message_crc_mismatch' }));
  });

  it('refuses a prelude that fails its CRC before waiting for the rest of the message', () => {
    const frame = event('messageStart', { role: 'assistant' });
    frame.writeUInt8(frame.readUInt8(3) ^ 0x01, 3);
    expect(() => new EventStreamDecoder().push(frame.subarray(0, 12))).toThrow(EventStreamError);
  });

  it('reports a stream that ends inside a message', () => {
    const decoder = new EventStreamDecoder();
    decoder.push(event('messageStart', { role: 'assistant' }).subarray(0, 20));
    expect(() => decoder.end()).toThrow(expect.objectContaining({ code: 'event_stream_truncated' }));
  });
});
