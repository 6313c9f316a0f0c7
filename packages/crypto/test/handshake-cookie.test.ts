// Stateless retry cookie (handshake.md §7): needed, valid, forged, other address, stale,
// under-load threshold, and the amplification bound.
import { describe, expect, it } from 'vitest';
import { createHandshakeInitiator } from '../src/handshake-initiator.js';
import { createHandshakeResponder, type HandshakeCookieMode } from '../src/handshake-responder.js';
import { createHandshakeCookieJar } from '../src/handshake-cookie.js';
import { decodeInit, encodeInit } from '../src/handshake-messages.js';
import { HS_COOKIE_REPLY_BYTES } from '../src/handshake-constants.js';
import { T0, codeOf, seededRandom } from './handshake-helpers.js';

const psk = new Uint8Array(32).fill(3);
const addr = '203.0.113.5:51820';

function setup(mode: HandshakeCookieMode, clock = { t: T0 }, over: object = {}) {
  const now = (): number => clock.t;
  return {
    clock,
    initiator: createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'p', psk }, now, random: seededRandom(`c${clock.t}${mode}`) }),
    responder: createHandshakeResponder({ psk: { lookup: () => psk }, now, cookie: { mode, rotationMs: 10_000 }, ...over }),
  };
}

describe('handshake retry cookie', () => {
  it('cookie needed: a 45-byte CookieReply, no state kept; the re-sent Init completes', () => {
    const { initiator, responder } = setup('always');
    const init = initiator.start();
    const reply = responder.receive(init, { peerAddress: addr }).send!;
    expect(reply.length).toBe(HS_COOKIE_REPLY_BYTES);
    expect(reply.length * 3).toBeLessThan(init.length);
    expect(responder.pendingCount).toBe(0);
    const retry = initiator.receive(reply).send!;
    expect(retry.length).toBe(init.length + 20);
    expect(initiator.retransmit()).toEqual(retry);
    const response = responder.receive(retry, { peerAddress: addr }).send!;
    expect(response.length).toBeLessThan(3 * init.length); // amplification bound
    const { send, result } = initiator.receive(response);
    expect(responder.receive(send!, { peerAddress: addr }).result!.sendKey).toEqual(result!.receiveKey);
  });

  it('forged cookie -> CRYPTO_HANDSHAKE_COOKIE', () => {
    const { initiator, responder } = setup('always');
    const init = initiator.start();
    const forged = encodeInit({ ...decodeInit(init), cookie: new Uint8Array(20).fill(1) }).bytes;
    expect(codeOf(() => responder.receive(forged, { peerAddress: addr }))).toBe('CRYPTO_HANDSHAKE_COOKIE');
    const retry = initiator.receive(responder.receive(init, { peerAddress: addr }).send!).send!;
    const bad = retry.slice();
    bad[bad.length - 1]! ^= 0x80;
    expect(codeOf(() => responder.receive(bad, { peerAddress: addr }))).toBe('CRYPTO_HANDSHAKE_COOKIE');
  });

  it('cookie from another address -> CRYPTO_HANDSHAKE_COOKIE', () => {
    const { initiator, responder } = setup('always');
    const retry = initiator.receive(responder.receive(initiator.start(), { peerAddress: addr }).send!).send!;
    expect(codeOf(() => responder.receive(retry, { peerAddress: '203.0.113.6:51820' }))).toBe('CRYPTO_HANDSHAKE_COOKIE');
    expect(codeOf(() => responder.receive(retry, { peerAddress: new TextEncoder().encode('x') }))).toBe('CRYPTO_HANDSHAKE_COOKIE');
    expect(responder.receive(retry, { peerAddress: addr }).send).toBeDefined();
  });

  it('stale cookie (two rotations later) -> CRYPTO_HANDSHAKE_COOKIE; one rotation later still valid', () => {
    const jar = createHandshakeCookieJar({ secret: new Uint8Array(32).fill(5), rotationMs: 10_000 });
    const th1 = new Uint8Array(32).fill(1);
    const cookie = jar.mint(addr, th1, T0);
    jar.verify(cookie, addr, th1, T0 + 10_000);
    expect(codeOf(() => jar.verify(cookie, addr, th1, T0 + 20_001))).toBe('CRYPTO_HANDSHAKE_COOKIE');
    expect(codeOf(() => jar.verify(cookie, addr, th1, T0 - 10_000))).toBe('CRYPTO_HANDSHAKE_COOKIE');
    expect(codeOf(() => jar.verify(cookie.subarray(0, 10), addr, th1, T0))).toBe('CRYPTO_HANDSHAKE_COOKIE');
    expect(codeOf(() => jar.verify(cookie, addr, new Uint8Array(32), T0))).toBe('CRYPTO_HANDSHAKE_COOKIE');
    expect(codeOf(() => createHandshakeCookieJar({ secret: new Uint8Array(4), rotationMs: 1 }))).toBe('CRYPTO_INVALID_ARGUMENT');
    expect(codeOf(() => createHandshakeCookieJar({ secret: new Uint8Array(32), rotationMs: 0 }))).toBe('CRYPTO_INVALID_ARGUMENT');
    // through the responder: the initiator waits too long with its cookie
    const s = setup('always', { t: T0 }, { maxSkewMs: 60_000 });
    const retry = s.initiator.receive(s.responder.receive(s.initiator.start(), { peerAddress: addr }).send!).send!;
    s.clock.t += 25_000;
    expect(codeOf(() => s.responder.receive(retry, { peerAddress: addr }))).toBe('CRYPTO_HANDSHAKE_COOKIE');
  });

  it('under-load mode demands cookies only from the load threshold on; never mode never does', () => {
    const clock = { t: T0 };
    const responder = createHandshakeResponder({ psk: { lookup: () => psk }, now: () => clock.t, cookie: { mode: 'under-load', loadThreshold: 1 } });
    const mk = (k: number) => createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'p', psk }, now: () => clock.t, random: seededRandom(`u${k}`) });
    expect(responder.receive(mk(1).start(), { peerAddress: addr }).send!.length).toBeGreaterThan(HS_COOKIE_REPLY_BYTES);
    expect(responder.receive(mk(2).start(), { peerAddress: addr }).send!.length).toBe(HS_COOKIE_REPLY_BYTES);
    const never = setup('never');
    expect(never.responder.receive(never.initiator.start(), { peerAddress: addr }).send!.length).toBeGreaterThan(HS_COOKIE_REPLY_BYTES);
  });

  it('a CookieReply for another Init is refused by the initiator', () => {
    const a = setup('always');
    const b = setup('always', { t: T0 + 1 });
    a.initiator.start();
    const replyForB = b.responder.receive(b.initiator.start(), { peerAddress: addr }).send!;
    expect(codeOf(() => a.initiator.receive(replyForB))).toBe('CRYPTO_HANDSHAKE_COOKIE');
  });

  it('a short (unpadded) Init is refused before any work (amplification)', () => {
    const { initiator, responder } = setup('never');
    const d = decodeInit(initiator.start());
    const short = encodeInit({ ...d, suiteIds: [0x11], mlkemPublicKey: undefined, paddingBytes: 0 }).bytes;
    expect(short.length).toBeLessThan(1200);
    expect(codeOf(() => responder.receive(short, { peerAddress: addr }))).toBe('CRYPTO_HANDSHAKE_MALFORMED');
  });
});
