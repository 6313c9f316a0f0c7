/**
 * Writes docs/protocols/vectors/framing/{stream,datagram}.json (framing.md §8).
 *
 * The bytes are built here with plain Buffer writes (writeUInt32BE, writeBigUInt64LE), NOT
 * with the package's encoder, so the vectors are an independent statement of the layout and
 * the tests (vectors.test.ts) check the codec against them. Regenerate only when the spec
 * changes:
 *
 *   node --conditions=@edgebox/source --import tsx packages/framing/test/vectors-generate.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = join(import.meta.dirname, '../../../docs/protocols/vectors/framing');

interface StreamFields {
  type: number;
  flags: number;
  channel: number;
  payload: string;
}

function streamFrame(f: StreamFields, overrides: { version?: number; reserved?: number; length?: number } = {}): string {
  const payload = Buffer.from(f.payload, 'hex');
  const h = Buffer.alloc(12);
  h.writeUInt8(overrides.version ?? 1, 0);
  h.writeUInt8(f.type, 1);
  h.writeUInt8(f.flags, 2);
  h.writeUInt8(overrides.reserved ?? 0, 3);
  h.writeUInt32BE(f.channel, 4);
  h.writeUInt32BE(overrides.length ?? payload.length, 8);
  return Buffer.concat([h, payload]).toString('hex');
}

const seq = (n: number, start = 0): string => Buffer.from(Array.from({ length: n }, (_, i) => (start + i) & 0xff)).toString('hex');

function valid(name: string, description: string, f: StreamFields, options?: Record<string, unknown>) {
  return { name, description, ...(options === undefined ? {} : { options }), ...f, hex: streamFrame(f) };
}

const stream = {
  description:
    'edgebox framing v1 stream frames (framing.md §3). valid: decoding hex yields exactly the one frame {type, flags, channel, payload}, and encoding the fields yields hex. invalid: push hex into a decoder created with options, read() until null, then end(); the first error raised must have code `error`, after `framesBefore` frames.',
  version: 1,
  headerBytes: 12,
  valid: [
    valid('ping-empty', 'connection-level frame, empty payload', { type: 0x12, flags: 0, channel: 0, payload: '' }),
    valid('data-hello', 'small payload on channel 1', { type: 0x11, flags: 0, channel: 1, payload: Buffer.from('hello').toString('hex') }),
    valid('data-fin-max-channel', 'FIN flag on the largest channel id', { type: 0x11, flags: 0x01, channel: 0xffffffff, payload: 'aabbcc' }),
    valid('all-flags-channel-order', 'every flag bit; channel bytes show big-endian order', {
      type: 0xef,
      flags: 0xff,
      channel: 0x01020304,
      payload: seq(16),
    }),
    valid('length-300', 'length field above 255 shows big-endian order (00 00 01 2c)', { type: 0x10, flags: 0, channel: 7, payload: seq(300, 7) }),
    valid('at-limit', 'payload exactly maxPayload (16) is accepted', { type: 0x11, flags: 0, channel: 2, payload: seq(16, 0x80) }, { maxPayload: 16 }),
    valid('known-type-allowed-flags', 'registry {0x11: FIN}: FIN allowed', { type: 0x11, flags: 0x01, channel: 3, payload: '00' }, { knownTypes: [[0x11, 0x01]] }),
  ],
  invalid: [
    { name: 'version-0', hex: streamFrame({ type: 0x11, flags: 0, channel: 1, payload: '00' }, { version: 0 }), error: 'FRAMING_BAD_VERSION', framesBefore: 0 },
    { name: 'version-2', hex: streamFrame({ type: 0x11, flags: 0, channel: 1, payload: '00' }, { version: 2 }), error: 'FRAMING_BAD_VERSION', framesBefore: 0 },
    { name: 'reserved-nonzero', hex: streamFrame({ type: 0x11, flags: 0, channel: 1, payload: '00' }, { reserved: 0x80 }), error: 'FRAMING_RESERVED', framesBefore: 0 },
    {
      name: 'too-large-header-only',
      description: 'length 70000 > maxPayload 65535: refused from the header alone, no payload needed',
      options: { maxPayload: 65535 },
      hex: streamFrame({ type: 0x11, flags: 0, channel: 1, payload: '' }, { length: 70000 }),
      error: 'FRAMING_TOO_LARGE',
      framesBefore: 0,
    },
    {
      name: 'limit-plus-one',
      description: 'length 17 > maxPayload 16',
      options: { maxPayload: 16 },
      hex: streamFrame({ type: 0x11, flags: 0, channel: 1, payload: seq(17) }),
      error: 'FRAMING_TOO_LARGE',
      framesBefore: 0,
    },
    {
      name: 'over-default-limit',
      description: 'length 262145 > default 262144',
      hex: streamFrame({ type: 0x11, flags: 0, channel: 1, payload: '' }, { length: 256 * 1024 + 1 }),
      error: 'FRAMING_TOO_LARGE',
      framesBefore: 0,
    },
    { name: 'length-u32-max', hex: streamFrame({ type: 0x11, flags: 0, channel: 1, payload: '' }, { length: 0xffffffff }), error: 'FRAMING_TOO_LARGE', framesBefore: 0 },
    { name: 'truncated-header', description: '6 of 12 header bytes, then end of stream', hex: '011100000000', error: 'FRAMING_TRUNCATED', framesBefore: 0 },
    {
      name: 'truncated-payload',
      description: 'length 5, 3 payload bytes, then end of stream',
      hex: streamFrame({ type: 0x11, flags: 0, channel: 1, payload: 'aabbcc' }, { length: 5 }),
      error: 'FRAMING_TRUNCATED',
      framesBefore: 0,
    },
    {
      name: 'unknown-type',
      options: { knownTypes: [0x10, 0x11] },
      hex: streamFrame({ type: 0x99, flags: 0, channel: 1, payload: '' }),
      error: 'FRAMING_UNKNOWN_TYPE',
      framesBefore: 0,
    },
    {
      name: 'flag-not-allowed',
      description: 'registry {0x11: FIN}, flags ACK',
      options: { knownTypes: [[0x11, 0x01]] },
      hex: streamFrame({ type: 0x11, flags: 0x02, channel: 1, payload: '' }),
      error: 'FRAMING_RESERVED',
      framesBefore: 0,
    },
    {
      name: 'error-after-valid-frame',
      description: 'one good frame, then a bad version: the good frame is delivered first',
      hex: streamFrame({ type: 0x11, flags: 0, channel: 1, payload: 'aa' }) + streamFrame({ type: 0x11, flags: 0, channel: 1, payload: 'bb' }, { version: 3 }),
      error: 'FRAMING_BAD_VERSION',
      framesBefore: 1,
    },
  ],
};

interface DatagramFields {
  type: number;
  flags: number;
  receiver: number;
  counter: string;
  body: string;
}

function datagram(f: DatagramFields, overrides: { version?: number; reserved?: number } = {}): string {
  const h = Buffer.alloc(16);
  h.writeUInt8(overrides.version ?? 1, 0);
  h.writeUInt8(f.type, 1);
  h.writeUInt8(f.flags, 2);
  h.writeUInt8(overrides.reserved ?? 0, 3);
  h.writeUInt32BE(f.receiver, 4);
  h.writeBigUInt64LE(BigInt(f.counter), 8);
  return Buffer.concat([h, Buffer.from(f.body, 'hex')]).toString('hex');
}

function dvalid(name: string, description: string, f: DatagramFields, counterNumber: number) {
  return { name, description, ...f, counterNumber, hex: datagram(f) };
}

const tag = seq(16, 0xf0);
const dg = {
  description:
    'edgebox framing v1 datagrams (framing.md §4). counter is a decimal string (u64, little-endian on the wire); counterNumber is the number accessor (-1 above 2^53-1). valid: decoding hex yields the fields, header = hex[0..16), body = hex[16..); encoding the fields yields hex. invalid: decodeDatagram(hex, options) raises `error`.',
  version: 1,
  headerBytes: 16,
  valid: [
    dvalid('counter-0', 'first packet of a session, empty body', { type: 0x40, flags: 0, receiver: 1, counter: '0', body: '' }, 0),
    dvalid('counter-1-tag-only', 'body is a bare 16-byte tag (keepalive)', { type: 0x41, flags: 0, receiver: 0x0a0b0c0d, counter: '1', body: tag }, 1),
    dvalid('counter-byte-order', 'counter 0x0102030405060708 (above 2^53: number accessor -1): bytes 08 07 06 05 04 03 02 01', { type: 0x40, flags: 0, receiver: 2, counter: '72623859790382856', body: 'ff' }, -1),
    dvalid('counter-2^32', 'low word 0, high word 1', { type: 0x40, flags: 0x01, receiver: 3, counter: '4294967296', body: seq(20) }, 4294967296),
    dvalid('counter-2^53-1', 'largest counter the number accessor returns', { type: 0x40, flags: 0, receiver: 4, counter: '9007199254740991', body: tag }, 9007199254740991),
    dvalid('counter-2^53', 'number accessor returns -1; bigint exact', { type: 0x40, flags: 0, receiver: 5, counter: '9007199254740992', body: tag }, -1),
    dvalid('counter-2^64-1', 'all ones; every flag; largest receiver', { type: 0xef, flags: 0xff, receiver: 0xffffffff, counter: '18446744073709551615', body: tag }, -1),
  ],
  invalid: [
    { name: 'empty', hex: '', error: 'FRAMING_TRUNCATED' },
    { name: 'header-15-bytes', hex: datagram({ type: 0x40, flags: 0, receiver: 1, counter: '0', body: '' }).slice(0, 30), error: 'FRAMING_TRUNCATED' },
    { name: 'version-0', hex: datagram({ type: 0x40, flags: 0, receiver: 1, counter: '0', body: tag }, { version: 0 }), error: 'FRAMING_BAD_VERSION' },
    { name: 'version-2', hex: datagram({ type: 0x40, flags: 0, receiver: 1, counter: '0', body: tag }, { version: 2 }), error: 'FRAMING_BAD_VERSION' },
    { name: 'reserved-nonzero', hex: datagram({ type: 0x40, flags: 0, receiver: 1, counter: '0', body: tag }, { reserved: 1 }), error: 'FRAMING_RESERVED' },
    {
      name: 'handshake-init-prefix',
      description: 'a handshake Init (type 0x01, byte 3 = auth mode) is not a datagram: dispatch on byte 1 before decoding (§6)',
      hex: '0101010102' + '01'.repeat(11),
      error: 'FRAMING_RESERVED',
    },
    {
      name: 'too-large',
      description: '33 bytes > maxDatagram 32',
      options: { maxDatagram: 32 },
      hex: datagram({ type: 0x40, flags: 0, receiver: 1, counter: '0', body: seq(17) }),
      error: 'FRAMING_TOO_LARGE',
    },
    { name: 'unknown-type', options: { knownTypes: [0x40, 0x41] }, hex: datagram({ type: 0x42, flags: 0, receiver: 1, counter: '0', body: tag }), error: 'FRAMING_UNKNOWN_TYPE' },
    {
      name: 'flag-not-allowed',
      options: { knownTypes: [[0x40, 0x01]] },
      hex: datagram({ type: 0x40, flags: 0x80, receiver: 1, counter: '0', body: tag }),
      error: 'FRAMING_RESERVED',
    },
  ],
};

mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'stream.json'), JSON.stringify(stream, null, 2) + '\n');
writeFileSync(join(OUT, 'datagram.json'), JSON.stringify(dg, null, 2) + '\n');
console.log(`wrote ${OUT}/stream.json and datagram.json`);
