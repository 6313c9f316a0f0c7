// The derived keys work: both sides' per-direction keys encrypt and decrypt real data with
// the negotiated AEAD through the package's createAead (node:crypto, and noble agreeing),
// with counter nonces (4-byte prefix from the handshake + counter, nonce.ts), and destroy()
// zeroizes them (handshake.md §4).
import { describe, expect, it } from 'vitest';
import { createAead, type AeadImplementation } from '../src/aead.js';
import { createNonceSequence, writeCounterNonce } from '../src/nonce.js';
import { createHandshakeInitiator } from '../src/handshake-initiator.js';
import { createHandshakeResponder } from '../src/handshake-responder.js';
import type { HandshakeSuite } from '../src/handshake-constants.js';
import type { HandshakeResult } from '../src/handshake-types.js';
import { T0, codeOf, runHandshake, seededRandom } from './handshake-helpers.js';

const psk = new Uint8Array(32).fill(0x5a);

/** Seal with our send key and send nonce prefix at `counter`. */
function seal(r: HandshakeResult, counter: number, plaintext: Uint8Array, implementation: AeadImplementation = 'node'): Uint8Array {
  const aead = createAead(r.aead, r.sendKey, { implementation });
  const nonce = new Uint8Array(12);
  writeCounterNonce(nonce, r.sendNoncePrefix, counter);
  try {
    return aead.seal(nonce, plaintext);
  } finally {
    aead.destroy();
  }
}
/** Open with our receive key and receive nonce prefix at `counter` (CRYPTO_AUTH_FAILED on mismatch). */
function open(r: HandshakeResult, counter: number, sealed: Uint8Array, implementation: AeadImplementation = 'node'): Uint8Array {
  const aead = createAead(r.aead, r.receiveKey, { implementation });
  const nonce = new Uint8Array(12);
  writeCounterNonce(nonce, r.receiveNoncePrefix, counter);
  try {
    return aead.open(nonce, sealed);
  } finally {
    aead.destroy();
  }
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
      // node:crypto and noble agree on the session keys too
      expect(seal(a, 3, msg, 'noble')).toEqual(seal(a, 3, msg, 'node'));
      expect(open(b, 3, seal(a, 3, msg), 'noble')).toEqual(msg);
      // a key used in the wrong direction, or the wrong counter, does not open
      expect(codeOf(() => open(a, 0, seal(a, 0, msg)))).toBe('CRYPTO_AUTH_FAILED');
      expect(codeOf(() => open(b, 1, seal(a, 0, msg)))).toBe('CRYPTO_AUTH_FAILED');
    });
  }

  it('a data-plane nonce sequence on the send prefix is opened by the peer from the counter alone', () => {
    const { initiator: a, responder: b } = handshake('x25519-mlkem768-aes256gcm');
    const sender = createAead(a.aead, a.sendKey);
    const seq = createNonceSequence({ prefix: a.sendNoncePrefix });
    for (let k = 0; k < 3; k++) {
      const counter = seq.next();
      const packet = new TextEncoder().encode(`packet ${counter}`);
      expect(open(b, counter, sender.seal(seq.nonce, packet))).toEqual(packet);
    }
    sender.destroy();
  });

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
