// Codec of the handshake messages (handshake.md §3): round trips, size limits at limit and
// limit+1, and fuzzing that raises only CryptoError.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isCryptoError } from '../src/errors.js';
import {
  decodeAuthPayload,
  decodeCookieReply,
  decodeFinish,
  decodeInit,
  decodeResponse,
  encodeAuthPayload,
  encodeCookieReply,
  encodeFinishHeader,
  encodeInit,
  encodeResponseClear,
  encodeResponseTail,
  initPaddingFor,
  peekHandshakeType,
  type InitMessage,
} from '../src/handshake-messages.js';
import {
  HS_COOKIE_REPLY_BYTES,
  HS_FINISH_MAX_BYTES,
  HS_INIT_MAX_BYTES,
  HS_INIT_MIN_BYTES,
  HS_RESPONSE_MAX_BYTES,
} from '../src/handshake-constants.js';

const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

function sampleInit(over: Partial<InitMessage> = {}): InitMessage {
  const base = {
    version: 1,
    authMode: 'certificate' as const,
    versions: [1],
    suiteIds: [1, 2],
    initiatorSessionId: 0xdeadbeef,
    timestampMs: 1_800_000_000_123,
    random: fill(16, 7),
    x25519PublicKey: fill(32, 9),
    mlkemPublicKey: fill(1184, 3),
    pskId: new Uint8Array(0),
    paddingBytes: 0,
    cookie: undefined,
  };
  return { ...base, ...over };
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(isCryptoError(err), String(err)).toBe(true);
    expect((err as { code: string }).code).toBe(code);
    return;
  }
  throw new Error('expected a throw');
}

describe('handshake codec', () => {
  it('round-trips an Init with and without cookie; the body excludes the cookie', () => {
    const m = sampleInit();
    const { bytes, body } = encodeInit(m);
    const d = decodeInit(bytes);
    expect(d.initiatorSessionId).toBe(0xdeadbeef);
    expect(d.timestampMs).toBe(1_800_000_000_123);
    expect(d.suiteIds).toEqual([1, 2]);
    expect(d.mlkemPublicKey).toEqual(m.mlkemPublicKey);
    expect(d.cookie).toBeUndefined();
    expect(d.body).toEqual(body);
    const withCookie = encodeInit({ ...m, cookie: fill(20, 1) });
    const d2 = decodeInit(withCookie.bytes);
    expect(d2.cookie).toEqual(fill(20, 1));
    expect(d2.body).toEqual(body);
    expect(peekHandshakeType(bytes)).toBe('init');
  });

  it('pads a classical PSK Init to the minimum size', () => {
    const fields = sampleInit({ authMode: 'psk', pskId: new TextEncoder().encode('site-a'), mlkemPublicKey: undefined, suiteIds: [0x11] });
    const paddingBytes = initPaddingFor(fields, HS_INIT_MIN_BYTES);
    const { bytes } = encodeInit({ ...fields, paddingBytes });
    expect(bytes.length).toBe(HS_INIT_MIN_BYTES);
    const d = decodeInit(bytes);
    expect(d.authMode).toBe('psk');
    expect(new TextDecoder().decode(d.pskId)).toBe('site-a');
    // non-zero padding is malformed
    const bad = bytes.slice();
    bad[bytes.length - 5] = 1;
    expectCode(() => decodeInit(bad), 'CRYPTO_HANDSHAKE_MALFORMED');
  });

  it('round-trips Response, Finish, CookieReply and auth payloads', () => {
    const clear = encodeResponseClear({
      version: 1, suiteId: 1, initiatorSessionId: 1, responderSessionId: 2, versions: [1], suiteIds: [1, 2, 0x11],
      x25519PublicKey: fill(32, 1), mlkemCiphertext: fill(1088, 2),
    });
    const resp = encodeResponseTail(clear, fill(100, 5));
    const d = decodeResponse(resp);
    expect(d.clear).toEqual(clear);
    expect(d.encrypted).toEqual(fill(100, 5));
    expect(d.suiteIds).toEqual([1, 2, 0x11]);
    expect(peekHandshakeType(resp)).toBe('response');

    const header = encodeFinishHeader({ version: 1, initiatorSessionId: 3, responderSessionId: 4, encryptedLength: 10 });
    const fin = new Uint8Array([...header, ...fill(10, 6)]);
    const f = decodeFinish(fin);
    expect([f.initiatorSessionId, f.responderSessionId]).toEqual([3, 4]);
    expect(f.header).toEqual(header);
    expect(peekHandshakeType(fin)).toBe('finish');

    const cr = encodeCookieReply({ version: 1, initiatorSessionId: 9, initId: fill(16, 4), cookie: fill(20, 8) });
    expect(cr.length).toBe(HS_COOKIE_REPLY_BYTES);
    expect(decodeCookieReply(cr).cookie).toEqual(fill(20, 8));
    expect(peekHandshakeType(cr)).toBe('cookie-reply');

    const cert = encodeAuthPayload({ kind: 'certificate', certificate: fill(300, 1), signature: fill(64, 2) });
    const a = decodeAuthPayload(cert, 'certificate');
    expect(a.kind === 'certificate' && a.certificate.length).toBe(300);
    expectCode(() => decodeAuthPayload(cert, 'psk'), 'CRYPTO_HANDSHAKE_MALFORMED');
    const psk = encodeAuthPayload({ kind: 'psk', mac: fill(32, 1) });
    expect(decodeAuthPayload(psk, 'psk')).toEqual({ kind: 'psk', mac: fill(32, 1) });
  });

  it('checks size limits before parsing, at limit and limit+1', () => {
    for (const [decode, max, type] of [
      [decodeInit, HS_INIT_MAX_BYTES, 1],
      [decodeResponse, HS_RESPONSE_MAX_BYTES, 2],
      [decodeFinish, HS_FINISH_MAX_BYTES, 3],
    ] as const) {
      const atLimit = new Uint8Array(max);
      atLimit[0] = 1;
      atLimit[1] = type;
      // at the limit it gets parsed (and fails on content, not on size)
      try {
        decode(atLimit);
      } catch (err) {
        expect(String((err as Error).message)).not.toMatch(/> max/);
      }
      const over = new Uint8Array(max + 1);
      over[0] = 1;
      over[1] = type;
      expect(() => decode(over)).toThrow(/> max/);
    }
  });

  it('rejects unknown versions and types with their codes', () => {
    const { bytes } = encodeInit(sampleInit());
    const v = bytes.slice();
    v[0] = 9;
    expectCode(() => decodeInit(v), 'CRYPTO_HANDSHAKE_VERSION');
    expectCode(() => peekHandshakeType(v), 'CRYPTO_HANDSHAKE_VERSION');
    expectCode(() => peekHandshakeType(new Uint8Array([1, 7])), 'CRYPTO_HANDSHAKE_MALFORMED');
    expectCode(() => peekHandshakeType(new Uint8Array([1])), 'CRYPTO_HANDSHAKE_MALFORMED');
    expectCode(() => decodeFinish(bytes), 'CRYPTO_HANDSHAKE_MALFORMED');
  });

  it('fuzz: random and mutated messages raise only CryptoError', () => {
    const seeds = [
      encodeInit(sampleInit()).bytes,
      encodeInit(sampleInit({ cookie: fill(20, 2) })).bytes,
      encodeResponseTail(encodeResponseClear({ version: 1, suiteId: 1, initiatorSessionId: 1, responderSessionId: 2, versions: [1], suiteIds: [1], x25519PublicKey: fill(32, 1), mlkemCiphertext: fill(1088, 1) }), fill(50, 1)),
      encodeCookieReply({ version: 1, initiatorSessionId: 9, initId: fill(16, 4), cookie: fill(20, 8) }),
      new Uint8Array([...encodeFinishHeader({ version: 1, initiatorSessionId: 3, responderSessionId: 4, encryptedLength: 4 }), 1, 2, 3, 4]),
    ];
    const decoders = [decodeInit, decodeResponse, decodeFinish, decodeCookieReply, peekHandshakeType,
      (m: Uint8Array) => decodeAuthPayload(m, 'certificate'), (m: Uint8Array) => decodeAuthPayload(m, 'psk')];
    const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat())
      .map(([seed, edits, cut]) => {
        const m = seed.slice();
        for (const [i, v] of edits) m[i % m.length] = v;
        return cut % 5 === 0 ? m.subarray(0, cut % (m.length + 1)) : m;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 3000 }), mutated), (msg) => {
        for (const d of decoders) {
          try {
            d(msg);
          } catch (err) {
            if (!isCryptoError(err)) throw err;
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});
