import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineClassicalSecret, combineHybridSecret } from '../src/hybrid.js';
import { generateX25519KeyPair, x25519SharedSecret } from '../src/x25519.js';
import { mlkemDecapsulate, mlkemEncapsulate, mlkemKeygen } from '../src/mlkem.js';
import { toHex } from './vectors.js';

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const th = new Uint8Array(32).fill(0x77);

describe('combineHybridSecret', () => {
  it('both sides of a real X25519 + ML-KEM exchange derive the same secret', () => {
    const a = generateX25519KeyPair();
    const b = generateX25519KeyPair();
    const kem = mlkemKeygen();
    const enc = mlkemEncapsulate(kem.publicKey);
    const sa = combineHybridSecret({ classical: x25519SharedSecret(a.privateKey, b.publicKey), postQuantum: enc.sharedSecret, transcriptHash: th, label: 'handshake' });
    const sb = combineHybridSecret({
      classical: x25519SharedSecret(b.privateKey, a.publicKey),
      postQuantum: mlkemDecapsulate(enc.ciphertext, kem.secretKey),
      transcriptHash: th,
      label: 'handshake',
    });
    expect(sa).toHaveLength(32);
    expect(toHex(sa)).toBe(toHex(sb));
  });

  it('changes if EITHER secret changes, or the transcript, or the label', () => {
    fc.assert(
      fc.property(bytes32, bytes32, bytes32, bytes32, (c, pq, c2, pq2) => {
        fc.pre(toHex(c) !== toHex(c2) && toHex(pq) !== toHex(pq2));
        const base = toHex(combineHybridSecret({ classical: c, postQuantum: pq, transcriptHash: th, label: 'x' }));
        expect(toHex(combineHybridSecret({ classical: c2, postQuantum: pq, transcriptHash: th, label: 'x' }))).not.toBe(base);
        expect(toHex(combineHybridSecret({ classical: c, postQuantum: pq2, transcriptHash: th, label: 'x' }))).not.toBe(base);
        expect(toHex(combineHybridSecret({ classical: c, postQuantum: pq, transcriptHash: c2, label: 'x' }))).not.toBe(base);
        expect(toHex(combineHybridSecret({ classical: c, postQuantum: pq, transcriptHash: th, label: 'y' }))).not.toBe(base);
      }),
      { numRuns: 50 },
    );
  });

  it('knowing one secret alone does not give the output (other replaced by zeros or random)', () => {
    fc.assert(
      fc.property(bytes32, bytes32, bytes32, (c, pq, guess) => {
        fc.pre(toHex(guess) !== toHex(c) && toHex(guess) !== toHex(pq));
        const real = toHex(combineHybridSecret({ classical: c, postQuantum: pq, transcriptHash: th, label: 'k' }));
        const zero = new Uint8Array(32);
        fc.pre(toHex(c) !== toHex(zero) && toHex(pq) !== toHex(zero));
        // an attacker who knows only the classical secret (e.g. a quantum adversary)
        expect(toHex(combineHybridSecret({ classical: c, postQuantum: zero, transcriptHash: th, label: 'k' }))).not.toBe(real);
        expect(toHex(combineHybridSecret({ classical: c, postQuantum: guess, transcriptHash: th, label: 'k' }))).not.toBe(real);
        // ... or only the post-quantum one
        expect(toHex(combineHybridSecret({ classical: zero, postQuantum: pq, transcriptHash: th, label: 'k' }))).not.toBe(real);
        expect(toHex(combineHybridSecret({ classical: guess, postQuantum: pq, transcriptHash: th, label: 'k' }))).not.toBe(real);
        // ... and the classical-only derivation from the known classical part is unrelated
        expect(toHex(combineClassicalSecret({ classical: c, transcriptHash: th, label: 'k' }))).not.toBe(real);
      }),
      { numRuns: 50 },
    );
  });

  it('swapping the two secrets changes the output (inputs are ordered)', () => {
    const c = new Uint8Array(32).fill(1);
    const pq = new Uint8Array(32).fill(2);
    expect(toHex(combineHybridSecret({ classical: c, postQuantum: pq, transcriptHash: th, label: 'k' }))).not.toBe(
      toHex(combineHybridSecret({ classical: pq, postQuantum: c, transcriptHash: th, label: 'k' })),
    );
  });

  it('longer outputs extend the 32-byte one (HKDF-Expand prefix property)', () => {
    const input = { classical: new Uint8Array(32).fill(1), postQuantum: new Uint8Array(32).fill(2), transcriptHash: th, label: 'k' };
    const s64 = combineHybridSecret({ ...input, length: 64 });
    expect(s64).toHaveLength(64);
    expect(toHex(s64.subarray(0, 32))).toBe(toHex(combineHybridSecret(input)));
  });

  it('validates inputs', () => {
    const ok = { classical: new Uint8Array(32), postQuantum: new Uint8Array(32), transcriptHash: th, label: 'k' };
    expect(() => combineHybridSecret({ ...ok, classical: new Uint8Array(31) })).toThrow(/classical secret length 31 != 32/);
    expect(() => combineHybridSecret({ ...ok, postQuantum: new Uint8Array(0) })).toThrow(/postQuantum secret length 0 != 32/);
    expect(() => combineHybridSecret({ ...ok, transcriptHash: new Uint8Array(16) })).toThrow(/transcriptHash length 16 < 32/);
    expect(() => combineHybridSecret({ ...ok, label: '' })).toThrow(/label length 0 outside 1\.\.255/);
    expect(() => combineHybridSecret({ ...ok, length: 16 })).toThrow(/combined secret length 16 outside 32\.\.8160/);
    expect(() => combineClassicalSecret(ok)).toThrow(/use combineHybridSecret/);
  });
});

describe('combineClassicalSecret', () => {
  it('is deterministic, 32 bytes, and never equals the hybrid output for the same classical secret', () => {
    const c = new Uint8Array(32).fill(5);
    const s = combineClassicalSecret({ classical: c, transcriptHash: th, label: 'handshake' });
    expect(s).toHaveLength(32);
    expect(toHex(combineClassicalSecret({ classical: c, transcriptHash: th, label: 'handshake' }))).toBe(toHex(s));
    expect(toHex(combineHybridSecret({ classical: c, postQuantum: new Uint8Array(32), transcriptHash: th, label: 'handshake' }))).not.toBe(toHex(s));
  });
});
