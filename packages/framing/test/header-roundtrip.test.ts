import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FRAME_HEADER_BYTES,
  FRAME_MAX_PAYLOAD_LIMIT,
  FRAMING_VERSION,
  createFrameHeader,
  decodeHeader,
  encodeHeader,
  type FramingErrorCode,
} from '../src/index.js';

function codeOf(fn: () => unknown): FramingErrorCode | string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no error';
}

describe('stream frame header', () => {
  it('round-trips every field through a caller buffer at an offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: FRAME_MAX_PAYLOAD_LIMIT }),
        fc.integer({ min: 0, max: 40 }),
        (type, flags, channel, length, offset) => {
          const buf = new Uint8Array(offset + FRAME_HEADER_BYTES + 3).fill(0xee);
          const end = encodeHeader(buf, offset, { type, flags, channel, length }, { maxPayload: FRAME_MAX_PAYLOAD_LIMIT });
          expect(end).toBe(offset + FRAME_HEADER_BYTES);
          expect(buf[end]).toBe(0xee); // nothing written past the header
          const h = decodeHeader(buf, offset, createFrameHeader(), { maxPayload: FRAME_MAX_PAYLOAD_LIMIT });
          expect(h).toEqual({ version: FRAMING_VERSION, type, flags, channel, length });
        },
      ),
    );
  });

  it('writes big-endian channel and length after version, type, flags and a zero reserved byte', () => {
    const buf = new Uint8Array(12);
    encodeHeader(buf, 0, { type: 0x11, flags: 0x05, channel: 0x01020304, length: 0x0a0b0c }, { maxPayload: FRAME_MAX_PAYLOAD_LIMIT });
    expect(Buffer.from(buf).toString('hex')).toBe('01110500' + '01020304' + '000a0b0c');
  });

  it('defaults flags and channel to 0', () => {
    const buf = new Uint8Array(12);
    encodeHeader(buf, 0, { type: 0x12, length: 0 });
    expect(Buffer.from(buf).toString('hex')).toBe('011200000000000000000000');
  });

  it('reuses the header object it is given', () => {
    const into = createFrameHeader();
    const a = new Uint8Array(12);
    encodeHeader(a, 0, { type: 1, length: 4 });
    expect(decodeHeader(a, 0, into)).toBe(into);
    encodeHeader(a, 0, { type: 2, channel: 9, length: 5 });
    decodeHeader(a, 0, into);
    expect(into).toMatchObject({ type: 2, channel: 9, length: 5 });
  });

  it('refuses an unknown version, a reserved byte, an oversized length and a short buffer', () => {
    const ok = new Uint8Array(12);
    encodeHeader(ok, 0, { type: 1, length: 100 });
    expect(codeOf(() => decodeHeader(Uint8Array.of(2, ...ok.subarray(1))))).toBe('FRAMING_BAD_VERSION');
    expect(codeOf(() => decodeHeader(Uint8Array.of(...ok.subarray(0, 3), 1, ...ok.subarray(4))))).toBe('FRAMING_RESERVED');
    expect(codeOf(() => decodeHeader(ok, 0, createFrameHeader(), { maxPayload: 99 }))).toBe('FRAMING_TOO_LARGE');
    expect(codeOf(() => decodeHeader(ok, 0, createFrameHeader(), { maxPayload: 100 }))).toBe('no error');
    expect(codeOf(() => decodeHeader(ok.subarray(0, 11)))).toBe('FRAMING_TRUNCATED');
    expect(codeOf(() => decodeHeader(ok, 1))).toBe('FRAMING_TRUNCATED');
    expect(codeOf(() => decodeHeader(ok, 20))).toBe('FRAMING_TRUNCATED');
  });

  it('checks the registry: unknown types and disallowed flag bits', () => {
    const buf = new Uint8Array(12);
    encodeHeader(buf, 0, { type: 0x11, flags: 0x02, length: 0 });
    expect(codeOf(() => decodeHeader(buf, 0, createFrameHeader(), { knownTypes: [0x10] }))).toBe('FRAMING_UNKNOWN_TYPE');
    expect(codeOf(() => decodeHeader(buf, 0, createFrameHeader(), { knownTypes: new Map([[0x11, 0x01]]) }))).toBe('FRAMING_RESERVED');
    expect(codeOf(() => decodeHeader(buf, 0, createFrameHeader(), { knownTypes: new Map([[0x11, 0x03]]) }))).toBe('no error');
    expect(codeOf(() => decodeHeader(buf, 0, createFrameHeader(), { knownTypes: new Set([0x11]) }))).toBe('no error');
  });

  it('names field, value and limit in the message', () => {
    const buf = new Uint8Array(12);
    encodeHeader(buf, 0, { type: 1, length: 70000 }, { maxPayload: 70000 });
    expect(() => decodeHeader(buf, 0, createFrameHeader(), { maxPayload: 65535 })).toThrow('frame length 70000 > max 65535');
    expect(() => decodeHeader(Uint8Array.of(7, ...buf.subarray(1)))).toThrow('frame version 7 != 1');
  });

  it('rejects bad arguments to encodeHeader with FRAMING_INVALID_ARGUMENT or FRAMING_TOO_LARGE', () => {
    const buf = new Uint8Array(12);
    expect(codeOf(() => encodeHeader(buf, 0, { type: 256, length: 0 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeHeader(buf, 0, { type: 1.5, length: 0 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeHeader(buf, 0, { type: 1, flags: -1, length: 0 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeHeader(buf, 0, { type: 1, channel: 2 ** 32, length: 0 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeHeader(buf, 0, { type: 1, length: -1 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeHeader(buf, 0, { type: 1, length: 0.5 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeHeader(buf, 1, { type: 1, length: 0 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeHeader(buf, 0, { type: 1, length: 300 * 1024 }))).toBe('FRAMING_TOO_LARGE');
    expect(codeOf(() => encodeHeader(buf, 0, { type: 1, length: 0 }, { maxPayload: FRAME_MAX_PAYLOAD_LIMIT + 1 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => decodeHeader(buf, -1))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => decodeHeader(buf, 0, createFrameHeader(), { knownTypes: [300] }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => decodeHeader(buf, 0, createFrameHeader(), { knownTypes: 5 as unknown as number[] }))).toBe('FRAMING_INVALID_ARGUMENT');
  });
});
