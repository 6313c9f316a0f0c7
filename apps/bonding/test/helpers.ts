// Test helpers: hex, vector loading, and handshake results with fixed keys (the session takes
// a HandshakeResult; building one by hand keeps tests fast and the keys known).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HandshakeAeadAlgorithm, HandshakePeer, HandshakeResult } from '@edgebox/crypto';

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** docs/protocols/vectors/bonding/<file> parsed as JSON. */
export function loadVectors<T>(file: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../../../docs/protocols/vectors/bonding', file), 'utf8')) as T;
}

/** Bytes start, start+1, ... (mod 256). */
export function counting(n: number, start = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) & 0xff;
  return b;
}

export interface ResultFields {
  aead?: HandshakeAeadAlgorithm;
  role?: 'initiator' | 'responder';
  sendKey: Uint8Array;
  receiveKey: Uint8Array;
  sendNoncePrefix: Uint8Array;
  receiveNoncePrefix: Uint8Array;
  localSessionId: number;
  remoteSessionId: number;
  peer?: HandshakePeer;
}

/** A HandshakeResult from fixed fields, with a destroy() that zeroizes like crypto's. */
export function handshakeResult(f: ResultFields): HandshakeResult {
  const r = {
    version: 1,
    suite: f.aead === 'aes-256-gcm' ? 'x25519-mlkem768-aes256gcm' : 'x25519-mlkem768-chacha20poly1305',
    aead: f.aead ?? 'chacha20-poly1305',
    role: f.role ?? 'initiator',
    sendKey: f.sendKey.slice(),
    receiveKey: f.receiveKey.slice(),
    sendNoncePrefix: f.sendNoncePrefix.slice(),
    receiveNoncePrefix: f.receiveNoncePrefix.slice(),
    localSessionId: f.localSessionId,
    remoteSessionId: f.remoteSessionId,
    peer: f.peer ?? { kind: 'psk', pskId: 'site-a' },
    transcriptHash: new Uint8Array(32),
    destroy(): void {
      r.sendKey.fill(0);
      r.receiveKey.fill(0);
      r.sendNoncePrefix.fill(0);
      r.receiveNoncePrefix.fill(0);
    },
  } satisfies HandshakeResult;
  return r;
}

/** The client's send key and nonce prefix in resultPair() (the server's receive side). */
export const CLIENT_KEY = counting(32, 0x10);
export const CLIENT_PREFIX = hex('a1a2a3a4');
const SERVER_KEY = counting(32, 0x80);
const SERVER_PREFIX = hex('b1b2b3b4');

/** The two ends of one session: `client` (initiator, index 0x0a0b0c0d) and `server` (responder, index 7). */
export function resultPair(
  aead: HandshakeAeadAlgorithm = 'chacha20-poly1305',
  ids: { client: number; server: number } = { client: 0x0a0b0c0d, server: 7 },
  pskId = 'site-a',
): { client: HandshakeResult; server: HandshakeResult } {
  const peer: HandshakePeer = { kind: 'psk', pskId };
  return {
    client: handshakeResult({
      aead,
      role: 'initiator',
      sendKey: CLIENT_KEY,
      receiveKey: SERVER_KEY,
      sendNoncePrefix: CLIENT_PREFIX,
      receiveNoncePrefix: SERVER_PREFIX,
      localSessionId: ids.client,
      remoteSessionId: ids.server,
      peer,
    }),
    server: handshakeResult({
      aead,
      role: 'responder',
      sendKey: SERVER_KEY,
      receiveKey: CLIENT_KEY,
      sendNoncePrefix: SERVER_PREFIX,
      receiveNoncePrefix: CLIENT_PREFIX,
      localSessionId: ids.server,
      remoteSessionId: ids.client,
      peer,
    }),
  };
}
