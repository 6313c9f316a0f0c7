// Size limits of the stream decoder (framing.md §5): a frame of exactly maxPayload passes; a
// declared length of maxPayload + 1 fails from the header alone, before any payload byte is
// buffered; the internal buffer never exceeds 12 + maxPayload.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FRAME_PAYLOAD,
  FRAME_HEADER_BYTES,
  FRAME_MAX_PAYLOAD_LIMIT,
  createStreamDecoder,
  encodeFrame,
  encodeHeader,
  type StreamDecoder,
} from '../src/index.js';

function header(length: number): Uint8Array {
  const h = new Uint8Array(FRAME_HEADER_BYTES);
  encodeHeader(h, 0, { type: 0x11, channel: 1, length }, { maxPayload: FRAME_MAX_PAYLOAD_LIMIT });
  return h;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no error';
}

function pushRead(d: StreamDecoder, chunk: Uint8Array): number {
  d.push(chunk);
  let n = 0;
  while (d.read() !== null) n++;
  return n;
}

describe('stream decoder limits', () => {
  for (const max of [0, 1, 1400, 65_535, DEFAULT_MAX_FRAME_PAYLOAD]) {
    it(`accepts a payload of exactly maxPayload = ${max}, split or whole`, () => {
      const frame = encodeFrame({ type: 0x11, channel: 1, payload: new Uint8Array(max).fill(7) }, { maxPayload: max });
      expect(pushRead(createStreamDecoder({ maxPayload: max }), frame)).toBe(1);
      const d = createStreamDecoder({ maxPayload: max });
      const mid = Math.floor(frame.length / 2);
      expect(pushRead(d, frame.subarray(0, mid)) + pushRead(d, frame.subarray(mid))).toBe(1);
      expect(d.bufferCapacity).toBeLessThanOrEqual(FRAME_HEADER_BYTES + max);
    });

    it(`refuses maxPayload + 1 = ${max + 1} from the header alone, with nothing but the header buffered`, () => {
      const d = createStreamDecoder({ maxPayload: max });
      // header arrives byte by byte, then would come the payload: it never gets that far
      const h = header(max + 1);
      for (let i = 0; i < FRAME_HEADER_BYTES - 1; i++) expect(pushRead(d, h.subarray(i, i + 1))).toBe(0);
      expect(d.bufferedBytes).toBe(FRAME_HEADER_BYTES - 1);
      expect(codeOf(() => pushRead(d, h.subarray(FRAME_HEADER_BYTES - 1)))).toBe('FRAMING_TOO_LARGE');
      expect(d.bufferedBytes).toBe(0);
      expect(d.bufferCapacity).toBe(0);
      expect(d.error?.details).toEqual({ field: 'frame length', value: max + 1, max });
    });
  }

  it('refuses an oversized frame that arrives whole in one chunk without copying it', () => {
    const d = createStreamDecoder({ maxPayload: 1000 });
    const big = new Uint8Array(FRAME_HEADER_BYTES + 1001);
    big.set(header(1001));
    expect(codeOf(() => pushRead(d, big))).toBe('FRAMING_TOO_LARGE');
    expect(d.bufferCapacity).toBe(0);
  });

  it('refuses a u32-max length under the default limit with the limit in the message', () => {
    const d = createStreamDecoder();
    d.push(Buffer.from('0111000000000001ffffffff', 'hex'));
    expect(() => d.read()).toThrow(`frame length 4294967295 > max ${DEFAULT_MAX_FRAME_PAYLOAD}`);
  });

  it('bounds the internal buffer by 12 + maxPayload while a max-size frame trickles in', () => {
    const max = 50_000;
    const d = createStreamDecoder({ maxPayload: max });
    const frame = encodeFrame({ type: 1, payload: new Uint8Array(max) }, { maxPayload: max });
    let peak = 0;
    for (let i = 0; i < frame.length; i += 1460) {
      pushRead(d, frame.subarray(i, i + 1460));
      peak = Math.max(peak, d.bufferCapacity, d.bufferedBytes);
    }
    expect(peak).toBeLessThanOrEqual(FRAME_HEADER_BYTES + max);
    expect(d.framesDecoded).toBe(1);
  });

  it('keeps a buffer up to retainBytes between frames and releases a bigger one after its frame', () => {
    const d = createStreamDecoder({ retainBytes: 8192 });
    const small = encodeFrame({ type: 1, payload: new Uint8Array(3000) });
    pushRead(d, small.subarray(0, 100));
    pushRead(d, small.subarray(100));
    expect(d.bufferCapacity).toBe(4096); // kept for the next split frame
    const big = encodeFrame({ type: 1, payload: new Uint8Array(100_000).fill(1) });
    pushRead(d, big.subarray(0, 100));
    expect(d.bufferCapacity).toBe(FRAME_HEADER_BYTES + 100_000);
    d.push(big.subarray(100));
    const f = d.read()!;
    expect(d.bufferCapacity).toBe(0); // released...
    expect(f.payload.length).toBe(100_000); // ...while the returned view stays intact
    expect(f.payload.every((b) => b === 1)).toBe(true);
  });

  it('grows the buffer for a larger split frame, keeping the header bytes', () => {
    const d = createStreamDecoder();
    const frame = encodeFrame({ type: 9, channel: 3, payload: Uint8Array.from({ length: 10_000 }, (_, i) => i & 0xff) });
    pushRead(d, frame.subarray(0, 5)); // partial header -> initial small buffer
    expect(d.bufferCapacity).toBe(4096);
    d.push(frame.subarray(5, 9000));
    expect(d.read()).toBeNull();
    expect(d.bufferCapacity).toBeGreaterThanOrEqual(frame.length);
    d.push(frame.subarray(9000));
    const f = d.read()!;
    expect(f).toMatchObject({ type: 9, channel: 3, length: 10_000 });
    expect(Buffer.from(f.payload).equals(frame.subarray(12))).toBe(true);
  });

  it('refuses limits above 16 MiB and non-integer options', () => {
    expect(codeOf(() => createStreamDecoder({ maxPayload: FRAME_MAX_PAYLOAD_LIMIT + 1 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => createStreamDecoder({ maxPayload: -1 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => createStreamDecoder({ maxPayload: 1.5 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => createStreamDecoder({ retainBytes: -1 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(createStreamDecoder({ maxPayload: FRAME_MAX_PAYLOAD_LIMIT }).maxPayload).toBe(FRAME_MAX_PAYLOAD_LIMIT);
    expect(createStreamDecoder().maxPayload).toBe(DEFAULT_MAX_FRAME_PAYLOAD);
  });
});
