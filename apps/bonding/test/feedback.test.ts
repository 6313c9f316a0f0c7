// FEEDBACK payloads (bonding.md §5): layout, round trips, strict lengths at the limit and one
// past it, count 16 vs 17, duplicate and out-of-range link ids, 2^53 bytes, fuzzing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFeedbackReport, decodeFeedback, encodeFeedback, feedbackLength, tryDecodeFeedback, type FeedbackReport } from '../src/feedback.js';
import { FEEDBACK_MAX_BYTES, FEEDBACK_MAX_ENTRIES } from '../src/constants.js';
import { isBondingError } from '../src/errors.js';
import { toHex } from './helpers.js';

interface Entry {
  linkId: number;
  received: number;
  lost: number;
  bytes: number;
}

function report(entries: Entry[]): FeedbackReport {
  const r = createFeedbackReport();
  entries.forEach((e, i) => Object.assign(r.entries[i]!, e));
  r.count = entries.length;
  return r;
}

function encode(entries: Entry[]): Uint8Array {
  const out = new Uint8Array(feedbackLength(entries.length));
  encodeFeedback(report(entries), out);
  return out;
}

function entriesOf(r: FeedbackReport): Entry[] {
  return r.entries.slice(0, r.count).map((e) => ({ ...e }));
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code';
  }
  return 'did not throw';
}

const entriesArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 15 }), { maxLength: FEEDBACK_MAX_ENTRIES })
  .chain((ids) =>
    fc.tuple(
      ...ids.map((linkId) =>
        fc.record({
          linkId: fc.constant(linkId),
          received: fc.integer({ min: 0, max: 0xffff_ffff }),
          lost: fc.integer({ min: 0, max: 0xffff_ffff }),
          bytes: fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 32, 2 ** 53 - 1)),
        }),
      ),
    ),
  );

describe('feedback codec', () => {
  it('writes count then 18-byte big-endian entries', () => {
    const bytes = encode([
      { linkId: 2, received: 0x01020304, lost: 5, bytes: 0x0000_0102_0304_0506 },
      { linkId: 15, received: 0xffffffff, lost: 0, bytes: 2 ** 53 - 1 },
    ]);
    expect(bytes.length).toBe(37);
    expect(toHex(bytes)).toBe('02' + '0200' + '01020304' + '00000005' + '0000010203040506' + '0f00' + 'ffffffff' + '00000000' + '001fffffffffffff');
  });

  it('round-trips any valid report', () => {
    fc.assert(
      fc.property(entriesArb, (entries) => {
        const bytes = encode(entries);
        expect(bytes.length).toBe(1 + 18 * entries.length);
        const into = createFeedbackReport();
        expect(tryDecodeFeedback(bytes, into)).toBe(true);
        expect(entriesOf(into)).toEqual(entries);
        expect(entriesOf(decodeFeedback(bytes))).toEqual(entries);
      }),
    );
  });

  it('an empty report is one zero byte', () => {
    expect(toHex(encode([]))).toBe('00');
    expect(decodeFeedback(new Uint8Array([0])).count).toBe(0);
  });

  it('accepts 16 entries (the largest payload) and refuses a count of 17', () => {
    const sixteen = Array.from({ length: 16 }, (_, linkId) => ({ linkId, received: linkId, lost: 0, bytes: 1 }));
    const bytes = encode(sixteen);
    expect(bytes.length).toBe(FEEDBACK_MAX_BYTES);
    expect(decodeFeedback(bytes).count).toBe(16);
    const seventeen = new Uint8Array(1 + 17 * 18);
    seventeen[0] = 17;
    expect(tryDecodeFeedback(seventeen, createFeedbackReport())).toBe(false);
    expect(() => decodeFeedback(seventeen)).toThrow(/count 17 > max 16/);
  });

  it('refuses one byte too many or too few', () => {
    const bytes = encode([{ linkId: 1, received: 1, lost: 1, bytes: 1 }]);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(tryDecodeFeedback(longer, createFeedbackReport())).toBe(false);
    expect(tryDecodeFeedback(bytes.subarray(0, bytes.length - 1), createFeedbackReport())).toBe(false);
    expect(() => decodeFeedback(longer)).toThrow(/length 20 != 1 \+ 18·1 = 19/);
    expect(() => decodeFeedback(new Uint8Array(0))).toThrow(/empty payload/);
  });

  it('refuses link id 16, a repeated link id and bytes over 2^53 - 1, leaving the report unchanged', () => {
    const into = report([{ linkId: 9, received: 9, lost: 9, bytes: 9 }]);
    const bad = encode([
      { linkId: 0, received: 1, lost: 0, bytes: 0 },
      { linkId: 1, received: 1, lost: 0, bytes: 0 },
    ]);
    bad[19] = 16;
    expect(tryDecodeFeedback(bad, into)).toBe(false);
    expect(() => decodeFeedback(bad)).toThrow(/entry 1 link id 16 > max 15/);
    bad[19] = 0;
    expect(tryDecodeFeedback(bad, into)).toBe(false);
    expect(() => decodeFeedback(bad)).toThrow(/entry 1 repeats link id 0/);
    bad[19] = 1;
    bad[19 + 10] = 0x00;
    bad[19 + 11] = 0x20; // high word 0x00200000: bytes = 2^53
    expect(tryDecodeFeedback(bad, into)).toBe(false);
    expect(() => decodeFeedback(bad)).toThrow(/entry 1 bytes high word/);
    expect(entriesOf(into)).toEqual([{ linkId: 9, received: 9, lost: 9, bytes: 9 }]);
  });

  it('decoding random bytes raises only BONDING_MALFORMED', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        if (bytes.length > 0) bytes[0] = bytes[0]! % 5;
        try {
          decodeFeedback(bytes);
        } catch (err) {
          expect(isBondingError(err, 'BONDING_MALFORMED')).toBe(true);
        }
      }),
    );
  });

  it.each([
    ['count 17', { count: 17 }, /feedback count 17/],
    ['count -1', { count: -1 }, /feedback count -1/],
    ['link id 16', { linkId: 16 }, /linkId 16/],
    ['received 2^32', { received: 2 ** 32 }, /received/],
    ['lost -1', { lost: -1 }, /lost/],
    ['bytes 2^53', { bytes: 2 ** 53 }, /bytes/],
  ] as const)('encoding refuses %s', (_name, change, message) => {
    const r = report([{ linkId: 0, received: 0, lost: 0, bytes: 0 }]);
    if ('count' in change) r.count = change.count;
    else Object.assign(r.entries[0]!, change);
    const out = new Uint8Array(FEEDBACK_MAX_BYTES);
    expect(codeOf(() => encodeFeedback(r, out))).toBe('BONDING_INVALID_ARGUMENT');
    expect(() => encodeFeedback(r, out)).toThrow(message);
  });

  it('encoding refuses repeated link ids and a target without room', () => {
    const twice = report([
      { linkId: 3, received: 0, lost: 0, bytes: 0 },
      { linkId: 3, received: 0, lost: 0, bytes: 0 },
    ]);
    expect(() => encodeFeedback(twice, new Uint8Array(64))).toThrow(/distinct/);
    const one = report([{ linkId: 3, received: 0, lost: 0, bytes: 0 }]);
    expect(codeOf(() => encodeFeedback(one, new Uint8Array(18)))).toBe('BONDING_INVALID_ARGUMENT');
    expect(encodeFeedback(one, new Uint8Array(21), 2)).toBe(21);
  });
});
