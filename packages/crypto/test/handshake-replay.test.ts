// Replay and state rules (handshake.md §5, §8): replayed first message, skew window,
// retransmission answered identically, messages in the wrong state, bounded replay cache.
import { beforeAll, describe, expect, it } from 'vitest';
import { createHandshakeInitiator } from '../src/handshake-initiator.js';
import { createHandshakeResponder } from '../src/handshake-responder.js';
import { createHandshakeReplayCache } from '../src/handshake-replay-cache.js';
import { T0, codeOf, runHandshake, seededRandom } from './handshake-helpers.js';
import { createHandshakePki, type HandshakePki } from './handshake-pki-fixture.js';

const psk = new Uint8Array(32).fill(9);
const peerAddress = '10.0.0.2:7000';

function setup(clock: { t: number }, over: object = {}) {
  const now = (): number => clock.t;
  return {
    initiator: createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'p', psk }, now, random: seededRandom(`i${clock.t}`) }),
    responder: createHandshakeResponder({ psk: { lookup: () => psk }, now, cookie: { mode: 'never' }, ...over }),
  };
}

describe('handshake replay protection', () => {
  it('replayed first message after completion -> CRYPTO_HANDSHAKE_REPLAYED', () => {
    const clock = { t: T0 };
    const { initiator, responder } = setup(clock);
    const run = runHandshake(initiator, responder, peerAddress);
    expect(run.responder.peer).toEqual({ kind: 'psk', pskId: 'p' });
    expect(codeOf(() => responder.receive(run.init, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_REPLAYED');
    clock.t += 5_000;
    expect(codeOf(() => responder.receive(run.init, { peerAddress: 'elsewhere' }))).toBe('CRYPTO_HANDSHAKE_REPLAYED');
  });

  it('replayed first message after the pending handshake expired -> REPLAYED', () => {
    const clock = { t: T0 };
    const { initiator, responder } = setup(clock, { pendingTimeoutMs: 1_000 });
    const init = initiator.start();
    responder.receive(init, { peerAddress });
    clock.t += 2_000;
    expect(codeOf(() => responder.receive(init, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_REPLAYED');
    expect(responder.pendingCount).toBe(0);
  });

  it('a retransmitted Init while pending gets the identical Response (UDP loss)', () => {
    const clock = { t: T0 };
    const { initiator, responder } = setup(clock);
    const init = initiator.start();
    const first = responder.receive(init, { peerAddress }).send!;
    expect(initiator.retransmit()).toEqual(init);
    expect(initiator.start()).toEqual(init);
    const second = responder.receive(init, { peerAddress }).send!;
    expect(second).toEqual(first);
    expect(responder.pendingCount).toBe(1);
    const { send } = initiator.receive(second);
    expect(initiator.retransmit()).toEqual(send);
    expect(responder.receive(send!, { peerAddress }).result).toBeDefined();
    // a duplicate Finish of a completed handshake is a state error, dropped by the transport
    expect(codeOf(() => responder.receive(send!, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_STATE');
  });

  it('Init timestamps outside the skew window are refused', () => {
    const clock = { t: T0 };
    const old = setup(clock).initiator.start();
    const r = createHandshakeResponder({ psk: { lookup: () => psk }, now: () => T0 + 31_000, cookie: { mode: 'never' } });
    expect(codeOf(() => r.receive(old, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_REPLAYED');
    const r2 = createHandshakeResponder({ psk: { lookup: () => psk }, now: () => T0 - 31_000, cookie: { mode: 'never' } });
    expect(codeOf(() => r2.receive(old, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_REPLAYED');
    const r3 = createHandshakeResponder({ psk: { lookup: () => psk }, now: () => T0 + 29_000, cookie: { mode: 'never' } });
    expect(r3.receive(old, { peerAddress }).send).toBeDefined();
  });

  it('bounded replay cache: eviction raises a floor instead of re-opening replays', () => {
    const cache = createHandshakeReplayCache({ maxSkewMs: 1000, capacity: 2 });
    cache.check('a', 100, 100);
    cache.check('b', 101, 101);
    cache.check('c', 102, 102); // evicts a, floor = 100
    expect(cache.size).toBe(2);
    expect(codeOf(() => cache.check('a', 100, 103))).toBe('CRYPTO_HANDSHAKE_REPLAYED');
    expect(codeOf(() => cache.check('b', 101, 103))).toBe('CRYPTO_HANDSHAKE_REPLAYED');
    cache.check('d', 103, 103);
    expect(cache.has('d', 103)).toBe(true);
    // entries expire with the window
    expect(cache.has('d', 5000)).toBe(false);
    expect(cache.size).toBe(0);
    expect(codeOf(() => createHandshakeReplayCache({ maxSkewMs: 1, capacity: 0 }))).toBe('CRYPTO_INVALID_ARGUMENT');
  });

  it('pending handshakes are bounded: the oldest is evicted and its Finish refused', () => {
    const clock = { t: T0 };
    const responder = createHandshakeResponder({ psk: { lookup: () => psk }, now: () => clock.t, cookie: { mode: 'never' }, maxPending: 2 });
    const inits = [0, 1, 2].map((k) => createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'p', psk }, now: () => clock.t, random: seededRandom(`m${k}`) }));
    const finishes = inits.map((i) => i.receive(responder.receive(i.start(), { peerAddress }).send!).send!);
    expect(responder.pendingCount).toBe(2);
    expect(codeOf(() => responder.receive(finishes[0]!, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_STATE');
    expect(responder.receive(finishes[2]!, { peerAddress }).result).toBeDefined();
    responder.destroy();
    expect(responder.pendingCount).toBe(0);
  });
});

describe('handshake replay protection, certificate mode (real appliance PKI)', () => {
  let pki: HandshakePki;
  beforeAll(async () => {
    pki = await createHandshakePki(T0);
  });

  it('a replayed certificate-mode Init is refused after completion, and a re-sent Finish too', () => {
    const clock = { t: T0 };
    const now = (): number => clock.t;
    const initiator = createHandshakeInitiator({ credentials: pki.initiator.credentials, now, random: seededRandom('cert-replay') });
    const responder = createHandshakeResponder({ certificate: pki.responder.credentials, now, cookie: { mode: 'never' } });
    const run = runHandshake(initiator, responder, peerAddress);
    expect(run.responder.peer).toMatchObject({ kind: 'certificate', commonName: 'initiator.edgebox' });
    expect(codeOf(() => responder.receive(run.init, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_REPLAYED');
    clock.t += 10_000;
    expect(codeOf(() => responder.receive(run.init, { peerAddress: '203.0.113.66:9' }))).toBe('CRYPTO_HANDSHAKE_REPLAYED');
    expect(codeOf(() => responder.receive(run.finish, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_STATE');
    expect(responder.pendingCount).toBe(0);
  });

  it('a captured certificate-mode Init replayed to another responder of the same CA outside the skew window is refused', () => {
    const init = createHandshakeInitiator({ credentials: pki.initiator.credentials, now: () => T0 }).start();
    const later = createHandshakeResponder({ certificate: pki.responder.credentials, now: () => T0 + 60_000, cookie: { mode: 'never' } });
    expect(codeOf(() => later.receive(init, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_REPLAYED');
  });
});

describe('handshake state machine', () => {
  it('messages in the wrong state -> CRYPTO_HANDSHAKE_STATE', () => {
    const clock = { t: T0 };
    const { initiator, responder } = setup(clock);
    expect(codeOf(() => initiator.receive(new Uint8Array([1, 2])))).toBe('CRYPTO_HANDSHAKE_STATE');
    expect(initiator.retransmit()).toBeUndefined();
    const init = initiator.start();
    expect(codeOf(() => initiator.receive(init))).toBe('CRYPTO_HANDSHAKE_STATE');
    const response = responder.receive(init, { peerAddress }).send!;
    expect(codeOf(() => responder.receive(response, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_STATE');
    const { send } = initiator.receive(response);
    expect(codeOf(() => initiator.receive(response))).toBe('CRYPTO_HANDSHAKE_STATE');
    expect(codeOf(() => initiator.start())).toBe('CRYPTO_HANDSHAKE_STATE');
    // a Finish for another initiator session id
    const other = send!.slice();
    other[7]! ^= 1;
    expect(codeOf(() => responder.receive(other, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_STATE');
    expect(responder.receive(send!, { peerAddress }).result).toBeDefined();
  });

  it('destroy() abandons an initiator', () => {
    const clock = { t: T0 };
    const { initiator } = setup(clock);
    initiator.start();
    initiator.destroy();
    initiator.destroy();
    expect(initiator.state).toBe('failed');
    expect(initiator.retransmit()).toBeUndefined();
    expect(codeOf(() => initiator.receive(new Uint8Array(10)))).toBe('CRYPTO_HANDSHAKE_STATE');
  });
});
