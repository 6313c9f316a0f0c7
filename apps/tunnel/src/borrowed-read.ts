/**
 * Reading a local socket into one reused buffer (net's `onread`) instead of Node's fresh
 * 64 KiB buffer per read.
 *
 * Why: in bulk transfers Node allocates a new ArrayBuffer for every socket read, and V8 answers
 * that external-memory churn with full mark-compacts (measured in the bench lab: ~15 a second on
 * the source at 3 Gbit/s). A chunk read this way is *borrowed*: it is valid only until the
 * handler returns, so a handler seals it right away (the multiplexer copies it into a sealed
 * frame) or copies it.
 *
 * One buffer serves every socket of the process: libuv reads one socket at a time and calls the
 * handler synchronously, and nothing here reads re-entrantly.
 *
 * A dialled socket gets the reader from `connect()` options (public API). An accepted socket
 * cannot (net.Server has no `onread`), so its handle is moved into a new Socket created with one
 * (`adoptBorrowed`): the listening server must use `pauseOnConnect` so that nothing is read
 * before the move. That relies on `socket._handle`, which Node does not document; when it is
 * missing the socket is returned as it came and reads the usual way.
 */
import { connect, Socket, type TcpNetConnectOpts } from 'node:net';

/** Bytes read at most per read() (Node's own read size). */
export const BORROWED_READ_BYTES = 64 * 1024;

/** Handles one borrowed chunk; returns false to stop reading until `socket.resume()`. */
export type BorrowedChunkHandler = (chunk: Buffer) => boolean;

/** The handler slot of a socket read with a borrowed buffer. */
interface BorrowedReader {
  handler: BorrowedChunkHandler | null;
  /** Chunks that arrived before a handler was attached (copies), delivered first. */
  early: Buffer[];
}

let shared: Buffer | null = null;
const readers = new WeakMap<Socket, BorrowedReader>();

function sharedBuffer(): Buffer {
  shared ??= Buffer.allocUnsafeSlow(BORROWED_READ_BYTES);
  return shared;
}

function onreadFor(reader: BorrowedReader): { buffer: () => Buffer; callback: (nread: number, buf: Uint8Array) => boolean } {
  return {
    // A function, so that no buffer is allocated before the first socket needs one.
    buffer: sharedBuffer,
    callback: (nread, buf) => {
      const chunk = Buffer.from(buf.buffer, buf.byteOffset, nread);
      if (reader.handler !== null) return reader.handler(chunk);
      // No handler yet (data before splice): keep a copy and stop reading until one comes.
      reader.early.push(Buffer.from(chunk));
      return false;
    },
  };
}

/**
 * Dials like `net.connect(options)`, reading into the shared buffer. Attach a handler with
 * `readBorrowed()`; data that comes before it waits (copied) with the socket paused.
 *
 * @example const sock = connectBorrowed({ host: '127.0.0.1', port: 5201, allowHalfOpen: true });
 */
export function connectBorrowed(options: TcpNetConnectOpts): Socket {
  const reader: BorrowedReader = { handler: null, early: [] };
  const socket = connect({ ...options, onread: onreadFor(reader) });
  readers.set(socket, reader);
  return socket;
}

/**
 * Moves an accepted socket (from a server with `pauseOnConnect: true`) into a Socket that reads
 * into the shared buffer; returns it paused. Returns the same socket, resumed, when its handle
 * cannot be moved (then it reads the usual way and `readBorrowed()` returns false).
 *
 * @example createServer({ pauseOnConnect: true, allowHalfOpen: true }, (c) => serve(adoptBorrowed(c, true)));
 */
export function adoptBorrowed(accepted: Socket, allowHalfOpen: boolean): Socket {
  const handle = (accepted as unknown as { _handle?: { readStart?: unknown } | null })._handle;
  if (handle === null || handle === undefined || typeof handle.readStart !== 'function' || accepted.destroyed) {
    accepted.resume();
    return accepted;
  }
  const reader: BorrowedReader = { handler: null, early: [] };
  // Detach the handle first so that destroying the husk closes nothing (and the server's
  // connection count drops with it).
  (accepted as unknown as { _handle: unknown })._handle = null;
  accepted.destroy();
  const socket = new Socket({ handle, allowHalfOpen, pauseOnCreate: true, onread: onreadFor(reader) } as ConstructorParameters<typeof Socket>[0]);
  readers.set(socket, reader);
  return socket;
}

/**
 * Detaches the handler and stops reading; a chunk that comes meanwhile is held (copied) for the
 * next `readBorrowed()`. For handing a socket from one reader to the next (handshake, then
 * multiplexer).
 */
export function detachBorrowed(socket: Socket): void {
  const reader = readers.get(socket);
  if (reader === undefined) return;
  reader.handler = null;
  socket.pause();
}

/**
 * Puts bytes back in front of what a detached socket reads next (like `unshift`): the next
 * `readBorrowed()` handler gets a copy of them first. For a reader that took more than it
 * wanted (a line, then the start of the payload).
 */
export function unreadBorrowed(socket: Socket, chunk: Uint8Array): void {
  const reader = readers.get(socket);
  if (reader === undefined || chunk.length === 0) return;
  reader.early.unshift(Buffer.from(chunk));
}

/** True when `socket` reads into the shared buffer (made by connectBorrowed or adoptBorrowed). */
export function isBorrowed(socket: Socket): boolean {
  return readers.has(socket);
}

/**
 * Sends every chunk of `socket` to `handler` (borrowed: valid until it returns) and starts
 * reading; replaces any earlier handler. Returns false when the socket is not a borrowed reader
 * (use 'data' instead).
 */
export function readBorrowed(socket: Socket, handler: BorrowedChunkHandler): boolean {
  const reader = readers.get(socket);
  if (reader === undefined) return false;
  reader.handler = handler;
  // Early chunks are copies (at most an unread one and the one that stopped reading): all go
  // to the handler, which keeps them or queues them; if it asked for a pause, it resumes.
  let more = true;
  while (reader.early.length > 0) more = handler(reader.early.shift()!);
  if (more) socket.resume();
  return true;
}
