import { crc32 } from './crc32.js';

/**
 * The AWS event-stream framing (`application/vnd.amazon.eventstream`), in which Bedrock's ConverseStream answers.
 * Each message (https://docs.aws.amazon.com/lexv2/latest/dg/event-stream-encoding.html) is, big-endian:
 *
 *   total length (4) | headers length (4) | prelude CRC-32 (4) | headers | payload | message CRC-32 (4)
 *
 * and each header is name length (1) | name | value type (1) | value.
 */
export type EventStreamHeaderValue = boolean | number | bigint | string | Uint8Array | Date;

export interface EventStreamMessage {
  headers: Record<string, EventStreamHeaderValue>;
  payload: Buffer;
}

/** Why a byte stream is not a valid event stream; `code` is stable. */
export class EventStreamError extends Error {
  override name = 'EventStreamError';
  constructor(
    readonly code: 'event_stream_prelude_crc_mismatch' | 'event_stream_message_crc_mismatch' | 'event_stream_malformed' | 'event_stream_truncated',
    message: string,
  ) {
    super(message);
  }
}

const PRELUDE_BYTES = 12;
const OVERHEAD_BYTES = 16;
// The framing's own limits: a payload of at most 16 MiB and headers of at most 128 KiB.
const MAX_HEADERS_BYTES = 128 * 1024;
const MAX_MESSAGE_BYTES = OVERHEAD_BYTES + MAX_HEADERS_BYTES + 16 * 1024 * 1024;

const STRING_TYPE = 7;

/**
 * Decodes an event stream fed in arbitrary pieces: bytes go in as they arrive, whole messages come out once both
 * their CRCs check. Throws EventStreamError on a CRC mismatch or a frame that cannot be one.
 */
export class EventStreamDecoder {
  #buffer: Buffer = Buffer.alloc(0);

  push(bytes: Uint8Array): EventStreamMessage[] {
    this.#buffer = this.#buffer.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.#buffer, bytes]);
    const messages: EventStreamMessage[] = [];
    while (this.#buffer.length >= PRELUDE_BYTES) {
      const total = this.#buffer.readUInt32BE(0);
      const headersLength = this.#buffer.readUInt32BE(4);
      if (crc32(this.#buffer.subarray(0, 8)) !== this.#buffer.readUInt32BE(8)) {
        throw new EventStreamError('event_stream_prelude_crc_mismatch', 'an event-stream message prelude failed its CRC-32 check');
      }
      if (total < OVERHEAD_BYTES || total > MAX_MESSAGE_BYTES || headersLength > MAX_HEADERS_BYTES || headersLength > total - OVERHEAD_BYTES) {
        throw new EventStreamError('event_stream_malformed', `an event-stream message declares impossible lengths (total ${total}, headers ${headersLength})`);
      }
      if (this.#buffer.length < total) break;
      const frame = this.#buffer.subarray(0, total);
      this.#buffer = this.#buffer.subarray(total);
      if (crc32(frame.subarray(0, total - 4)) !== frame.readUInt32BE(total - 4)) {
        throw new EventStreamError('event_stream_message_crc_mismatch', 'an event-stream message failed its CRC-32 check');
      }
      messages.push({
        headers: decodeHeaders(frame.subarray(PRELUDE_BYTES, PRELUDE_BYTES + headersLength)),
        payload: Buffer.from(frame.subarray(PRELUDE_BYTES + headersLength, total - 4)),
      });
    }
    return messages;
  }

  /** The stream ended: anything left over is a message cut short. */
  end(): void {
    if (this.#buffer.length > 0) throw new EventStreamError('event_stream_truncated', `the event stream ended inside a message (${this.#buffer.length} bytes left over)`);
  }
}

function decodeHeaders(bytes: Buffer): Record<string, EventStreamHeaderValue> {
  const headers: Record<string, EventStreamHeaderValue> = {};
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new EventStreamError('event_stream_malformed', 'an event-stream header runs past the headers section');
  };
  while (at < bytes.length) {
    need(1);
    const nameLength = bytes.readUInt8(at);
    at += 1;
    need(nameLength + 1);
    const name = bytes.toString('utf8', at, at + nameLength);
    at += nameLength;
    const type = bytes.readUInt8(at);
    at += 1;
    switch (type) {
      case 0:
        headers[name] = true;
        break;
      case 1:
        headers[name] = false;
        break;
      case 2:
        need(1);
        headers[name] = bytes.readInt8(at);
        at += 1;
        break;
      case 3:
        need(2);
        headers[name] = bytes.readInt16BE(at);
        at += 2;
        break;
      case 4:
        need(4);
        headers[name] = bytes.readInt32BE(at);
        at += 4;
        break;
      case 5:
        need(8);
        headers[name] = bytes.readBigInt64BE(at);
        at += 8;
        break;
      case 6:
      case STRING_TYPE: {
        need(2);
        const length = bytes.readUInt16BE(at);
        at += 2;
        need(length);
        headers[name] = type === STRING_TYPE ? bytes.toString('utf8', at, at + length) : new Uint8Array(bytes.subarray(at, at + length));
        at += length;
        break;
      }
      case 8:
        need(8);
        headers[name] = new Date(Number(bytes.readBigInt64BE(at)));
        at += 8;
        break;
      case 9:
        need(16);
        headers[name] = new Uint8Array(bytes.subarray(at, at + 16));
        at += 16;
        break;
      default:
        throw new EventStreamError('event_stream_malformed', `an event-stream header has unknown value type ${type}`);
    }
  }
  return headers;
}

/** Encodes one message with string headers (all ConverseStream uses), CRCs included. */
export function encodeEventStreamMessage(headers: Record<string, string>, payload: Uint8Array): Buffer {
  const headerBytes = Buffer.concat(
    Object.entries(headers).map(([name, value]) => {
      const nameBytes = Buffer.from(name, 'utf8');
      const valueBytes = Buffer.from(value, 'utf8');
      const header = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
      header.writeUInt8(nameBytes.length, 0);
      nameBytes.copy(header, 1);
      header.writeUInt8(STRING_TYPE, 1 + nameBytes.length);
      header.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
      valueBytes.copy(header, 4 + nameBytes.length);
      return header;
    }),
  );
  const total = OVERHEAD_BYTES + headerBytes.length + payload.length;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  headerBytes.copy(message, PRELUDE_BYTES);
  Buffer.from(payload).copy(message, PRELUDE_BYTES + headerBytes.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  return message;
}
