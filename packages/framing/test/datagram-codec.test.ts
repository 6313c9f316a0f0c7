// Datagram codec (framing.md §4): header round trip, counter edges (0, 2^32, 2^53, 2^64-1),
// views without copies, limits, version/reserved checks, drop counting.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DATAGRAM_HEADER_BYTES,
  DATAGRAM_MAX_BYTES_LIMIT,
  DEFAULT_MAX_DATAGRAM_BYTES,
  createDatagramDecoder,
  createDatagramView,
  decodeDatagram,
  encodeDatagram,
  encodeDatagramHeader,
  type DatagramView,
} from '../src/index.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no error';
}

const U64_MAX = (1n << 64n) - 1n;

describe('datagram codec', () => {
  it('round-trips every header field and the body (fast-check, bigint counters)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.bigInt({ min: 0n, max: U64_MAX }),
        fc.uint8Array({ maxLength: 100 }),
        (type, flags, receiver, counter, body) => {
          const bytes = encodeDatagram({ type, flags, receiver, counter, body });
          const d = decodeDatagram(bytes);
          expect({ type: d.type, flags: d.flags, receiver: d.receiver, counter: d.counterBigInt, version: d.version }).toEqual({
            type,
            flags,
            receiver,
            counter,
            version: 1,
          });
          expect(Buffer.from(d.body).equals(Buffer.from(body))).toBe(true);
          expect(d.counter).toBe(counter <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(counter) : -1);
        },
      ),
      { numRuns: 500 },
    );
  });

  const edges: [string, number | bigint, string][] = [
    ['0', 0, '0000000000000000'],
    ['2^32 - 1', 2 ** 32 - 1, 'ffffffff00000000'],
    ['2^32', 2 ** 32, '0000000001000000'],
    ['2^53 - 1', Number.MAX_SAFE_INTEGER, 'ffffffffffff1f00'],
    ['2^53 (bigint)', 2n ** 53n, '0000000000002000'],
    ['2^64 - 1 (bigint)', U64_MAX, 'ffffffffffffffff'],
  ];
  for (const [label, counter, leHex] of edges) {
    it(`writes counter ${label} little-endian and reads it back as lo/hi, number and bigint`, () => {
      const buf = new Uint8Array(DATAGRAM_HEADER_BYTES);
      expect(encodeDatagramHeader(buf, 0, { type: 0x40, receiver: 0x01020304, counter })).toBe(16);
      expect(Buffer.from(buf).toString('hex')).toBe('01400000' + '01020304' + leHex);
      const d = decodeDatagram(buf);
      const big = BigInt(counter);
      expect(d.counterBigInt).toBe(big);
      expect(d.counterLo).toBe(Number(big & 0xffffffffn));
      expect(d.counterHi).toBe(Number(big >> 32n));
      expect(d.counter).toBe(big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : -1);
      expect(d.body.length).toBe(0);
    });
  }

  it('returns header and body as views of the input, the header being bytes [0, 16)', () => {
    const bytes = encodeDatagram({ type: 0x41, receiver: 9, counter: 5, body: Uint8Array.of(1, 2, 3) });
    const d = decodeDatagram(bytes);
    expect(d.header.buffer).toBe(bytes.buffer);
    expect(d.body.buffer).toBe(bytes.buffer);
    expect(d.header.byteOffset).toBe(bytes.byteOffset);
    expect(d.header.length).toBe(16);
    expect(d.body.byteOffset).toBe(bytes.byteOffset + 16);
  });

  it('encodes the header in place at an offset, leaving room for the sealed body', () => {
    const slot = new Uint8Array(64).fill(0xee);
    const at = encodeDatagramHeader(slot, 8, { type: 0x40, flags: 1, receiver: 7, counter: 3 });
    expect(at).toBe(24);
    expect(slot[7]).toBe(0xee);
    expect(slot[24]).toBe(0xee);
    expect(decodeDatagram(slot.subarray(8, 30)).counter).toBe(3);
    expect(codeOf(() => encodeDatagramHeader(slot, 50, { type: 0x40, receiver: 7, counter: 3 }))).toBe('FRAMING_INVALID_ARGUMENT');
  });

  it('reuses the view it is given and the decoder reuses one view', () => {
    const view = createDatagramView();
    const a = encodeDatagram({ type: 1, receiver: 1, counter: 1 });
    const b = encodeDatagram({ type: 2, receiver: 2, counter: 2 });
    expect(decodeDatagram(a, view)).toBe(view);
    decodeDatagram(b, view);
    expect(view.type).toBe(2);
    const dec = createDatagramDecoder();
    expect(dec.decode(a)).toBe(dec.tryDecode(b));
    expect(dec.decoded).toBe(2);
    expect(codeOf(() => decodeDatagram(a, { type: 1 } as unknown as DatagramView))).toBe('FRAMING_INVALID_ARGUMENT');
  });

  it('accepts exactly maxDatagram bytes and refuses one more, by default 65507', () => {
    expect(DEFAULT_MAX_DATAGRAM_BYTES).toBe(65_507);
    const atLimit = new Uint8Array(DEFAULT_MAX_DATAGRAM_BYTES);
    encodeDatagramHeader(atLimit, 0, { type: 0x40, receiver: 1, counter: 0 });
    expect(decodeDatagram(atLimit).body.length).toBe(DEFAULT_MAX_DATAGRAM_BYTES - 16);
    const over = new Uint8Array(DEFAULT_MAX_DATAGRAM_BYTES + 1);
    over.set(atLimit.subarray(0, 16));
    expect(() => decodeDatagram(over)).toThrow('datagram length 65508 > max 65507');
    expect(codeOf(() => encodeDatagram({ type: 1, receiver: 1, counter: 0, body: new Uint8Array(65_492) }))).toBe('FRAMING_TOO_LARGE');
    expect(encodeDatagram({ type: 1, receiver: 1, counter: 0, body: new Uint8Array(65_491) }).length).toBe(65_507);
    expect(codeOf(() => decodeDatagram(new Uint8Array(33), undefined, { maxDatagram: 32 }))).toBe('FRAMING_TOO_LARGE');
  });

  it('raises FRAMING_TRUNCATED for anything shorter than 16 bytes', () => {
    const full = encodeDatagram({ type: 0x40, receiver: 1, counter: 0 });
    for (let n = 0; n < 16; n++) expect(codeOf(() => decodeDatagram(full.subarray(0, n)))).toBe('FRAMING_TRUNCATED');
    expect(() => decodeDatagram(full.subarray(0, 3))).toThrow('datagram header truncated: 3 bytes < 16 needed');
  });

  it('refuses unknown versions and a non-zero reserved byte', () => {
    const good = encodeDatagram({ type: 0x40, receiver: 1, counter: 0 });
    for (const v of [0, 2, 255]) {
      const b = Buffer.from(good);
      b[0] = v;
      expect(codeOf(() => decodeDatagram(b))).toBe('FRAMING_BAD_VERSION');
    }
    const r = Buffer.from(good);
    r[3] = 0x10;
    expect(() => decodeDatagram(r)).toThrow('datagram reserved byte 0x10: must be 0');
  });

  it('checks the registry: unknown types and flag bits outside the type mask', () => {
    const limits = { knownTypes: new Map([[0x40, 0x01]]) };
    expect(codeOf(() => decodeDatagram(encodeDatagram({ type: 0x41, receiver: 1, counter: 0 }), undefined, limits))).toBe('FRAMING_UNKNOWN_TYPE');
    expect(codeOf(() => decodeDatagram(encodeDatagram({ type: 0x40, flags: 2, receiver: 1, counter: 0 }), undefined, limits))).toBe('FRAMING_RESERVED');
    expect(codeOf(() => decodeDatagram(encodeDatagram({ type: 0x40, flags: 1, receiver: 1, counter: 0 }), undefined, limits))).toBe('no error');
  });

  it('tryDecode drops and counts each reason; decode throws', () => {
    const dec = createDatagramDecoder({ maxDatagram: 40, knownTypes: new Map([[0x40, 0]]) });
    const good = encodeDatagram({ type: 0x40, receiver: 1, counter: 0 });
    const mutate = (i: number, v: number): Buffer => {
      const b = Buffer.from(good);
      b[i] = v;
      return b;
    };
    const bad = [new Uint8Array(41), good.subarray(0, 4), mutate(0, 2), mutate(3, 1), mutate(1, 0x41), mutate(2, 1)];
    for (const b of bad) {
      expect(dec.tryDecode(b)).toBeNull();
      expect(codeOf(() => dec.decode(b))).toMatch(/^FRAMING_/);
    }
    expect(dec.tryDecode(good)).not.toBeNull();
    expect(dec.drops).toEqual({ total: 6, tooLarge: 1, truncated: 1, badVersion: 1, reserved: 2, unknownType: 1 });
    expect(dec.decoded).toBe(1);
    expect(dec.maxDatagram).toBe(40);
  });

  it('refuses bad arguments with FRAMING_INVALID_ARGUMENT', () => {
    const buf = new Uint8Array(16);
    const bad: (() => unknown)[] = [
      () => encodeDatagramHeader(buf, 0, { type: 1, receiver: -1, counter: 0 }),
      () => encodeDatagramHeader(buf, 0, { type: 1, receiver: 2 ** 32, counter: 0 }),
      () => encodeDatagramHeader(buf, 0, { type: 1, receiver: 0, counter: -1 }),
      () => encodeDatagramHeader(buf, 0, { type: 1, receiver: 0, counter: 2 ** 53 }),
      () => encodeDatagramHeader(buf, 0, { type: 1, receiver: 0, counter: 1.5 }),
      () => encodeDatagramHeader(buf, 0, { type: 1, receiver: 0, counter: -1n }),
      () => encodeDatagramHeader(buf, 0, { type: 1, receiver: 0, counter: 1n << 64n }),
      () => encodeDatagramHeader(buf, 0, { type: 1, receiver: 0, counter: '1' as unknown as number }),
      () => encodeDatagramHeader(buf, 0, { type: 256, receiver: 0, counter: 0 }),
      () => encodeDatagram({ type: 1, receiver: 0, counter: 0, body: [1] as unknown as Uint8Array }),
      () => decodeDatagram('x' as unknown as Uint8Array),
      () => createDatagramDecoder({ maxDatagram: 15 }),
      () => createDatagramDecoder({ maxDatagram: DATAGRAM_MAX_BYTES_LIMIT + 1 }),
      () => createDatagramDecoder().tryDecode(null as unknown as Uint8Array),
    ];
    for (const fn of bad) expect(codeOf(fn)).toBe('FRAMING_INVALID_ARGUMENT');
    expect(createDatagramDecoder({ maxDatagram: DATAGRAM_MAX_BYTES_LIMIT }).maxDatagram).toBe(65_527);
  });
});
