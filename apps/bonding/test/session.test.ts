// Sessions (bonding.md §2, §3, §6): seal/open round trips for every type and both AEADs,
// interop between the node and noble implementations, tampering counted as bad auth, replays
// dropped only after authentication, every drop reason counted, rekey and reject limits,
// destroy() wiping keys, and a real PSK handshake from @edgebox/crypto feeding two sessions.
import { createAead, createHandshakeInitiator, createHandshakeResponder, writeCounterNonce } from '@edgebox/crypto';
import { decodeDatagram, encodeDatagramHeader } from '@edgebox/framing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DATAGRAM_MIN_BYTES,
  DATAGRAM_OVERHEAD_BYTES,
  INNER_HEADER_BYTES,
  TYPE_CLOSE,
  TYPE_DATA,
  TYPE_FEEDBACK,
  TYPE_PROBE,
  TYPE_PROBE_ACK,
} from '../src/constants.js';
import { createInnerHeader } from '../src/inner-header.js';
import {
  createSession,
  OPEN_BAD_AUTH,
  OPEN_CODE_NAMES,
  OPEN_EXPIRED,
  OPEN_MALFORMED,
  OPEN_OK,
  OPEN_REPLAYED,
  OPEN_TOO_SHORT,
  OPEN_WRONG_SESSION,
  peekReceiverIndex,
  type BondingSession,
  type SessionInit,
} from '../src/session.js';
import { CLIENT_KEY, CLIENT_PREFIX, counting, resultPair, toHex } from './helpers.js';

const T0 = 1_000;

function pair(init: SessionInit = {}, aead: 'chacha20-poly1305' | 'aes-256-gcm' = 'chacha20-poly1305') {
  const r = resultPair(aead);
  return { client: createSession(r.client, { nowMs: T0, ...init }), server: createSession(r.server, { nowMs: T0, ...init }), results: r };
}

const header = createInnerHeader({ linkId: 1, linkSeq: 10, dataSeq: 20, sendTimeMs: 30, echoTimeMs: 25, echoHoldMs: 2 });
const out = new Uint8Array(2048);

/** Seal into a fresh copy (tests keep datagrams around). */
function seal(s: BondingSession, payload: Uint8Array, type = TYPE_DATA): Uint8Array {
  const n = s.seal(type, header, payload, out);
  return out.slice(0, n);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code';
  }
  return 'did not throw';
}

describe('session seal/open', () => {
  it.each(['chacha20-poly1305', 'aes-256-gcm'] as const)('round-trips DATA with %s, both directions', (aead) => {
    const { client, server } = pair({}, aead);
    const packet = counting(100);
    const d = seal(client, packet);
    expect(d.length).toBe(100 + DATAGRAM_OVERHEAD_BYTES);
    expect(peekReceiverIndex(d)).toBe(7);
    expect(server.open(d, T0 + 5)).toBe(OPEN_OK);
    expect(server.opened.type).toBe(TYPE_DATA);
    expect(server.opened.counter).toBe(0);
    expect({ ...server.opened.header }).toEqual({ ...header });
    expect(toHex(server.opened.payload)).toBe(toHex(packet));
    expect(server.lastReceivedMs).toBe(T0 + 5);
    const back = seal(server, counting(3, 9));
    expect(peekReceiverIndex(back)).toBe(0x0a0b0c0d);
    expect(client.open(back, T0)).toBe(OPEN_OK);
    expect(toHex(client.opened.payload)).toBe('090a0b');
    expect(client.counters.opened).toBe(1);
    expect(server.counters.sealed).toBe(1);
  });

  it('the outer header is the framing datagram header, in the clear', () => {
    const { client } = pair();
    const d = seal(client, counting(5));
    seal(client, counting(5));
    const second = seal(client, counting(5));
    const view = decodeDatagram(second);
    expect(view.version).toBe(1);
    expect(view.type).toBe(TYPE_DATA);
    expect(view.receiver).toBe(7);
    expect(view.counter).toBe(2);
    expect(view.body.length).toBe(INNER_HEADER_BYTES + 5 + 16);
    expect(d.length).toBe(second.length);
  });

  it('carries every type with its payload rule', () => {
    const { client, server } = pair();
    const cases: [number, Uint8Array][] = [
      [TYPE_PROBE, new Uint8Array(0)],
      [TYPE_PROBE, new Uint8Array(1200)],
      [TYPE_PROBE_ACK, new Uint8Array(2)],
      [TYPE_FEEDBACK, new Uint8Array([0])],
      [TYPE_CLOSE, new Uint8Array([0, 1])],
    ];
    for (const [type, payload] of cases) {
      expect(server.open(seal(client, payload, type), T0)).toBe(OPEN_OK);
      expect(server.opened.type).toBe(type);
      expect(server.opened.payload.length).toBe(payload.length);
    }
  });

  it('refuses to seal payloads a type forbids, unknown types and a too small out buffer', () => {
    const { client } = pair();
    expect(codeOf(() => client.seal(TYPE_DATA, header, new Uint8Array(0), out))).toBe('BONDING_INVALID_ARGUMENT');
    expect(() => client.seal(TYPE_PROBE_ACK, header, new Uint8Array(1), out)).toThrow(/payload length of type 0x42 1 is not 2/);
    expect(() => client.seal(TYPE_CLOSE, header, new Uint8Array(3), out)).toThrow(/is not 2/);
    expect(() => client.seal(TYPE_FEEDBACK, header, new Uint8Array(0), out)).toThrow(/at least 1/);
    expect(() => client.seal(0x46, header, new Uint8Array(1), out)).toThrow(/datagram type 0x46/);
    // 16 + 12 + 100 + 16 = 144
    expect(() => client.seal(TYPE_DATA, header, new Uint8Array(100), new Uint8Array(143))).toThrow(/out length 143 is not at least 144/);
    expect(client.seal(TYPE_DATA, header, new Uint8Array(100), new Uint8Array(144))).toBe(144);
    expect(codeOf(() => client.seal(TYPE_DATA, createInnerHeader({ linkId: 16 }), new Uint8Array(1), out))).toBe('BONDING_INVALID_ARGUMENT');
    expect(client.sendCounter).toBe(1); // no nonce spent on a refused call
  });

  it('refuses a datagram over maxDatagram at the limit + 1, seals one at the limit', () => {
    const { client, server } = pair({ maxDatagram: 200 });
    const big = new Uint8Array(4096);
    expect(client.seal(TYPE_DATA, header, new Uint8Array(200 - DATAGRAM_OVERHEAD_BYTES), big)).toBe(200);
    expect(codeOf(() => client.seal(TYPE_DATA, header, new Uint8Array(201 - DATAGRAM_OVERHEAD_BYTES), big))).toBe('BONDING_TOO_LARGE');
    const { client: c2 } = pair();
    const d = big.slice(0, c2.seal(TYPE_DATA, header, new Uint8Array(201 - DATAGRAM_OVERHEAD_BYTES), big));
    expect(server.open(d, T0)).toBe(OPEN_MALFORMED);
  });

  it('node and noble implementations interoperate', () => {
    for (const aead of ['chacha20-poly1305', 'aes-256-gcm'] as const) {
      const node = pair({ implementation: 'node' }, aead);
      const noble = pair({ implementation: 'noble' }, aead);
      const a = seal(node.client, counting(77));
      const b = seal(noble.client, counting(77));
      expect(toHex(a)).toBe(toHex(b));
      expect(noble.server.open(a, T0)).toBe(OPEN_OK);
      expect(node.server.open(b, T0)).toBe(OPEN_OK);
    }
  });
});

describe('session drops (never throws on wire input)', () => {
  it('any flipped bit of a datagram is dropped and counted, and the next good one opens', () => {
    const { client, server } = pair();
    const d = seal(client, counting(40));
    let counted = 0;
    for (let i = 0; i < d.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = d.slice();
        bad[i]! ^= bit;
        const code = server.open(bad, T0);
        expect(code).not.toBe(OPEN_OK);
        counted++;
      }
    }
    const c = server.counters;
    expect(c.badAuth + c.malformed + c.wrongSession).toBe(counted);
    // bytes 0..3: framing rejects (8); 4..7: another receiver (8); 8..: the nonce or the
    // ciphertext changes (bad auth), except the counter's top byte, which makes it > 2^53 (2)
    expect(c).toMatchObject({ malformed: 8 + 2, wrongSession: 8, badAuth: (d.length - 8) * 2 - 2 });
    expect(server.open(d, T0)).toBe(OPEN_OK);
  });

  it('a tampered body or tag is OPEN_BAD_AUTH and never moves the replay window', () => {
    const { client, server } = pair();
    const d = seal(client, counting(40));
    const bad = d.slice();
    bad[bad.length - 1]! ^= 1;
    expect(server.open(bad, T0)).toBe(OPEN_BAD_AUTH);
    expect(server.counters.badAuth).toBe(1);
    expect(server.open(d, T0)).toBe(OPEN_OK); // the forged copy did not mark counter 0 as seen
  });

  it('a replay is dropped after authentication: counted replayed, a forged replay counted bad auth', () => {
    const { client, server } = pair();
    const d = seal(client, counting(40));
    expect(server.open(d, T0)).toBe(OPEN_OK);
    expect(server.open(d, T0)).toBe(OPEN_REPLAYED);
    const forged = d.slice();
    forged[20]! ^= 0xff;
    expect(server.open(forged, T0)).toBe(OPEN_BAD_AUTH);
    expect(server.counters).toMatchObject({ opened: 1, replayed: 1, badAuth: 1 });
  });

  it('accepts reordering inside the 8192 window, drops what falls behind it', () => {
    const { client, server } = pair();
    const first = seal(client, counting(8));
    for (let i = 1; i < 8192; i++) client.seal(TYPE_DATA, header, counting(8), out);
    const last = seal(client, counting(8)); // counter 8192
    expect(server.open(last, T0)).toBe(OPEN_OK);
    expect(server.open(first, T0)).toBe(OPEN_REPLAYED); // 8192 behind: outside the window
    const { client: c2, server: s2 } = pair();
    const early = seal(c2, counting(8));
    for (let i = 1; i < 8191; i++) c2.seal(TYPE_DATA, header, counting(8), out);
    expect(s2.open(seal(c2, counting(8)), T0)).toBe(OPEN_OK); // counter 8191
    expect(s2.open(early, T0)).toBe(OPEN_OK);
  });

  it('too short, malformed outer header, wrong receiver and a counter above 2^53 are counted', () => {
    const { client, server } = pair();
    const d = seal(client, counting(10));
    expect(server.open(d.subarray(0, DATAGRAM_OVERHEAD_BYTES - 1), T0)).toBe(OPEN_TOO_SHORT);
    expect(server.open(seal(client, new Uint8Array(0), TYPE_PROBE), T0)).toBe(OPEN_OK); // 44 bytes: the minimum
    const version = d.slice();
    version[0] = 2;
    expect(server.open(version, T0)).toBe(OPEN_MALFORMED);
    const unknown = d.slice();
    unknown[1] = 0x01; // a handshake type is not a data-plane datagram
    expect(server.open(unknown, T0)).toBe(OPEN_MALFORMED);
    const flagged = d.slice();
    flagged[2] = 1;
    expect(server.open(flagged, T0)).toBe(OPEN_MALFORMED);
    const other = d.slice();
    other[7] = 8;
    expect(server.open(other, T0)).toBe(OPEN_WRONG_SESSION);
    const huge = d.slice();
    huge[15] = 0xff;
    expect(server.open(huge, T0)).toBe(OPEN_MALFORMED);
    expect(server.counters).toMatchObject({ tooShort: 1, malformed: 4, wrongSession: 1, opened: 1 });
    expect(peekReceiverIndex(d.subarray(0, 15))).toBe(-1);
  });

  it('an authentic datagram with a broken inner header or payload length is malformed (after the window moved)', () => {
    // A peer bug, built by hand with the client's key: a DATA without a packet, then a 3-byte CLOSE.
    // (Every inner header of 12 bytes decodes: its fields use their whole range.)
    const { server } = pair();
    const aead = createAead('chacha20-poly1305', CLIENT_KEY);
    const forge = (counter: number, type: number, plain: Uint8Array): Uint8Array => {
      const d = new Uint8Array(16 + plain.length + 16);
      encodeDatagramHeader(d, 0, { type, receiver: 7, counter });
      const nonce = new Uint8Array(12);
      writeCounterNonce(nonce, CLIENT_PREFIX, counter);
      aead.sealInto(nonce, plain, d, d.subarray(0, 16), 16);
      return d;
    };
    const inner = new Uint8Array(INNER_HEADER_BYTES + 3);
    inner[0] = 0x20; // link 2
    expect(server.open(forge(0, TYPE_DATA, inner.subarray(0, INNER_HEADER_BYTES)), T0)).toBe(OPEN_MALFORMED);
    expect(server.open(forge(1, TYPE_CLOSE, inner), T0)).toBe(OPEN_MALFORMED);
    expect(server.open(forge(2, TYPE_DATA, inner), T0)).toBe(OPEN_OK);
    expect(server.open(forge(1, TYPE_DATA, inner), T0)).toBe(OPEN_REPLAYED); // counter 1 was authentic
    expect(server.counters).toMatchObject({ malformed: 2, opened: 1, replayed: 1 });
  });

  it('random bytes never throw and are always counted', () => {
    const { server } = pair();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, asOurs) => {
        if (asOurs && bytes.length >= 16) {
          bytes[0] = 1;
          bytes[1] = TYPE_DATA;
          bytes[2] = 0;
          bytes[3] = 0;
          bytes.set([0, 0, 0, 7], 4);
        }
        const before = Object.values(server.counters).reduce((a, b) => a + b, 0);
        const code = server.open(bytes, T0);
        expect(code).not.toBe(OPEN_OK);
        expect(OPEN_CODE_NAMES[code]).toBeDefined();
        expect(Object.values(server.counters).reduce((a, b) => a + b, 0)).toBe(before + 1);
      }),
    );
  });
});

describe('session limits and lifetime (bonding.md §6)', () => {
  it('needsRekey at rekeyAfterMessages, seal refuses at rejectAfterMessages', () => {
    const { client, server } = pair({ rekeyAfterMessages: 3, rejectAfterMessages: 5 });
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 2; i++) sent.push(seal(client, counting(4)));
    expect(client.needsRekey).toBe(false);
    sent.push(seal(client, counting(4)));
    expect(client.needsRekey).toBe(true);
    expect(client.expired).toBe(false);
    for (let i = 0; i < 2; i++) sent.push(seal(client, counting(4)));
    expect(client.sendCounter).toBe(5);
    expect(client.seal(TYPE_DATA, header, counting(4), out)).toBe(0);
    expect(client.expired).toBe(true);
    expect(client.counters).toMatchObject({ sealed: 5, refused: 1 });
    expect(client.seal(TYPE_DATA, header, counting(4), out)).toBe(0);
    expect(client.counters.refused).toBe(2);
    for (const d of sent) expect(server.open(d, T0)).toBe(OPEN_OK); // everything sent before still opens
    expect(client.open(seal(server, counting(2)), T0)).toBe(OPEN_OK); // and the exhausted side still receives
  });

  it('default limits: rekey at 2^40 messages, 120 s; reject at 180 s', () => {
    const { client, server } = pair();
    client.tick(T0 + 119_999);
    expect(client.needsRekey).toBe(false);
    client.tick(T0 + 120_000);
    expect(client.needsRekey).toBe(true);
    expect(client.expired).toBe(false);
    const d = seal(client, counting(4));
    expect(d.length).toBeGreaterThan(0);
    expect(server.open(d, T0 + 179_999)).toBe(OPEN_OK);
    client.tick(T0 + 180_000);
    expect(client.expired).toBe(true);
    expect(client.seal(TYPE_DATA, header, counting(4), out)).toBe(0);
    expect(server.open(seal(server, counting(1)), T0 + 180_000)).toBe(OPEN_EXPIRED);
    expect(server.expired).toBe(true);
    expect(server.counters.expired).toBe(1);
  });

  it('destroy() wipes the handshake keys and refuses seal and open; twice is fine', () => {
    const { client, server, results } = pair();
    const d = seal(client, counting(4));
    client.destroy();
    client.destroy();
    expect(client.destroyed).toBe(true);
    expect(results.client.sendKey.every((b) => b === 0)).toBe(true);
    expect(results.client.receiveKey.every((b) => b === 0)).toBe(true);
    expect(results.client.sendNoncePrefix.every((b) => b === 0)).toBe(true);
    expect(client.seal(TYPE_DATA, header, counting(4), out)).toBe(0);
    expect(client.open(seal(server, counting(4)), T0)).toBe(OPEN_EXPIRED);
    expect(server.open(d, T0)).toBe(OPEN_OK);
  });

  it.each([
    ['rekeyAfterMessages', { rekeyAfterMessages: 0 }],
    ['rekeyAfterMessages', { rekeyAfterMessages: 10, rejectAfterMessages: 5 }],
    ['rejectAfterMessages', { rejectAfterMessages: 2 ** 53 }],
    ['rekeyAfterMs', { rekeyAfterMs: 1.5 }],
    ['rejectAfterMs', { rejectAfterMs: -1 }],
    ['replayWindow', { replayWindow: 100 }],
    ['maxDatagram', { maxDatagram: DATAGRAM_MIN_BYTES - 1 }],
    ['maxDatagram', { maxDatagram: 65_508 }],
    ['nowMs', { nowMs: Number.NaN }],
  ] as const)('refuses a bad %s', (name, init) => {
    const r = resultPair();
    expect(codeOf(() => createSession(r.client, init as SessionInit))).toBe('BONDING_INVALID_ARGUMENT');
    expect(() => createSession(r.client, init as SessionInit)).toThrow(name);
  });

  it('exposes who and what: indices, role, aead, peer, clock', () => {
    const { client, server } = pair({}, 'aes-256-gcm');
    expect(client).toMatchObject({ localIndex: 0x0a0b0c0d, remoteIndex: 7, role: 'initiator', aead: 'aes-256-gcm', createdMs: T0 });
    expect(server.role).toBe('responder');
    expect(server.peer).toEqual({ kind: 'psk', pskId: 'site-a' });
    const r = resultPair();
    const s = createSession(r.client);
    expect(s.createdMs).toBeGreaterThan(0);
  });
});

describe('session from a real handshake', () => {
  it('a PSK handshake from @edgebox/crypto gives two sessions that talk both ways', () => {
    const psk = new Uint8Array(32).fill(0x42);
    const now = (): number => Date.UTC(2026, 0, 1);
    const i = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'site-a', psk }, now });
    const r = createHandshakeResponder({ psk: { lookup: (id) => (id === 'site-a' ? psk : undefined) }, now });
    const response = r.receive(i.start(), { peerAddress: '192.0.2.1:5000' }).send!;
    const step = i.receive(response);
    const done = r.receive(step.send!, { peerAddress: '192.0.2.1:5000' });
    const client = createSession(step.result!, { nowMs: 0 });
    const server = createSession(done.result!, { nowMs: 0 });
    const up = seal(client, counting(300));
    expect(peekReceiverIndex(up)).toBe(server.localIndex);
    expect(server.open(up, 1)).toBe(OPEN_OK);
    expect(toHex(server.opened.payload)).toBe(toHex(counting(300)));
    expect(client.open(seal(server, counting(60)), 1)).toBe(OPEN_OK);
    // each direction has its own key: a datagram reflected back is not accepted
    up[4] = (client.localIndex >>> 24) & 0xff;
    up[5] = (client.localIndex >>> 16) & 0xff;
    up[6] = (client.localIndex >>> 8) & 0xff;
    up[7] = client.localIndex & 0xff;
    expect(client.open(up, 1)).toBe(OPEN_BAD_AUTH);
    client.destroy();
    server.destroy();
  });
});
