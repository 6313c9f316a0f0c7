// Tampered transcript: a bit flip in any handshake message is detected (handshake.md §6,
// §11), and unauthenticated garbage does not abort the genuine handshake (§5).
import { describe, expect, it } from 'vitest';
import { createHandshakeInitiator } from '../src/handshake-initiator.js';
import { createHandshakeResponder } from '../src/handshake-responder.js';
import { T0, codeOf, seededRandom } from './handshake-helpers.js';

const psk = new Uint8Array(32).fill(7);
const now = (): number => T0;
const peerAddress = '198.51.100.7:4000';

function pair(seed: string) {
  const initiator = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'p', psk }, now, random: seededRandom(`i${seed}`) });
  const responder = createHandshakeResponder({
    psk: { lookup: () => psk }, now, random: seededRandom(`r${seed}`), cookie: { mode: 'never' }, maxPending: 100_000,
  });
  return { initiator, responder };
}

function flip(msg: Uint8Array, byte: number, bit: number): Uint8Array {
  const m = msg.slice();
  m[byte]! ^= 1 << bit;
  return m;
}

// Large messages are sampled with a stride (plus every header byte) to keep the run short.
function positions(length: number, stride: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < length; b++) if (b < 48 || b % stride === 0 || b >= length - 40) out.push(b);
  return out;
}

describe('handshake tamper detection (bit flips in each message)', () => {
  it('tampered Init: the responder refuses it or the initiator cannot authenticate the Response', () => {
    const { initiator, responder } = pair('a');
    const init = initiator.start();
    for (const b of positions(init.length, 5)) {
      const bad = flip(init, b, b % 8);
      let response: Uint8Array | undefined;
      try {
        response = responder.receive(bad, { peerAddress }).send;
      } catch (err) {
        expect((err as { code: string }).code).toMatch(/^CRYPTO_HANDSHAKE_/);
        continue;
      }
      expect(response, `byte ${b}`).toBeDefined();
      expect(codeOf(() => initiator.receive(response!)), `byte ${b}`).toMatch(/^CRYPTO_HANDSHAKE_(AUTH|DOWNGRADE|STATE|MALFORMED)$/);
      expect(initiator.state).toBe('awaiting-response');
    }
    // the genuine exchange still completes
    const response = responder.receive(init, { peerAddress }).send!;
    const { send, result } = initiator.receive(response);
    expect(result).toBeDefined();
    expect(responder.receive(send!, { peerAddress }).result).toBeDefined();
  });

  it('tampered Response: every flip is rejected and the genuine Response still completes', () => {
    const { initiator, responder } = pair('b');
    const response = responder.receive(initiator.start(), { peerAddress }).send!;
    for (const b of positions(response.length, 5)) {
      const code = codeOf(() => initiator.receive(flip(response, b, (b * 3) % 8)));
      expect(code, `byte ${b}`).toMatch(/^CRYPTO_HANDSHAKE_/);
      expect(initiator.state).toBe('awaiting-response');
    }
    expect(initiator.receive(response).result).toBeDefined();
  });

  it('tampered Finish: every bit flip is rejected and the genuine Finish still completes', () => {
    const { initiator, responder } = pair('c');
    const response = responder.receive(initiator.start(), { peerAddress }).send!;
    const finish = initiator.receive(response).send!;
    for (let b = 0; b < finish.length; b++) {
      for (let bit = 0; bit < 8; bit++) {
        expect(codeOf(() => responder.receive(flip(finish, b, bit), { peerAddress }))).toMatch(/^CRYPTO_HANDSHAKE_/);
      }
    }
    expect(responder.receive(finish, { peerAddress }).result).toBeDefined();
  });

  it('tampered CookieReply: rejected by the initiator or the cookie check', () => {
    const initiator = createHandshakeInitiator({ credentials: { kind: 'psk', pskId: 'p', psk }, now, random: seededRandom('d') });
    const responder = createHandshakeResponder({ psk: { lookup: () => psk }, now, cookie: { mode: 'always' } });
    const init = initiator.start();
    const reply = responder.receive(init, { peerAddress }).send!;
    for (let b = 0; b < reply.length; b++) {
      for (let bit = 0; bit < 8; bit++) {
        let resent: Uint8Array | undefined;
        try {
          resent = initiator.receive(flip(reply, b, bit)).send;
        } catch (err) {
          expect((err as { code: string }).code).toMatch(/^CRYPTO_HANDSHAKE_/);
          continue;
        }
        expect(codeOf(() => responder.receive(resent!, { peerAddress }))).toBe('CRYPTO_HANDSHAKE_COOKIE');
      }
    }
  });
});
