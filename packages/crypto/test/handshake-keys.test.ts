// The derived keys work: both sides' per-direction keys encrypt and decrypt real data with
// the negotiated AEAD (counter nonces: 4-byte prefix + 8-byte counter), and destroy()
// zeroizes them (handshake.md §4).
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHandshakeInitiator } from '../src/handshake-initiator.js';
import { createHandshakeResponder } from '../src/handshake-responder.js';
import type { HandshakeSuite } from '../src/handshake-constants.js';
import type { HandshakeResult } from '../src/handshake-types.js';
import { T0, runHandshake, seededRandom } from './handshake-helpers.js';

const psk = new Uint8Array(32).fill(0x5a);

function nonce(prefix: Uint8Array, counter: number): Uint8Array {
  const n = new Uint8Array(12);
  n.set(prefix);
  new DataView(n.buffer).setBigUint64(4, BigInt(counter));
  return n;
}

// TEMPORARY: node:crypto directly until createAead lands.
function seal(r: HandshakeResult, counter: number, plaintext: Uint8Array): Uint8Array {
  const alg = (r.aead === 'chacha20-poly1305' ? 'chacha20-poly1305' : 'aes-256-gcm') as CipherGCMTypes;
  const c = createCipheriv(alg, r.sendKey, nonce(r.sendNoncePrefix, counter), { authTagLength: 16 });
  return new Uint8Array(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]));
}
function open(r: HandshakeResult, counter: number, sealed: Uint8Array): Uint8Array {
  const alg = (r.aead === 'chacha20-poly1305' ? 'chacha20-poly1305' : 'aes-256-gcm') as CipherGCMTypes;
  const d = createDecipheriv(alg, r.receiveKey, nonce(r.receiveNoncePrefix, counter), { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return new Uint8Array(Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]));
}

function handshake(suite: HandshakeSuite) {
  const now = (): number => T0;
  const i = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'k', psk }, now, suites: [suite], random: seededRandom(suite) });
  const r = createHandshakeResponder({ psk: { lookup: () => psk }, now, suites: [suite], cookie: { mode: 'never' } });
  return runHandshake(i, r);
}

describe('handshake keys', () => {
  for (const suite of ['x25519-mlkem768-chacha20poly1305', 'x25519-mlkem768-aes256gcm', 'x25519-chacha20poly1305', 'x25519-aes256gcm'] as const) {
    it(`both sides derive matching per-direction keys that encrypt/decrypt (${suite})`, () => {
      const { initiator: a, responder: b } = handshake(suite);
      expect(a.suite).toBe(suite);
      expect(a.role).toBe('initiator');
      expect(b.role).toBe('responder');
      const msg = new TextEncoder().encode('hello over the bond');
      expect(open(b, 0, seal(a, 0, msg))).toEqual(msg);
      expect(open(a, 7, seal(b, 7, msg))).toEqual(msg);
      // a key used in the wrong direction does not open
      expect(() => open(a, 0, seal(a, 0, msg))).toThrow();
    });
  }

  it('keys zeroized after destroy()', () => {
    const { initiator: a, responder: b } = handshake('x25519-mlkem768-chacha20poly1305');
    for (const r of [a, b]) {
      expect(r.sendKey.some((x) => x !== 0)).toBe(true);
      r.destroy();
      r.destroy();
      for (const k of [r.sendKey, r.receiveKey, r.sendNoncePrefix, r.receiveNoncePrefix]) expect(k.every((x) => x === 0)).toBe(true);
    }
  });
});
