// Reading local sockets into the shared buffer (borrowed-read.ts): every byte arrives, in order,
// across pauses and data that came before the handler; an accepted socket really is moved on
// this Node (if a Node upgrade broke the move, the first test says so).
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { adoptBorrowed, BORROWED_READ_BYTES, connectBorrowed, detachBorrowed, isBorrowed, readBorrowed, unreadBorrowed } from '../src/borrowed-read.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

function withResolvers<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function listen(options: { pauseOnConnect: boolean }, onSocket: (s: Socket) => void): Promise<number> {
  const server = createServer({ allowHalfOpen: true, ...options }, (s) => {
    sockets.push(s);
    onSocket(s);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A client connected to a pauseOnConnect server, and the accepted socket moved by adoptBorrowed. */
async function acceptedPair(): Promise<{ client: Socket; socket: Socket }> {
  const { promise: adopted, resolve } = withResolvers<Socket>();
  const port = await listen({ pauseOnConnect: true }, (s) => resolve(adoptBorrowed(s, true)));
  const client = connect(port, '127.0.0.1');
  sockets.push(client);
  const socket = await adopted;
  sockets.push(socket);
  return { client, socket };
}

/** Collects a borrowed stream by copying each chunk; pauses every third chunk for a tick. */
function collect(socket: Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  const ended = new Promise<Buffer>((resolve, reject) => {
    socket.on('end', () => resolve(Buffer.concat(parts)));
    socket.on('error', reject);
  });
  const attached = readBorrowed(socket, (chunk) => {
    parts.push(Buffer.from(chunk)); // borrowed: copy before returning
    if (++n % 3 !== 0) return true;
    setImmediate(() => socket.resume());
    return false;
  });
  expect(attached).toBe(true);
  return ended;
}

describe('borrowed reads', () => {
  it('an accepted socket moved to the shared buffer receives 8 MiB intact, including bytes sent before the handler', async () => {
    const payload = randomBytes(8 * 1024 * 1024);
    const { client, socket } = await acceptedPair();
    expect(isBorrowed(socket)).toBe(true); // the handle really moved on this Node
    // the client writes before anything reads: the first chunk waits (copied), reading paused
    client.end(payload);
    await new Promise((r) => setTimeout(r, 50));
    const received = await collect(socket);
    expect(received.length).toBe(payload.length);
    expect(sha(received)).toBe(sha(payload));
  });

  it('the shared buffer is reused: chunks arrive as views of one buffer of BORROWED_READ_BYTES', async () => {
    const buffers = new Set<ArrayBufferLike>();
    const { client, socket } = await acceptedPair();
    const done = new Promise<number>((resolve) => {
      let total = 0;
      readBorrowed(socket, (chunk) => {
        buffers.add(chunk.buffer);
        expect(chunk.buffer.byteLength).toBe(BORROWED_READ_BYTES);
        total += chunk.length;
        return true;
      });
      socket.on('end', () => resolve(total));
    });
    client.end(randomBytes(1024 * 1024));
    expect(await done).toBe(1024 * 1024);
    expect(buffers.size).toBe(1);
  });

  it('a dialled socket reads borrowed: a server that speaks first is heard in full', async () => {
    const payload = randomBytes(3 * 1024 * 1024 + 17);
    const port = await listen({ pauseOnConnect: false }, (s) => s.end(payload));
    const socket = connectBorrowed({ host: '127.0.0.1', port, allowHalfOpen: true });
    sockets.push(socket);
    expect(isBorrowed(socket)).toBe(true);
    await once(socket, 'connect');
    await new Promise((r) => setTimeout(r, 50)); // the server's first bytes wait for the handler
    const received = await collect(socket);
    expect(sha(received)).toBe(sha(payload));
  });

  it('a first reader takes a line, puts back what followed it, and the next reader gets every byte in order', async () => {
    const payload = randomBytes(2 * 1024 * 1024);
    const { client, socket } = await acceptedPair();
    client.end(Buffer.concat([Buffer.from('echo\n'), payload]));
    const line = await new Promise<string>((done) => {
      let head = Buffer.alloc(0);
      readBorrowed(socket, (chunk) => {
        head = Buffer.concat([head, chunk]);
        const nl = head.indexOf(0x0a);
        if (nl >= 0) {
          detachBorrowed(socket);
          unreadBorrowed(socket, head.subarray(nl + 1));
          done(head.subarray(0, nl).toString());
        }
        return true;
      });
    });
    expect(line).toBe('echo');
    await new Promise((r) => setTimeout(r, 20)); // detached: nothing is read meanwhile
    expect(sha(await collect(socket))).toBe(sha(payload));
  });

  it('a socket whose handle is gone is handed back as it came, reading the usual way', async () => {
    const port = await listen({ pauseOnConnect: false }, () => {});
    const plain = connect(port, '127.0.0.1');
    sockets.push(plain);
    await once(plain, 'connect');
    plain.destroy();
    const back = adoptBorrowed(plain, true);
    expect(back).toBe(plain);
    expect(isBorrowed(back)).toBe(false);
    expect(readBorrowed(back, () => true)).toBe(false);
  });
});
