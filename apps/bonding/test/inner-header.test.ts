// Inner header (bonding.md §3): round trips, byte layout, limits at 12 / 11 bytes, field
// checks, fuzzing that raises only BONDING_MALFORMED, the RTT-echo helpers and the extension of
// 16-bit wire values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createInnerHeader,
  decodeInnerHeader,
  echoHoldMs,
  encodeInnerHeader,
  extend16,
  rttSampleMs,
  tryDecodeInnerHeader,
  type InnerHeader,
} from '../src/inner-header.js';
import { ECHO_HOLD_NONE, INNER_HEADER_BYTES } from '../src/constants.js';
import { isBondingError } from '../src/errors.js';
import { toHex } from './helpers.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const headerArb: fc.Arbitrary<InnerHeader> = fc.record({
  linkId: fc.integer({ min: 0, max: 15 }),
  flags: fc.integer({ min: 0, max: 15 }),
  linkSeq: u16,
  dataSeq: fc.integer({ min: 0, max: 0xffff_ffff }),
  sendTimeMs: u16,
  echoTimeMs: u16,
  echoHoldMs: fc.integer({ min: 0, max: 0xff }),
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
  it('writes the §3 layout: link id and flags nibbles, big-endian fields', () => {
    const h = createInnerHeader({
      linkId: 3,
      flags: 0x8,
      linkSeq: 0x0102,
      dataSeq: 0xa0b0c0d0,
      sendTimeMs: 0xfffe,
      echoTimeMs: 0x1122,
      echoHoldMs: 0x7f,
    });
    const out = new Uint8Array(18).fill(0xee);
    expect(encodeInnerHeader(h, out, 3)).toBe(15);
    expect(toHex(out)).toBe('eeeeee' + '38' + '0102' + 'a0b0c0d0' + 'fffe' + '1122' + '7f' + 'eeeeee');
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

  it('decodes exactly 12 bytes and refuses 11; every 12 bytes are a valid header', () => {
    const buf = new Uint8Array(12).fill(0xff);
    const h = createInnerHeader();
    expect(tryDecodeInnerHeader(buf, 0, h)).toBe(true);
    expect(h).toMatchObject({ linkId: 15, flags: 15, linkSeq: 0xffff, dataSeq: 0xffff_ffff, sendTimeMs: 0xffff, echoTimeMs: 0xffff, echoHoldMs: ECHO_HOLD_NONE });
    expect(tryDecodeInnerHeader(buf.subarray(0, 11), 0, createInnerHeader())).toBe(false);
    expect(tryDecodeInnerHeader(buf, 1, createInnerHeader())).toBe(false);
    expect(tryDecodeInnerHeader(buf, -1, createInnerHeader())).toBe(false);
    expect(codeOf(() => decodeInnerHeader(buf.subarray(0, 11)))).toBe('BONDING_MALFORMED');
    expect(() => decodeInnerHeader(buf.subarray(0, 11))).toThrow(/inner header: 11 bytes < 12/);
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
    ['flags', 16, /flags 16/],
    ['linkSeq', 0x10000, /linkSeq 65536/],
    ['dataSeq', -1, /dataSeq/],
    ['sendTimeMs', 0.5, /sendTimeMs/],
    ['sendTimeMs', 0x10000, /sendTimeMs/],
    ['echoTimeMs', Number.NaN, /echoTimeMs/],
    ['echoHoldMs', 0x100, /echoHoldMs 256/],
  ] as const)('encoding refuses %s = %s', (field, value, message) => {
    const h = createInnerHeader({ [field]: value });
    expect(codeOf(() => encodeInnerHeader(h, new Uint8Array(12)))).toBe('BONDING_INVALID_ARGUMENT');
    expect(() => encodeInnerHeader(h, new Uint8Array(12))).toThrow(message);
  });

  it('encoding refuses a target without room', () => {
    const h = createInnerHeader();
    expect(codeOf(() => encodeInnerHeader(h, new Uint8Array(11)))).toBe('BONDING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeInnerHeader(h, new Uint8Array(18), 7))).toBe('BONDING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeInnerHeader(h, new Uint8Array(18), -1))).toBe('BONDING_INVALID_ARGUMENT');
    expect(encodeInnerHeader(h, new Uint8Array(18), 6)).toBe(18);
  });
});

describe('RTT echo (bonding.md §3)', () => {
  it('echo hold is whole ms, 0 for a negative span; over 254 ms it says "nothing to echo"', () => {
    expect(echoHoldMs(1000.9, 990)).toBe(10);
    expect(echoHoldMs(5, 10)).toBe(0);
    expect(echoHoldMs(254, 0)).toBe(254);
    expect(echoHoldMs(255, 0)).toBe(ECHO_HOLD_NONE);
    expect(echoHoldMs(100_000, 0)).toBe(ECHO_HOLD_NONE);
  });

  it('sample = now - echo - hold, across the 2^16 wrap; -1 for nothing echoed or negative', () => {
    const h = createInnerHeader({ echoTimeMs: 0xfff0, echoHoldMs: 5 });
    expect(rttSampleMs(0x1_0010, h)).toBe(0x20 - 5); // the receiver's clock in full: only 16 bits count
    expect(rttSampleMs(0x10, h)).toBe(0x20 - 5);
    h.echoHoldMs = ECHO_HOLD_NONE;
    expect(rttSampleMs(0x10, h)).toBe(-1);
    h.echoTimeMs = 100;
    h.echoHoldMs = 10;
    expect(rttSampleMs(105, h)).toBe(-1);
    expect(rttSampleMs(110, h)).toBe(0);
    expect(rttSampleMs(110 + 0x7fff, h)).toBe(0x7fff);
    expect(rttSampleMs(110 + 0x8000, h)).toBe(-1);
  });
});

describe('extending 16-bit wire values (RFC 3550 §A.1)', () => {
  it('follows a sequence across many wraps, with reordering inside ±32767', () => {
    let ext = -1;
    let truth = 0xfff0;
    ext = extend16(ext, truth & 0xffff);
    expect(ext).toBe(0xfff0);
    for (let i = 0; i < 200_000; i++) {
      truth += 1 + (i % 7 === 0 ? 300 : 0); // gaps, as loss makes them
      ext = extend16(ext, truth & 0xffff);
      expect(ext).toBe(truth >>> 0);
      if (i % 1000 === 0) {
        // a late arrival from 500 back extends below, then the next fresh one is right again
        expect(extend16(ext, (truth - 500) & 0xffff)).toBe((truth - 500) >>> 0);
      }
    }
  });

  it('wraps the u32 it returns, never reaching the -1 that means "none yet"', () => {
    expect(extend16(0xffff_fffe, 0x0003)).toBe(3); // +5 across 2^32
    expect(extend16(2, 0xfffe)).toBe(0xffff_fffe); // -4 across 0
  });
});
