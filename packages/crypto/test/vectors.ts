// Loads the standard test vectors in test/vectors/ (sources in test/vectors/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Parse test/vectors/<file> as JSON. */
export function loadVectors<T>(file: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', file), 'utf8')) as T;
}

/** Hex string to bytes (test-only helper). */
export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

/** Bytes to hex string. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
