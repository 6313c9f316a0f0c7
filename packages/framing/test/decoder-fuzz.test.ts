// Fuzzing (CONVENTIONS.md): random and mutated bytes fed to every decoder only ever raise a
// FramingError, never another exception, and always terminate (each read() either returns a
// frame that consumed >= 12 bytes, or null).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FramingError,
  createDatagramDecoder,
  createFrameHeader,
  createStreamDecoder,
  decodeDatagram,
  decodeHeader,
  encodeFrames,
  type StreamDecoderInit,
} from '../src/index.js';
import { frameArb, splitAt } from './helpers.js';

/** Feed chunks; return 'ok' or the FramingError code. Rethrows anything else. */
function feed(init: StreamDecoderInit, chunks: Uint8Array[], total: number): string {
  const d = createStreamDecoder(init);
  let reads = 0;
  try {
    for (const c of chunks) {
      d.push(c);
      while (d.read() !== null) {
        reads++;
        // a frame consumes at least 12 bytes: more frames than that means a loop
        if (reads > total / 12 + 1) throw new Error('decoder produced more frames than bytes allow');
      }
    }
    d.end();
    return 'ok';
  } catch (err) {
    if (err instanceof FramingError) {
      expect(d.closed).toBe(true);
      return err.code;
    }
    throw err;
  }
}

const optionsArb = fc.record(
  {
    maxPayload: fc.integer({ min: 0, max: 5000 }),
    knownTypes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }),
  },
  { requiredKeys: [] },
);

describe('decoder fuzzing', () => {
  it('stream decoder: random bytes in random chunks raise only FramingError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 10 }), optionsArb, (bytes, cuts, init) => {
        const code = feed(init, splitAt(bytes, cuts.map((c) => c % (bytes.length + 1))), bytes.length);
        expect(typeof code).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('stream decoder: random bytes that start with a valid version byte reach the deeper checks', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), optionsArb, (bytes, init) => {
        bytes[0] = 1;
        if (bytes.length > 3 && bytes[3]! % 4 !== 0) bytes[3] = 0;
        seen.add(feed(init, [bytes], bytes.length));
      }),
      { numRuns: 2000 },
    );
    expect(seen).toContain('FRAMING_TRUNCATED');
    expect(seen).toContain('FRAMING_TOO_LARGE');
    expect(seen).toContain('FRAMING_RESERVED');
  });

  it('stream decoder: valid streams with flipped bytes raise only FramingError', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (frames, flips, cuts) => {
          const bytes = encodeFrames(frames);
          for (const [at, x] of flips) bytes[at % bytes.length]! ^= x;
          feed({ maxPayload: 4096, knownTypes: [0x10, 0x11, 0x12] }, splitAt(bytes, cuts.map((c) => c % (bytes.length + 1))), bytes.length);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('decodeHeader: random bytes at random offsets raise only FramingError', () => {
    const into = createFrameHeader();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 40 }), (bytes, offset) => {
        try {
          decodeHeader(bytes, offset, into, { maxPayload: 1000 });
        } catch (err) {
          expect(err).toBeInstanceOf(FramingError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('datagram decoding: random bytes raise only FramingError, and tryDecode never throws', () => {
    const dec = createDatagramDecoder({ maxDatagram: 64, knownTypes: new Map([[0x40, 0x01], [0x41, 0]]) });
    let ok = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (bytes, plausible) => {
        if (plausible && bytes.length > 3) {
          bytes[0] = 1;
          bytes[3] = 0;
        }
        try {
          decodeDatagram(bytes, undefined, { maxDatagram: 64 });
        } catch (err) {
          expect(err).toBeInstanceOf(FramingError);
        }
        if (dec.tryDecode(bytes) !== null) ok++;
      }),
      { numRuns: 3000 },
    );
    const d = dec.drops;
    expect(d.total).toBe(d.tooLarge + d.truncated + d.badVersion + d.reserved + d.unknownType);
    expect(d.total + ok).toBe(3000);
    expect(dec.decoded).toBe(ok);
  });
});
