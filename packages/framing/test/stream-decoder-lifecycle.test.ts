// Life of a stream decoder (framing.md §5, §7): poisoned after the first error, end() with a
// partial frame, close(), misuse, payload view rules and the header view.
import { describe, expect, it } from 'vitest';
import {
  FRAME_HEADER_BYTES,
  FramingError,
  createStreamDecoder,
  encodeFrame,
  encodeFrames,
  frameHeaderView,
  isFramingError,
  type StreamFrame,
} from '../src/index.js';

function caught(fn: () => unknown): FramingError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FramingError) return err;
    throw err;
  }
  throw new Error('expected a FramingError');
}

const good = encodeFrame({ type: 0x11, channel: 1, payload: Uint8Array.of(1, 2, 3) });
const badVersion = Uint8Array.of(9, ...good.subarray(1));

describe('poisoned decoder', () => {
  it('throws the first error once, then FRAMING_DECODER_CLOSED naming it on every call', () => {
    const d = createStreamDecoder();
    d.push(badVersion);
    const first = caught(() => d.read());
    expect(first.code).toBe('FRAMING_BAD_VERSION');
    expect(d.closed).toBe(true);
    expect(d.error).toBe(first);
    for (const call of [() => d.push(good), () => d.read(), () => d.end(), () => d.decode(good, () => undefined, null), () => d.frames(good)]) {
      const later = caught(call);
      expect(later.code).toBe('FRAMING_DECODER_CLOSED');
      expect(later.message).toBe('decoder closed after FRAMING_BAD_VERSION: frame version 9 != 1 (unknown version)');
      expect(later.cause).toBe(first);
      expect(later.details).toEqual({ firstError: 'FRAMING_BAD_VERSION' });
    }
  });

  it('delivers the frames before the bad one, then fails', () => {
    const d = createStreamDecoder();
    const seen: number[] = [];
    const err = caught(() => d.decode(Buffer.concat([good, good, badVersion]), (f, out) => out.push(f.channel), seen));
    expect(seen).toEqual([1, 1]);
    expect(err.code).toBe('FRAMING_BAD_VERSION');
    expect(d.framesDecoded).toBe(2);
  });

  it('is poisoned by an error found in a split header too', () => {
    const d = createStreamDecoder({ maxPayload: 2 });
    d.push(good.subarray(0, 7));
    expect(d.read()).toBeNull();
    d.push(good.subarray(7));
    expect(caught(() => d.read()).code).toBe('FRAMING_TOO_LARGE');
    expect(caught(() => d.push(good)).message).toBe('decoder closed after FRAMING_TOO_LARGE: frame length 3 > max 2');
  });
});

describe('end of stream', () => {
  it('ends cleanly on a frame boundary and is closed afterwards', () => {
    const d = createStreamDecoder();
    d.push(good);
    expect(d.read()).not.toBeNull();
    expect(d.read()).toBeNull();
    d.end();
    expect(d.closed).toBe(true);
    expect(d.error).toBeUndefined();
    const err = caught(() => d.push(good));
    expect(err.code).toBe('FRAMING_DECODER_CLOSED');
    expect(err.message).toBe('decoder closed by end()');
  });

  it('raises FRAMING_TRUNCATED for every partial length, header or payload, and poisons', () => {
    for (let cut = 1; cut < good.length; cut++) {
      const d = createStreamDecoder();
      d.push(good.subarray(0, cut));
      expect(d.read()).toBeNull();
      expect(d.bufferedBytes).toBe(cut);
      const err = caught(() => d.end());
      expect(err.code).toBe('FRAMING_TRUNCATED');
      expect(err.message).toContain(`${cut} bytes < ${cut < FRAME_HEADER_BYTES ? FRAME_HEADER_BYTES : good.length} needed`);
      expect(caught(() => d.end()).code).toBe('FRAMING_DECODER_CLOSED');
    }
  });

  it('refuses end() while a pushed chunk still has unread frames (caller error, not poison)', () => {
    const d = createStreamDecoder();
    d.push(Buffer.concat([good, good]));
    d.read();
    const err = caught(() => d.end());
    expect(err.code).toBe('FRAMING_INVALID_ARGUMENT');
    expect(d.closed).toBe(false);
    expect(d.read()).not.toBeNull();
    expect(d.read()).toBeNull();
    d.end();
  });
});

describe('misuse and close', () => {
  it('refuses push() while the previous chunk has unread frames, without losing them', () => {
    const d = createStreamDecoder();
    d.push(Buffer.concat([good, good]));
    expect(d.read()).not.toBeNull();
    const err = caught(() => d.push(good));
    expect(err.code).toBe('FRAMING_INVALID_ARGUMENT');
    expect(err.message).toContain(`${good.length} unread bytes`);
    expect(d.read()?.channel).toBe(1);
    expect(d.read()).toBeNull();
    d.push(good);
    expect(d.read()).not.toBeNull();
  });

  it('keeps the remaining frames readable when a decode() callback throws', () => {
    const d = createStreamDecoder();
    const boom = new Error('handler failed');
    expect(() =>
      d.decode(
        encodeFrames([{ type: 1 }, { type: 2 }, { type: 3 }]),
        (f) => {
          if (f.type === 1) throw boom;
        },
        null,
      ),
    ).toThrow(boom);
    expect(d.closed).toBe(false); // a handler error is not a framing error
    expect(d.read()?.type).toBe(2);
    expect(d.read()?.type).toBe(3);
  });

  it('refuses a chunk that is not a Uint8Array', () => {
    const d = createStreamDecoder();
    expect(caught(() => d.push('abc' as unknown as Uint8Array)).code).toBe('FRAMING_INVALID_ARGUMENT');
  });

  it('close() is idempotent, releases the buffer and makes later calls fail', () => {
    const d = createStreamDecoder();
    d.push(good.subarray(0, 5));
    d.read();
    expect(d.bufferCapacity).toBeGreaterThan(0);
    d.close();
    d.close();
    expect(d.bufferCapacity).toBe(0);
    expect(d.bufferedBytes).toBe(0);
    expect(caught(() => d.read()).message).toBe('decoder closed by close()');
  });

  it('read() before any push returns null', () => {
    expect(createStreamDecoder().read()).toBeNull();
  });
});

describe('payload views', () => {
  it('views the caller chunk without copying when a frame is whole', () => {
    const chunk = encodeFrames([{ type: 1, payload: Uint8Array.of(5, 6) }, { type: 2, payload: Uint8Array.of(7) }]);
    const d = createStreamDecoder();
    d.push(chunk);
    const f = d.read()!;
    expect(f.payload.buffer).toBe(chunk.buffer);
    expect(f.payload.byteOffset).toBe(chunk.byteOffset + FRAME_HEADER_BYTES);
    chunk[FRAME_HEADER_BYTES] = 99; // the caller overwrites its chunk: the view sees it
    expect(f.payload[0]).toBe(99);
  });

  it('reuses one frame object; the buffered payload is reused by the next split frame (copy to keep)', () => {
    const a = encodeFrame({ type: 1, payload: Uint8Array.of(1, 1, 1, 1) });
    const b = encodeFrame({ type: 2, payload: Uint8Array.of(2, 2, 2, 2) });
    const d = createStreamDecoder();
    d.push(a.subarray(0, 3));
    d.read();
    d.push(a.subarray(3));
    const fa = d.read()!;
    const kept = Buffer.from(fa.payload); // the documented way to keep it
    d.push(b.subarray(0, 3));
    d.read();
    d.push(b.subarray(3));
    const fb = d.read()!;
    expect(fb).toBe(fa); // same reused object
    expect([...fa.payload]).toEqual([2, 2, 2, 2]); // the old view now shows the new frame
    expect([...kept]).toEqual([1, 1, 1, 1]);
  });

  it('frameHeaderView returns the 12 header bytes in front of the payload, whole or buffered', () => {
    const frame = encodeFrame({ type: 0x21, flags: 3, channel: 77, payload: Uint8Array.of(4, 5) });
    const check = (f: StreamFrame): void => expect(Buffer.from(frameHeaderView(f)).equals(frame.subarray(0, 12))).toBe(true);
    const whole = createStreamDecoder();
    whole.push(Buffer.concat([Buffer.alloc(0), frame]));
    check(whole.read()!);
    const split = createStreamDecoder();
    split.push(frame.subarray(0, 13));
    split.read();
    split.push(frame.subarray(13));
    check(split.read()!);
    expect(isFramingError(caught(() => frameHeaderView({ version: 1, type: 0, flags: 0, channel: 0, length: 0, payload: new Uint8Array(2) })))).toBe(true);
  });
});
