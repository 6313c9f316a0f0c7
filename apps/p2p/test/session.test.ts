// Sessions (p2p.md §4, §5): the vectors byte for byte, tampering and replay counted without
// changing state, rekey by count and by time on both sides, a forged future epoch does not move
// the receiver, limits, destroy(); fast-check: any interleaving of streams delivers each
// stream's messages intact and in order, with replays and tampered copies refused.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FRAME_HEADER_BYTES } from '@edgebox/framing';
import { createSession, deriveStreamKey, OPEN_BAD_AUTH, OPEN_MALFORMED, OPEN_OK, OPEN_REPLAYED, type Session } from '../src/session.js';
import { fakeHandshakeResult, hex, sessionPairResults, toHex } from './helpers.js';

interface MessageVector {
  name: string;
  aead: 'chacha20-poly1305' | 'aes-256-gcm';
  stream: string;
  counter: number;
  rekeyAfterMessages: number;
  epoch: number;
  streamKey: string;
  plaintext: string;
  frame: string;
}
const file = JSON.parse(readFileSync(new URL('../../../docs/protocols/vectors/p2p/messages.json', import.meta.url), 'utf8')) as {
  sendKey: string;
  transcriptHash: string;
  sendNoncePrefix: string;
  messages: MessageVector[];
};

function openFrame(s: Session, stream: string, frame: Uint8Array): number {
  return s.open(stream, frame[1]!, frame[2]!, new DataView(frame.buffer, frame.byteOffset).getUint32(4), frame.subarray(FRAME_HEADER_BYTES));
}

describe('session vectors (docs/protocols/vectors/p2p/messages.json)', () => {
  for (const v of file.messages) {
    it(v.name, () => {
      expect(toHex(deriveStreamKey(hex(file.sendKey), hex(file.transcriptHash), v.stream, v.epoch))).toBe(v.streamKey);
      const other = new Uint8Array(32).fill(0x77);
      const common = { aead: v.aead, transcriptHash: hex(file.transcriptHash) };
      const sender = createSession(
        fakeHandshakeResult({ ...common, sendKey: hex(file.sendKey), receiveKey: other, sendNoncePrefix: hex(file.sendNoncePrefix), receiveNoncePrefix: hex('00000000') }),
        { rekeyAfterMessages: v.rekeyAfterMessages },
      );
      const receiver = createSession(
        fakeHandshakeResult({ ...common, sendKey: other, receiveKey: hex(file.sendKey), sendNoncePrefix: hex('00000000'), receiveNoncePrefix: hex(file.sendNoncePrefix) }),
        { rekeyAfterMessages: v.rekeyAfterMessages },
      );
      let frame: Uint8Array = new Uint8Array(0);
      for (let i = 0; i <= v.counter; i++) frame = sender.seal(v.stream, hex(v.plaintext));
      expect(toHex(frame)).toBe(v.frame);
      expect(openFrame(receiver, v.stream, hex(v.frame))).toBe(OPEN_OK);
      expect(toHex(receiver.opened)).toBe(v.plaintext);
    });
  }
});

describe('session', () => {
  it('counts tampered frames and goes on; the next genuine frame opens', () => {
    const [ra, rb] = sessionPairResults();
    const a = createSession(ra);
    const b = createSession(rb);
    const f1 = a.seal('chat', Uint8Array.of(1, 2, 3));
    const f2 = a.seal('chat', Uint8Array.of(4, 5, 6));
    for (const at of [FRAME_HEADER_BYTES + 8, f1.length - 1, 1 + 3]) {
      const bad = f1.slice();
      bad[at]! ^= 0x01;
      expect(openFrame(b, 'chat', bad)).toBe(at === 4 ? OPEN_MALFORMED : OPEN_BAD_AUTH);
    }
    const counterTampered = f1.slice();
    counterTampered[FRAME_HEADER_BYTES]! ^= 0x10;
    expect(openFrame(b, 'chat', counterTampered)).toBe(OPEN_BAD_AUTH);
    expect(openFrame(b, 'chat', f1)).toBe(OPEN_OK);
    expect(openFrame(b, 'chat', f2)).toBe(OPEN_OK);
    expect([...b.opened]).toEqual([4, 5, 6]);
    expect(b.counters).toMatchObject({ opened: 2, badAuth: 3, malformed: 1 });
  });

  it('rejects replays and older counters; allows gaps (a lost frame)', () => {
    const [ra, rb] = sessionPairResults('aes-256-gcm');
    const a = createSession(ra);
    const b = createSession(rb);
    const frames = [0, 1, 2, 3].map((i) => a.seal('s', Uint8Array.of(i)));
    expect(openFrame(b, 's', frames[0]!)).toBe(OPEN_OK);
    expect(openFrame(b, 's', frames[0]!)).toBe(OPEN_REPLAYED);
    expect(openFrame(b, 's', frames[2]!)).toBe(OPEN_OK); // frame 1 lost
    expect(openFrame(b, 's', frames[1]!)).toBe(OPEN_REPLAYED);
    expect(openFrame(b, 's', frames[3]!)).toBe(OPEN_OK);
    expect(b.counters.replayed).toBe(2);
  });

  it('a counter above 2^53 - 1 is malformed, not a crash', () => {
    const [ra, rb] = sessionPairResults();
    const f = createSession(ra).seal('s', Uint8Array.of(1));
    f[FRAME_HEADER_BYTES + 7] = 0xff;
    const b = createSession(rb);
    expect(openFrame(b, 's', f)).toBe(OPEN_MALFORMED);
    expect(b.counters.malformed).toBe(1);
  });

  it('a frame of one stream does not open on another (keys per stream name)', () => {
    const [ra, rb] = sessionPairResults();
    const a = createSession(ra);
    const b = createSession(rb);
    expect(openFrame(b, 'two', a.seal('one', Uint8Array.of(1)))).toBe(OPEN_BAD_AUTH);
  });

  it('rekeys by message count and by time; a forged future epoch does not move the receiver', () => {
    let now = 0;
    const [ra, rb] = sessionPairResults();
    const a = createSession(ra, { rekeyAfterMessages: 3, rekeyAfterMs: 1000 }, { now: () => now });
    const b = createSession(rb, { rekeyAfterMessages: 3, rekeyAfterMs: 1000 }, { now: () => now });
    for (let i = 0; i < 7; i++) expect(openFrame(b, 'c', a.seal('c', Uint8Array.of(i)))).toBe(OPEN_OK);
    expect(a.counters.rekeys).toBe(2);
    expect(b.counters.rekeys).toBe(2);
    const forged = a.seal('c', Uint8Array.of(99));
    new DataView(forged.buffer).setBigUint64(FRAME_HEADER_BYTES, 300n, true); // epoch 100, tag from epoch 2
    expect(openFrame(b, 'c', forged)).toBe(OPEN_BAD_AUTH);
    expect(b.counters.rekeys).toBe(2);
    now += 1500; // time-based: a's next frame jumps to the next epoch
    const f = a.seal('c', Uint8Array.of(7));
    expect(Number(new DataView(f.buffer).getBigUint64(FRAME_HEADER_BYTES, true))).toBe(9);
    expect(openFrame(b, 'c', f)).toBe(OPEN_OK);
    expect(b.counters.rekeys).toBe(3);
  });

  it('bounds message size and stream names; destroy() refuses further use', () => {
    const [ra, rb] = sessionPairResults();
    const a = createSession(ra, { maxMessageBytes: 10, maxStreams: 2 });
    const b = createSession(rb);
    expect(() => a.seal('x', new Uint8Array(11))).toThrow(expect.objectContaining({ code: 'P2P_TOO_LARGE' }));
    a.seal('x', new Uint8Array(10));
    a.seal('y', new Uint8Array(0));
    expect(() => a.seal('z', new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'P2P_LIMIT' }));
    const f = a.seal('x', Uint8Array.of(1));
    a.destroy();
    a.destroy();
    expect(() => a.seal('x', Uint8Array.of(1))).toThrow(expect.objectContaining({ code: 'P2P_NOT_RUNNING' }));
    b.destroy();
    expect(openFrame(b, 'x', f)).toBe(OPEN_MALFORMED);
  });

  it('property: interleaved streams deliver intact and in order; duplicates and tampered copies are refused', () => {
    const op = fc.record({ stream: fc.constantFrom('a', 'b', 'c'), data: fc.uint8Array({ maxLength: 64 }), dup: fc.boolean(), tamper: fc.option(fc.nat(), { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const [ra, rb] = sessionPairResults();
        const a = createSession(ra);
        const b = createSession(rb);
        const got = new Map<string, string[]>();
        const want = new Map<string, string[]>();
        for (const o of ops) {
          const frame = a.seal(o.stream, o.data);
          want.set(o.stream, [...(want.get(o.stream) ?? []), toHex(o.data)]);
          if (o.tamper !== undefined) {
            const bad = frame.slice();
            bad[FRAME_HEADER_BYTES + (o.tamper % (bad.length - FRAME_HEADER_BYTES))]! ^= 0x80;
            expect(openFrame(b, o.stream, bad)).not.toBe(OPEN_OK);
          }
          expect(openFrame(b, o.stream, frame)).toBe(OPEN_OK);
          got.set(o.stream, [...(got.get(o.stream) ?? []), toHex(b.opened)]);
          if (o.dup) expect(openFrame(b, o.stream, frame)).toBe(OPEN_REPLAYED);
        }
        expect(got).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });

  it('fuzz: random payloads never throw out of open()', () => {
    const [, rb] = sessionPairResults();
    const b = createSession(rb);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 200 }), (type, flags, payload) => {
        expect(b.open('f', type, flags, 0, payload)).not.toBe(OPEN_OK);
      }),
      { numRuns: 500 },
    );
  });
});
