/**
 * A local socket spliced to a tunnel stream, both directions, with back-pressure from
 * `pipe()` (the stream's write waits for credit, so a slow side stops the other: tunnel.md
 * §5) and half-close carried as FIN. A reset on either side tears down the other; a clean
 * end lets buffered bytes drain (never destroy a socket that still flushes).
 */
import type { Socket } from 'node:net';
import { readBorrowed } from './borrowed-read.js';
import type { TunnelStream } from './stream.js';

/**
 * Splices `socket` and `stream`; `onDone` runs once when both are closed.
 *
 * @example splice(client, mux.openStream({ protocol: 'tcp', port: 80, target: '' }), () => clients.delete(client));
 */
export function splice(socket: Socket, stream: TunnelStream, onDone?: () => void): void {
  let closed = 0;
  const done = (): void => {
    if (++closed === 2) onDone?.();
  };
  // socket -> stream: a socket reading into the shared buffer (borrowed-read.ts) has each chunk
  // sealed at once, or copied when the stream cannot take it yet; others pipe().
  const resumeSocket = (): void => {
    if (!socket.destroyed) socket.resume();
  };
  const borrowed = readBorrowed(socket, (chunk) => {
    if (stream.writeNow(chunk)) return true;
    if (stream.write(Buffer.from(chunk))) return true;
    stream.once('drain', resumeSocket);
    return false;
  });
  if (borrowed) socket.on('end', () => stream.end());
  else socket.pipe(stream);
  // stream -> socket by hand rather than pipe(): each chunk goes back to the multiplexer's
  // buffer pool once the kernel has copied it (the write callback), so bulk transfers do not
  // allocate a buffer per frame (buffer-pool.ts).
  stream.on('data', (chunk: Buffer) => {
    if (!socket.write(chunk, () => stream.release(chunk))) stream.pause();
  });
  socket.on('drain', () => stream.resume());
  stream.on('end', () => socket.end());
  socket.on('error', () => stream.destroy());
  // RST, not FIN: the other end must not take a cut-off stream for a complete one.
  stream.on('error', () => socket.resetAndDestroy());
  socket.on('close', () => {
    // Closed before the peer's data ended: reset. After it, the stream's own writes may still
    // wait for credit and finish on their own.
    if (!stream.readableEnded && !stream.destroyed) stream.destroy();
    done();
  });
  stream.on('close', done);
}
