// The committed test vectors (docs/protocols/vectors/handshake/*.json, handshake.md §10)
// are reproduced byte for byte.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeVector, type VectorInputs } from './handshake-vectors-lib.js';

const dir = join(import.meta.dirname, '../../../docs/protocols/vectors/handshake');
const files = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.startsWith('cert-'));

describe('handshake test vectors', () => {
  it('has vectors', () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
  });
  for (const file of files) {
    it(`reproduces ${file}`, () => {
      const vector = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { inputs: VectorInputs; derived: { responderAgrees: boolean } };
      expect(vector.derived.responderAgrees).toBe(true);
      expect(computeVector(vector.inputs)).toEqual(vector);
    });
  }
});
