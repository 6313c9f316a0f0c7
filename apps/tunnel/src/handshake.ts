/**
 * The @edgebox/crypto handshake over a byte stream (docs/protocols/tunnel.md §1): each
 * handshake message is the payload of one unsealed frame on channel 0 whose type is the
 * message type (0x01..0x04). On a stream every failure is fatal (there is no loss to
 * tolerate): a CryptoError rejects with TUNNEL_HANDSHAKE and the transport is destroyed. Bytes that arrived after the last
 * handshake frame (the peer may send sealed frames at once) are handed back as `leftover`
 * for `createMux`. Cold path: runs once per connection, allocates freely.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HS_MAX_MESSAGE_BYTES, type HandshakeInitiator, type HandshakeResponder, type HandshakeResult, type HandshakeStep } from '@edgebox/crypto';
import { FRAME_HEADER_BYTES, decodeHeader, encodeFrame } from '@edgebox/framing';
import { detachBorrowed, readBorrowed } from './borrowed-read.js';
import { TunnelError, isTunnelError } from './errors.js';

/** What a finished handshake hands to the multiplexer. */
export interface StreamHandshake {
  result: HandshakeResult;
  /** Bytes received after the last handshake frame: pass to `createMux` as `leftover`. */
  leftover: Buffer;
}

/** Options of both handshake runners. */
export interface StreamHandshakeOptions {
  signal?: AbortSignal;
  /** Deadline for the whole handshake (default 10 000 ms). */
  timeoutMs?: number;
}

const HANDSHAKE_TYPES = [0x01, 0x02, 0x03, 0x04];
const DEFAULT_TIMEOUT_MS = 10_000;

function frameOf(msg: Uint8Array): Buffer {
  return encodeFrame({ type: msg[1]!, channel: 0, payload: msg }, { maxPayload: HS_MAX_MESSAGE_BYTES });
}

function run(transport: Duplex, first: Uint8Array | null, step: (msg: Uint8Array) => HandshakeStep, options: StreamHandshakeOptions): Promise<StreamHandshake> {
  const { signal } = options;
  signal?.throwIfAborted();
  return new Promise<StreamHandshake>((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    let borrowed = false;
    const timer = setTimeout(() => fail(new TunnelError('TUNNEL_HANDSHAKE', `handshake not done after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const done = (): void => {
      clearTimeout(timer);
      transport.pause(); // no byte may be emitted before the multiplexer listens
      if (borrowed) detachBorrowed(transport as Socket);
      else transport.off('data', onData);
      transport.off('error', onError);
      transport.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: unknown): void => {
      done();
      transport.destroy(); // fatal on a stream: the peer sees the connection close
      reject(
        isTunnelError(err)
          ? err
          : new TunnelError('TUNNEL_HANDSHAKE', `handshake failed: ${(err as Error).message}`, {
              cause: err,
              details: { cause: (err as { code?: string }).code },
            }),
      );
    };
    const onAbort = (): void => fail(signal!.reason);
    const onError = (err: Error): void => fail(err);
    const onClose = (): void => fail(new TunnelError('TUNNEL_HANDSHAKE', 'transport closed during the handshake'));
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      try {
        while (buffered.length >= FRAME_HEADER_BYTES) {
          const h = decodeHeader(buffered, 0, undefined, { maxPayload: HS_MAX_MESSAGE_BYTES, knownTypes: HANDSHAKE_TYPES });
          if (h.channel !== 0) throw new TunnelError('TUNNEL_HANDSHAKE', `handshake frame on channel ${h.channel}, expected 0`);
          const end = FRAME_HEADER_BYTES + h.length;
          if (buffered.length < end) return;
          const msg = buffered.subarray(FRAME_HEADER_BYTES, end);
          buffered = buffered.subarray(end);
          const s = step(msg);
          if (s.send !== undefined) transport.write(frameOf(s.send));
          if (s.result !== undefined) {
            done();
            resolve({ result: s.result, leftover: Buffer.from(buffered) });
            return;
          }
        }
      } catch (err) {
        fail(err);
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // A socket reading into the shared buffer (borrowed-read.ts): its chunks are copied, since
    // a partial handshake frame is kept across reads.
    borrowed = transport instanceof Socket && readBorrowed(transport, (chunk) => (onData(Buffer.from(chunk)), true));
    if (!borrowed) transport.on('data', onData);
    transport.on('error', onError);
    transport.on('close', onClose);
    if (first !== null) transport.write(frameOf(first));
  });
}

/**
 * Runs the initiator (the tunnel source) over `transport`.
 *
 * @example
 * const hs = createHandshakeInitiator({ credentials });
 * const { result, leftover } = await initiateStreamHandshake(socket, hs);
 * const mux = createMux({ transport: socket, keys: result, leftover }, { role: 'source' });
 */
export function initiateStreamHandshake(transport: Duplex, initiator: HandshakeInitiator, options: StreamHandshakeOptions = {}): Promise<StreamHandshake> {
  return run(transport, initiator.start(), (msg) => initiator.receive(msg), options).catch((err: unknown) => {
    initiator.destroy();
    throw err;
  });
}

/**
 * Runs a responder (the tunnel dest) for one connection over `transport`.
 *
 * @example
 * const { result, leftover } = await acceptStreamHandshake(socket, responder, { peerAddress: socket.remoteAddress });
 */
export function acceptStreamHandshake(
  transport: Duplex,
  responder: HandshakeResponder,
  options: StreamHandshakeOptions & { peerAddress?: string } = {},
): Promise<StreamHandshake> {
  const peerAddress = options.peerAddress ?? '';
  return run(transport, null, (msg) => responder.receive(msg, { peerAddress }), options);
}
