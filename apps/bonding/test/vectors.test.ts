// docs/protocols/vectors/bonding/data.json (written by vectors-generate.ts from node:crypto
// and plain Buffer writes): seal() must produce each datagram byte for byte, with both AEAD
// implementations, and open() must give back its inner header and payload.
import { describe, expect, it } from 'vitest';
import { decodeFeedback } from '../src/feedback.js';
import { createInnerHeader, decodeInnerHeader, type InnerHeader } from '../src/inner-header.js';
import { INNER_HEADER_BYTES, TYPE_FEEDBACK } from '../src/constants.js';
import { createSession, OPEN_OK } from '../src/session.js';
import { handshakeResult, hex, loadVectors, toHex } from './helpers.js';

interface Vector {
  name: string;
  aead: 'chacha20-poly1305' | 'aes-256-gcm';
  key: string;
  noncePrefix: string;
  receiver: number;
  counter: number;
  type: number;
  inner: InnerHeader;
  payload: string;
  nonce: string;
  aad: string;
  plaintext: string;
  datagram: string;
}

const file = loadVectors<{ version: number; outerHeaderBytes: number; innerHeaderBytes: number; tagBytes: number; datagrams: Vector[] }>('data.json');
const OTHER_KEY = new Uint8Array(32).fill(0x77);
const OTHER_PREFIX = hex('00000000');

function sender(v: Vector, implementation: 'node' | 'noble') {
  return createSession(
    handshakeResult({
      aead: v.aead,
      sendKey: hex(v.key),
      receiveKey: OTHER_KEY,
      sendNoncePrefix: hex(v.noncePrefix),
      receiveNoncePrefix: OTHER_PREFIX,
      localSessionId: 1,
      remoteSessionId: v.receiver,
    }),
    { nowMs: 0, implementation },
  );
}

function receiver(v: Vector, implementation: 'node' | 'noble') {
  return createSession(
    handshakeResult({
      aead: v.aead,
      sendKey: OTHER_KEY,
      receiveKey: hex(v.key),
      sendNoncePrefix: OTHER_PREFIX,
      receiveNoncePrefix: hex(v.noncePrefix),
      localSessionId: v.receiver,
      remoteSessionId: 1,
    }),
    { nowMs: 0, implementation },
  );
}

describe('bonding vectors (data.json)', () => {
  it('describe the sizes of the spec', () => {
    expect(file).toMatchObject({ version: 1, revision: 2, outerHeaderBytes: 16, innerHeaderBytes: 12, tagBytes: 16 });
    expect(file.datagrams.length).toBeGreaterThanOrEqual(3);
  });

  for (const v of file.datagrams) {
    for (const implementation of ['node', 'noble'] as const) {
      it(`${v.name}: seal() writes the vector's bytes (${implementation})`, () => {
        const s = sender(v, implementation);
        const out = new Uint8Array(2048);
        const filler = createInnerHeader();
        for (let i = 0; i < v.counter; i++) s.seal(0x41, filler, new Uint8Array(0), out); // spend counters 0..counter-1
        const n = s.seal(v.type, createInnerHeader(v.inner), hex(v.payload), out);
        expect(toHex(out.subarray(0, n))).toBe(v.datagram);
      });

      it(`${v.name}: open() gives the inner header and payload back (${implementation})`, () => {
        const r = receiver(v, implementation);
        expect(r.open(hex(v.datagram), 0)).toBe(OPEN_OK);
        expect(r.opened.type).toBe(v.type);
        expect(r.opened.counter).toBe(v.counter);
        expect({ ...r.opened.header }).toEqual(v.inner);
        expect(toHex(r.opened.payload)).toBe(v.payload);
      });
    }

    it(`${v.name}: the parts agree with each other`, () => {
      const d = hex(v.datagram);
      expect(toHex(d.subarray(0, 16))).toBe(v.aad);
      expect(v.nonce).toBe(v.noncePrefix + toHex(new Uint8Array(new BigUint64Array([BigInt(v.counter)]).buffer)));
      expect(d.length).toBe(16 + v.plaintext.length / 2 + 16);
      expect({ ...decodeInnerHeader(hex(v.plaintext)) }).toEqual(v.inner);
      expect(v.plaintext.slice(2 * INNER_HEADER_BYTES)).toBe(v.payload);
      if (v.type === TYPE_FEEDBACK) expect(decodeFeedback(hex(v.payload)).count).toBeGreaterThan(0);
    });
  }
});
