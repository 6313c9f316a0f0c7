/**
 * Stateless retry cookies (docs/protocols/handshake.md §7). A responder under load answers
 * an Init without cookie by a 45-byte CookieReply and keeps no state; the cookie is a MAC
 * over the peer address and TH1 under a secret that rotates every `rotationMs`, so it can be
 * checked later without memory. Valid for the current and the previous epoch.
 */
import { CryptoError } from './errors.js';
import { HS_COOKIE_BYTES } from './handshake-constants.js';
import { concatBytes } from './handshake-key-schedule.js';
import { constantTimeEqual, hmacSha256, zeroize } from './handshake-primitives.js';

const te = new TextEncoder();

/** A peer address as the transport sees it: opaque bytes or a string ("192.0.2.1:5000"). */
export type HandshakePeerAddress = string | Uint8Array;

/** Mints and checks retry cookies for one responder. */
export interface HandshakeCookieJar {
  /** The cookie for (address, TH1) at time `nowMs`. */
  mint(address: HandshakePeerAddress, th1: Uint8Array, nowMs: number): Uint8Array;
  /** Raise CRYPTO_HANDSHAKE_COOKIE unless `cookie` is valid for (address, TH1) now. */
  verify(cookie: Uint8Array, address: HandshakePeerAddress, th1: Uint8Array, nowMs: number): void;
}

function addressBytes(a: HandshakePeerAddress): Uint8Array {
  return typeof a === 'string' ? te.encode(a) : a;
}

function u32(v: number): Uint8Array {
  return new Uint8Array([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

/**
 * Create a cookie jar from a 32-byte secret (keep it per process; it never leaves it).
 *
 * @example
 * const jar = createHandshakeCookieJar({ secret: randomBytes(32), rotationMs: 120_000 })
 * const cookie = jar.mint('192.0.2.1:5000', th1, Date.now())
 */
export function createHandshakeCookieJar(init: { secret: Uint8Array; rotationMs: number }): HandshakeCookieJar {
  if (init.secret.length < 16) throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `cookie secret length ${init.secret.length} < min 16`);
  if (!(init.rotationMs > 0)) throw new CryptoError('CRYPTO_INVALID_ARGUMENT', `cookie rotationMs ${init.rotationMs} <= 0`);
  const master = init.secret.slice();
  const rotationMs = init.rotationMs;
  // Two epoch secrets cached: current and previous. Cold path (once per epoch).
  const cache = new Map<number, Uint8Array>();

  function epochSecret(epoch: number): Uint8Array {
    let s = cache.get(epoch);
    if (s === undefined) {
      s = hmacSha256(master, concatBytes(te.encode('edgebox-hs-v1 cookie secret'), u32(epoch)));
      cache.set(epoch, s);
      for (const [e, old] of cache) {
        if (cache.size <= 2) break;
        zeroize(old);
        cache.delete(e);
      }
    }
    return s;
  }

  function mac(epoch: number, address: HandshakePeerAddress, th1: Uint8Array): Uint8Array {
    const addr = addressBytes(address);
    const len = new Uint8Array([(addr.length >>> 8) & 0xff, addr.length & 0xff]);
    return hmacSha256(epochSecret(epoch), concatBytes(u32(epoch), len, addr, th1)).subarray(0, 16);
  }

  const currentEpoch = (nowMs: number): number => Math.floor(nowMs / rotationMs) >>> 0;

  return {
    mint(address, th1, nowMs) {
      const epoch = currentEpoch(nowMs);
      return concatBytes(u32(epoch), mac(epoch, address, th1));
    },
    verify(cookie, address, th1, nowMs) {
      if (cookie.length !== HS_COOKIE_BYTES) {
        throw new CryptoError('CRYPTO_HANDSHAKE_COOKIE', `cookie length ${cookie.length} != ${HS_COOKIE_BYTES}`);
      }
      const epoch = ((cookie[0]! << 24) | (cookie[1]! << 16) | (cookie[2]! << 8) | cookie[3]!) >>> 0;
      const now = currentEpoch(nowMs);
      if (epoch !== now && epoch !== ((now - 1) >>> 0)) {
        throw new CryptoError('CRYPTO_HANDSHAKE_COOKIE', `cookie epoch ${epoch} not in [${now - 1}, ${now}] (stale or from the future)`, {
          details: { epoch, currentEpoch: now },
        });
      }
      if (!constantTimeEqual(cookie.subarray(4), mac(epoch, address, th1))) {
        throw new CryptoError('CRYPTO_HANDSHAKE_COOKIE', 'cookie MAC does not match this address and Init (forged or other address)');
      }
    },
  };
}
