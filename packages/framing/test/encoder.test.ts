// Stream frame encoders (framing.md §3): one Buffer per frame, in place at an offset, or a
// batch in one Buffer; every field and limit checked before anything is written.
import { describe, expect, it } from 'vitest';
import { FRAME_HEADER_BYTES, createStreamDecoder, encodeFrame, encodeFrameInto, encodeFrames, frameLength, type FrameInit } from '../src/index.js';
import { decodeChunks, expectedFrame } from './helpers.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no error';
}

describe('encodeFrame', () => {
  it('writes header then payload into a buffer of exactly 12 + payload bytes', () => {
    const out = encodeFrame({ type: 0x11, flags: 1, channel: 258, payload: Uint8Array.of(0xaa, 0xbb) });
    expect(out).toBeInstanceOf(Buffer);
    expect(out.toString('hex')).toBe('01110100' + '00000102' + '00000002' + 'aabb');
    expect(out.length).toBe(frameLength(2));
  });

  it('copies the payload (later changes to the source do not leak in)', () => {
    const payload = Uint8Array.of(1, 2, 3);
    const out = encodeFrame({ type: 1, payload });
    payload[0] = 9;
    expect(out[FRAME_HEADER_BYTES]).toBe(1);
  });

  it('defaults flags, channel and payload', () => {
    expect(encodeFrame({ type: 0x12 }).toString('hex')).toBe('011200000000000000000000');
  });

  it('refuses a payload over maxPayload and accepts exactly maxPayload', () => {
    expect(codeOf(() => encodeFrame({ type: 1, payload: new Uint8Array(11) }, { maxPayload: 10 }))).toBe('FRAMING_TOO_LARGE');
    expect(encodeFrame({ type: 1, payload: new Uint8Array(10) }, { maxPayload: 10 }).length).toBe(22);
  });

  it('refuses fields out of range and non-objects', () => {
    expect(codeOf(() => encodeFrame({ type: -1 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeFrame({ type: 1, flags: 256 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeFrame({ type: 1, channel: -1 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeFrame({ type: 1, channel: Number.NaN }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeFrame({ type: 1, payload: 'x' as unknown as Uint8Array }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeFrame(null as unknown as FrameInit))).toBe('FRAMING_INVALID_ARGUMENT');
  });
});

describe('encodeFrameInto', () => {
  it('writes at an offset, returns the end offset and touches nothing else', () => {
    const target = new Uint8Array(40).fill(0xee);
    const end = encodeFrameInto(target, 5, { type: 2, channel: 1, payload: Uint8Array.of(7, 8) });
    expect(end).toBe(5 + 14);
    expect(target[4]).toBe(0xee);
    expect(target[end]).toBe(0xee);
    expect(Buffer.from(target.subarray(5, end)).equals(encodeFrame({ type: 2, channel: 1, payload: Uint8Array.of(7, 8) }))).toBe(true);
  });

  it('refuses a frame that does not fit, writing nothing', () => {
    const target = new Uint8Array(13).fill(0xee);
    expect(codeOf(() => encodeFrameInto(target, 0, { type: 1, payload: Uint8Array.of(1, 2) }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeFrameInto(target, -1, { type: 1 }))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(target.every((b) => b === 0xee)).toBe(true);
  });
});

describe('encodeFrames', () => {
  it('batches many frames into one buffer that decodes back to them', () => {
    const frames: FrameInit[] = Array.from({ length: 50 }, (_, i) => ({ type: 0x11, flags: i & 1, channel: i, payload: new Uint8Array(i).fill(i) }));
    const out = encodeFrames(frames);
    expect(out.length).toBe(frames.reduce((n, f) => n + frameLength(f.payload!.length), 0));
    expect(decodeChunks(createStreamDecoder(), [out])).toEqual(frames.map(expectedFrame));
  });

  it('returns an empty buffer for no frames', () => {
    expect(encodeFrames([]).length).toBe(0);
  });

  it('checks every frame before allocating: one bad frame fails the batch', () => {
    expect(codeOf(() => encodeFrames([{ type: 1 }, { type: 1, payload: new Uint8Array(5) }], { maxPayload: 4 }))).toBe('FRAMING_TOO_LARGE');
    expect(codeOf(() => encodeFrames([{ type: 1 }, { type: 999 }]))).toBe('FRAMING_INVALID_ARGUMENT');
    expect(codeOf(() => encodeFrames('nope' as unknown as FrameInit[]))).toBe('FRAMING_INVALID_ARGUMENT');
  });
});
