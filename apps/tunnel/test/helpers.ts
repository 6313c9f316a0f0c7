import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { createMux, type Mux, type MuxInit } from '../src/mux.js';
import type { SessionKeys } from '../src/seal.js';
import { streamPair } from '../src/stream-pair.js';
import type { TunnelStream } from '../src/stream.js';

/** Matching key sets for the two ends of one connection. */
export function keyPair(aead: SessionKeys['aead'] = 'aes-256-gcm'): [SessionKeys, SessionKeys] {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  const p1 = randomBytes(4);
  const p2 = randomBytes(4);
  return [
    { aead, sendKey: k1, receiveKey: k2, sendNoncePrefix: p1, receiveNoncePrefix: p2 },
    { aead, sendKey: k2, receiveKey: k1, sendNoncePrefix: p2, receiveNoncePrefix: p1 },
  ];
}

export interface Twin {
  source: Mux;
  dest: Mux;
  accepted: TunnelStream[];
  transports: [Duplex, Duplex];
}

/** A source and a dest multiplexer over an in-memory pair; the dest echoes unless told otherwise. */
export function twin(options: { source?: Partial<MuxInit>; dest?: Partial<MuxInit>; onStream?: (s: TunnelStream) => void } = {}): Twin {
  const [a, b] = streamPair();
  const [ka, kb] = keyPair();
  const accepted: TunnelStream[] = [];
  const source = createMux({ transport: a, keys: ka }, { role: 'source', ...options.source });
  const dest = createMux(
    { transport: b, keys: kb },
    {
      role: 'dest',
      onStream: (s) => {
        accepted.push(s);
        s.on('error', () => {});
        (options.onStream ?? ((x: TunnelStream) => x.pipe(x)))(s);
      },
      ...options.dest,
    },
  );
  // Tests end by destroying the multiplexers: streams still open then error; tests that
  // expect an error listen with once(), this keeps the rest from being unhandled.
  const openStream = source.openStream.bind(source);
  source.openStream = (r) => openStream(r).on('error', () => {}) as TunnelStream;
  return { source, dest, accepted, transports: [a, b] };
}

/** Reads a stream to its end: bytes and sha256. */
export function collect(s: TunnelStream): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let bytes = 0;
    s.on('data', (c: Buffer) => {
      bytes += c.length;
      h.update(c);
    });
    s.on('end', () => resolve({ bytes, sha256: h.digest('hex') }));
    s.on('error', reject);
  });
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Waits for a condition, polling on setImmediate (no timing assumptions). */
export async function until(cond: () => boolean, what: string, maxTurns = 200_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}
