// Inner header (bonding.md §3): round trips, byte layout, limits at 24 / 23 bytes, field
// checks, fuzzing that raises only BONDING_MALFORMED, and the RTT-echo helpers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createInnerHeader,
  decodeInnerHeader,
  echoHoldMs,
  encodeInnerHeader,
  rttSampleMs,
  tryDecodeInnerHeader,
  type InnerHeader,
} from '../src/inner-header.js';
import { ECHO_HOLD_NONE, INNER_HEADER_BYTES } from '../src/constants.js';
import { isBondingError } from '../src/errors.js';
import { toHex } from './helpers.js';

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const headerArb: fc.Arbitrary<InnerHeader> = fc.record({
  linkId: fc.integer({ min: 0, max: 15 }),
  flags: fc.integer({ min: 0, max: 255 }),
  linkSeq: u32,
  dataSeq: u32,
  sendTimeMs: u32,
  echoTimeMs: u32,
  echoHoldMs: fc.integer({ min: 0, max: 0xffff }),
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code';
  }
  return 'did not throw';
}

describe('inner header codec', () => {
  it('writes the §3 layout: big-endian fields, reserved bytes zero', () => {
    const h = createInnerHeader({
      linkId: 3,
      flags: 0x80,
      linkSeq: 0x01020304,
      dataSeq: 0xa0b0c0d0,
      sendTimeMs: 0xfffffffe,
      echoTimeMs: 0x11223344,
      echoHoldMs: 0x0102,
    });
    const out = new Uint8Array(30).fill(0xee);
    expect(encodeInnerHeader(h, out, 3)).toBe(27);
    expect(toHex(out)).toBe('eeeeee' + '038000000102030' + '4a0b0c0d0fffffffe1122334401020000' + 'eeeeee');
  });

  it('round-trips any header at any offset', () => {
    fc.assert(
      fc.property(headerArb, fc.nat({ max: 8 }), (h, offset) => {
        const buf = new Uint8Array(offset + INNER_HEADER_BYTES);
        encodeInnerHeader(h, buf, offset);
        const back = createInnerHeader();
        expect(tryDecodeInnerHeader(buf, offset, back)).toBe(true);
        expect({ ...back }).toEqual(h);
        expect({ ...decodeInnerHeader(buf, offset) }).toEqual(h);
      }),
    );
  });

  it('a fresh header echoes nothing', () => {
    expect(createInnerHeader().echoHoldMs).toBe(ECHO_HOLD_NONE);
  });

  it('ignores reserved bytes on receipt', () => {
    const buf = new Uint8Array(24);
    encodeInnerHeader(createInnerHeader({ linkId: 1, dataSeq: 9 }), buf);
    buf[2] = 0xff;
    buf[3] = 0xff;
    buf[22] = 0xaa;
    buf[23] = 0x55;
    const h = decodeInnerHeader(buf);
    expect(h.linkId).toBe(1);
    expect(h.dataSeq).toBe(9);
  });

  it('decodes exactly 24 bytes and refuses 23', () => {
    const buf = new Uint8Array(24);
    expect(tryDecodeInnerHeader(buf, 0, createInnerHeader())).toBe(true);
    expect(tryDecodeInnerHeader(buf.subarray(0, 23), 0, createInnerHeader())).toBe(false);
    expect(tryDecodeInnerHeader(buf, 1, createInnerHeader())).toBe(false);
    expect(tryDecodeInnerHeader(buf, -1, createInnerHeader())).toBe(false);
    expect(() => decodeInnerHeader(buf.subarray(0, 23))).toThrow(/inner header: 23 bytes < 24/);
  });

  it('refuses link id 16 and over, accepts 15', () => {
    const buf = new Uint8Array(24);
    buf[0] = 15;
    expect(tryDecodeInnerHeader(buf, 0, createInnerHeader())).toBe(true);
    buf[0] = 16;
    expect(tryDecodeInnerHeader(buf, 0, createInnerHeader())).toBe(false);
    expect(codeOf(() => decodeInnerHeader(buf))).toBe('BONDING_MALFORMED');
    expect(() => decodeInnerHeader(buf)).toThrow(/link id 16 > max 15/);
  });

  it('decoding random bytes raises only BONDING_MALFORMED', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 40 }), (bytes, offset) => {
        try {
          decodeInnerHeader(bytes, offset);
        } catch (err) {
          expect(isBondingError(err, 'BONDING_MALFORMED')).toBe(true);
        }
      }),
    );
  });

  it.each([
    ['linkId', 16, /linkId 16 is not an integer in 0..15/],
    ['linkId', -1, /linkId/],
    ['linkId', 1.5, /linkId/],
    ['flags', 256, /flags 256/],
    ['linkSeq', 2 ** 32, /linkSeq/],
    ['dataSeq', -1, /dataSeq/],
    ['sendTimeMs', 0.5, /sendTimeMs/],
    ['echoTimeMs', Number.NaN, /echoTimeMs/],
    ['echoHoldMs', 0x10000, /echoHoldMs 65536/],
  ] as const)('encoding refuses %s = %s', (field, value, message) => {
    const h = createInnerHeader({ [field]: value });
    expect(codeOf(() => encodeInnerHeader(h, new Uint8Array(24)))).toBe('BONDING_INVALID_ARGUMENT');
    expect(() => encodeInnerHeader(h, new Uint8Array(24))).toThrow(message);
  });

  it('encoding refuses a target without room', () => {
    const h = createInnerHeader();
    expect(codeOf(() => encodeInnerHeader(h, new Uint8Array(23)))).toBe('BONDING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeInnerHeader(h, new Uint8Array(30), 7))).toBe('BONDING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeInnerHeader(h, new Uint8Array(30), -1))).toBe('BONDING_INVALID_ARGUMENT');
    expect(encodeInnerHeader(h, new Uint8Array(30), 6)).toBe(30);
  });
});

describe('RTT echo (bonding.md §3)', () => {
  it('echo hold is whole ms, 0 for a negative span, saturating below 0xFFFF', () => {
    expect(echoHoldMs(1000.9, 990)).toBe(10);
    expect(echoHoldMs(5, 10)).toBe(0);
    expect(echoHoldMs(100_000, 0)).toBe(0xfffe);
    expect(echoHoldMs(0xfffe, 0)).toBe(0xfffe);
    expect(echoHoldMs(0xfffd, 0)).toBe(0xfffd);
  });

  it('sample = now - echo - hold, across the 2^32 wrap; -1 for nothing echoed or negative', () => {
    const h = createInnerHeader({ echoTimeMs: 0xffff_fff0, echoHoldMs: 5 });
    expect(rttSampleMs(0x10, h)).toBe(0x20 - 5);
    h.echoHoldMs = ECHO_HOLD_NONE;
    expect(rttSampleMs(0x10, h)).toBe(-1);
    h.echoTimeMs = 100;
    h.echoHoldMs = 10;
    expect(rttSampleMs(105, h)).toBe(-1);
    expect(rttSampleMs(110, h)).toBe(0);
  });
});
