/**
 * Waiting for a libp2p stream to accept more bytes, without `stream.onDrain()`.
 *
 * Why not onDrain(): in @libp2p/utils 7.4 (libp2p 3.3) a stream keeps the promise of its first
 * onDrain() call and resolves it on the first `drain` event, but never replaces it. Every later
 * onDrain() returns that settled promise while `writableNeedsDrain` is still true, so a sender
 * that awaits it in a loop spins on microtasks: the event loop never reads the socket, the
 * window updates never arrive, and bulk sends stop after about one yamux window (~256 KiB).
 * This waits for the events themselves instead, each call its own listeners.
 */
import type { Stream } from '@libp2p/interface';
import { P2pError } from './errors.js';

/** The part of a stream this needs (a libp2p Stream has it all). */
export type DrainableStream = Pick<Stream, 'writableNeedsDrain' | 'writeStatus' | 'addEventListener' | 'removeEventListener' | 'protocol'>;

/**
 * Resolve once the stream signals room again (`drain`, or `idle` when its write buffer
 * empties); at once when it does not need draining. Rejects with P2P_NOT_CONNECTED when the
 * stream closes first or `signal` aborts (with the signal's reason).
 *
 * @example if (!stream.send(bytes)) await waitForDrain(stream, signal);
 */
export function waitForDrain(stream: DrainableStream, signal?: AbortSignal): Promise<void> {
  if (!stream.writableNeedsDrain) return Promise.resolve();
  if (signal?.aborted === true) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      stream.removeEventListener('drain', onRoom);
      stream.removeEventListener('idle', onRoom);
      stream.removeEventListener('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const onRoom = (): void => {
      done();
      resolve();
    };
    const onClose = (): void => {
      done();
      reject(new P2pError('P2P_NOT_CONNECTED', `stream ${stream.protocol ?? ''} closed while waiting to send (${stream.writeStatus})`, { details: { protocol: stream.protocol } }));
    };
    const onAbort = (): void => {
      done();
      reject(signal?.reason);
    };
    stream.addEventListener('drain', onRoom);
    stream.addEventListener('idle', onRoom);
    stream.addEventListener('close', onClose);
    signal?.addEventListener('abort', onAbort);
  });
}
