// Test helpers: vector loading, hex, and a collector that copies decoded frames (payload
// views are only valid until the decoder's next call, so tests must copy what they keep).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { FrameInit, StreamDecoder, StreamFrame } from '../src/index.js';

/** docs/protocols/vectors/framing/<file> parsed as JSON. */
export function loadVectors<T>(file: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../../../docs/protocols/vectors/framing', file), 'utf8')) as T;
}

export function hex(s: string): Buffer {
  return Buffer.from(s, 'hex');
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** A decoded frame copied out of the decoder's reused object. */
export interface CopiedFrame {
  type: number;
  flags: number;
  channel: number;
  payload: string;
}

export function copyFrame(f: StreamFrame): CopiedFrame {
  return { type: f.type, flags: f.flags, channel: f.channel, payload: toHex(f.payload) };
}

export function expectedFrame(f: FrameInit): CopiedFrame {
  return { type: f.type, flags: f.flags ?? 0, channel: f.channel ?? 0, payload: toHex(f.payload ?? new Uint8Array(0)) };
}

/** Push every chunk, reading all frames after each, and return copies. */
export function decodeChunks(decoder: StreamDecoder, chunks: readonly Uint8Array[]): CopiedFrame[] {
  const out: CopiedFrame[] = [];
  for (const c of chunks) {
    decoder.push(c);
    for (let f = decoder.read(); f !== null; f = decoder.read()) out.push(copyFrame(f));
  }
  return out;
}

/** Split `bytes` at the given cut points (sorted, deduplicated inside). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  chunks.push(bytes.subarray(prev));
  return chunks;
}

/** fast-check arbitrary of one frame to encode. */
export const frameArb: fc.Arbitrary<FrameInit> = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  flags: fc.integer({ min: 0, max: 255 }),
  channel: fc.oneof(fc.constantFrom(0, 1, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff })),
  payload: fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1000, maxLength: 3000 }) },
  ),
});
