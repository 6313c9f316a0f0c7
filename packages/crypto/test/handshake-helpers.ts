// Test helpers for the handshake: a deterministic random stream, a fixed clock and a
// function that runs a full in-memory handshake.
import { createHash } from 'node:crypto';
import type { HandshakeInitiator } from '../src/handshake-initiator.js';
import type { HandshakeResponder } from '../src/handshake-responder.js';
import type { HandshakeResult } from '../src/handshake-types.js';

/** random(n) = next n bytes of SHA-256(seed ‖ u32 counter) blocks (handshake.md §10). */
export function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  let pool = new Uint8Array(0);
  return (n: number) => {
    while (pool.length < n) {
      const c = Buffer.alloc(4);
      c.writeUInt32BE(counter++);
      const block = createHash('sha256').update(seed).update(c).digest();
      const next = new Uint8Array(pool.length + block.length);
      next.set(pool);
      next.set(block, pool.length);
      pool = next;
    }
    const out = pool.slice(0, n);
    pool = pool.slice(n);
    return out;
  };
}

export const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);

export interface Run {
  init: Uint8Array;
  response: Uint8Array;
  finish: Uint8Array;
  initiator: HandshakeResult;
  responder: HandshakeResult;
}

/** Run Init -> Response -> Finish between the two and return every message and result. */
export function runHandshake(i: HandshakeInitiator, r: HandshakeResponder, peerAddress = '192.0.2.1:5000'): Run {
  const init = i.start();
  const response = r.receive(init, { peerAddress }).send!;
  const step = i.receive(response);
  const finish = step.send!;
  const done = r.receive(finish, { peerAddress });
  return { init, response, finish, initiator: step.result!, responder: done.result! };
}

/** Call fn and return the code of the CryptoError it throws (fails if it does not throw). */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('CRYPTO_')) throw err;
    return code;
  }
  throw new Error('expected a CryptoError, nothing was thrown');
}
