// Fuzzing the state machines: random and mutated messages fed to a responder and an
// initiator raise only CryptoError and never break the genuine handshake (handshake.md §9).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isCryptoError } from '../src/errors.js';
import { createHandshakeInitiator } from '../src/handshake-initiator.js';
import { createHandshakeResponder } from '../src/handshake-responder.js';
import { T0, seededRandom } from './handshake-helpers.js';

const psk = new Uint8Array(32).fill(8);
const now = (): number => T0;

function onlyCryptoErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!isCryptoError(err)) throw err;
  }
}

describe('handshake fuzz', () => {
  it('random and mutated messages raise only CryptoError', () => {
    const initiator = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'p', psk }, now, random: seededRandom('f') });
    const responder = createHandshakeResponder({ psk: { lookup: () => psk }, now, cookie: { mode: 'never' }, maxPending: 50 });
    const init = initiator.start();
    const response = responder.receive(init, { peerAddress: 'a' }).send!;
    const cookieResponder = createHandshakeResponder({ psk: { lookup: () => psk }, now, cookie: { mode: 'always' } });
    const cookieReply = cookieResponder.receive(init, { peerAddress: 'a' }).send!;
    const other = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'p', psk }, now, random: seededRandom('g') });
    const finish = other.receive(responder.receive(other.start(), { peerAddress: 'a' }).send!).send!;
    const seeds = [init, response, cookieReply, finish];
    const mutated = fc
      .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), fc.nat())
      .map(([seed, edits, cut]) => {
        const m = seed.slice();
        for (const [i, v] of edits) m[i % m.length] = v;
        return cut % 4 === 0 ? m.subarray(0, cut % (m.length + 1)) : m;
      })
      // An edit may write the byte that was already there: that is the genuine message, not a mutation.
      .filter((m) => !seeds.some((seed) => Buffer.compare(seed, m) === 0));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 5000 }), mutated), (msg) => {
        onlyCryptoErrors(() => responder.receive(msg, { peerAddress: 'a' }));
        onlyCryptoErrors(() => initiator.receive(msg));
      }),
      { numRuns: 150 },
    );
    // non-Uint8Array input from a sloppy transport is also only a CryptoError
    onlyCryptoErrors(() => responder.receive('x' as unknown as Uint8Array, { peerAddress: 'a' }));
    // the genuine handshake is unharmed
    expect(initiator.state).toBe('awaiting-response');
    const { send, result } = initiator.receive(response);
    expect(result).toBeDefined();
    expect(responder.receive(send!, { peerAddress: 'a' }).result).toBeDefined();
  });
});
