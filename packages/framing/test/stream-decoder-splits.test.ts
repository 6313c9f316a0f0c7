// Any chunking of a byte stream yields the same frames: every split point of a fixed
// multi-frame stream, one byte at a time, and fast-check random chunkings of arbitrary frame
// sequences (CONVENTIONS.md: every decoder round-trips at every split).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStreamDecoder, encodeFrames, type FrameInit } from '../src/index.js';
import { copyFrame, decodeChunks, expectedFrame, frameArb, splitAt, type CopiedFrame } from './helpers.js';

const FIXED: FrameInit[] = [
  { type: 0x12, channel: 0 },
  { type: 0x11, flags: 1, channel: 5, payload: Uint8Array.from({ length: 30 }, (_, i) => i) },
  { type: 0x10, channel: 0xffffffff, payload: Uint8Array.of(9) },
  { type: 0x13, channel: 2, payload: new Uint8Array(0) },
  { type: 0x11, channel: 7, payload: Uint8Array.from({ length: 200 }, (_, i) => 255 - (i & 0xff)) },
];

describe('stream decoder chunking', () => {
  const bytes = encodeFrames(FIXED);
  const want = FIXED.map(expectedFrame);

  it('decodes the same frames when the stream is split at every single point', () => {
    for (let i = 0; i <= bytes.length; i++) {
      const decoder = createStreamDecoder();
      expect(decodeChunks(decoder, splitAt(bytes, [i]))).toEqual(want);
      expect(decoder.bufferedBytes).toBe(0);
      decoder.end();
    }
  });

  it('decodes the same frames when the stream is split at every pair of points', () => {
    for (let i = 0; i <= bytes.length; i += 3) {
      for (let j = i; j <= bytes.length; j += 5) {
        expect(decodeChunks(createStreamDecoder(), splitAt(bytes, [i, j]))).toEqual(want);
      }
    }
  });

  it('decodes one byte at a time', () => {
    const chunks = [...bytes].map((b) => Uint8Array.of(b));
    expect(decodeChunks(createStreamDecoder(), chunks)).toEqual(want);
  });

  it('ignores empty chunks anywhere', () => {
    const chunks = splitAt(bytes, [0, 0, 12, 12, 50, bytes.length]);
    expect(chunks.some((c) => c.length === 0)).toBe(true);
    expect(decodeChunks(createStreamDecoder(), chunks)).toEqual(want);
  });

  it('round-trips arbitrary frame sequences under random chunkings (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, rawCuts) => {
          const encoded = encodeFrames(frames);
          const cuts = rawCuts.map((c) => (encoded.length === 0 ? 0 : c % (encoded.length + 1)));
          const decoder = createStreamDecoder({ maxPayload: 4096 });
          expect(decodeChunks(decoder, splitAt(encoded, cuts))).toEqual(frames.map(expectedFrame));
          expect(decoder.bufferedBytes).toBe(0);
          expect(decoder.framesDecoded).toBe(frames.length);
          expect(decoder.bytesDecoded).toBe(encoded.length);
          decoder.end();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips small frame sequences at EVERY split point (fast-check)', () => {
    const small = fc.record({
      type: fc.integer({ min: 0, max: 255 }),
      flags: fc.integer({ min: 0, max: 255 }),
      channel: fc.integer({ min: 0, max: 0xffffffff }),
      payload: fc.uint8Array({ maxLength: 20 }),
    });
    fc.assert(
      fc.property(fc.array(small, { minLength: 1, maxLength: 4 }), (frames) => {
        const encoded = encodeFrames(frames);
        const want = frames.map(expectedFrame);
        for (let i = 0; i <= encoded.length; i++) {
          expect(decodeChunks(createStreamDecoder(), splitAt(encoded, [i]))).toEqual(want);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('agrees across the three reading styles: read(), decode(cb) and frames()', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, rawCuts) => {
        const encoded = encodeFrames(frames);
        const chunks = splitAt(encoded, rawCuts.map((c) => c % (encoded.length + 1)));
        const viaRead = decodeChunks(createStreamDecoder(), chunks);

        const viaCallback: CopiedFrame[] = [];
        const d2 = createStreamDecoder();
        let count = 0;
        for (const c of chunks) count += d2.decode(c, (f, out) => out.push(copyFrame(f)), viaCallback);

        const viaIterator: CopiedFrame[] = [];
        const d3 = createStreamDecoder();
        for (const c of chunks) for (const f of d3.frames(c)) viaIterator.push(copyFrame(f));

        const want = frames.map(expectedFrame);
        expect(viaRead).toEqual(want);
        expect(viaCallback).toEqual(want);
        expect(viaIterator).toEqual(want);
        expect(count).toBe(frames.length);
      }),
      { numRuns: 150 },
    );
  });

  it('handles a huge chunk holding thousands of frames without buffering', () => {
    const frames = Array.from({ length: 5000 }, (_, i) => ({ type: 0x11, channel: i, payload: Uint8Array.of(i & 0xff, i >> 8) }));
    const decoder = createStreamDecoder();
    let n = 0;
    decoder.push(encodeFrames(frames));
    for (let f = decoder.read(); f !== null; f = decoder.read()) {
      expect(f.channel).toBe(n);
      n++;
    }
    expect(n).toBe(5000);
    expect(decoder.bufferCapacity).toBe(0); // every frame was whole: zero copy, no buffer
  });
});
