// p2p bench (shared/BENCH.md): two processes on loopback TCP. Prints a table and writes
// bench-results/p2p.json:
//   stream-msgs-per-s   100-byte messages on one encrypted named stream
//   stream-mbps         64 KiB messages on one encrypted named stream (Mbit/s, one way)
//   handshake-ms        connect → established (Noise + yamux + the edgebox hybrid handshake)
//   libp2p-raw-mbps     the ceiling: raw bytes on a noise+yamux stream, same processes, same run
//   peers-1000-rss      not measured yet (reported null with the reason)
// Contenders alternate (runAlternating), median of 3 runs.
import '@edgebox/runtime/polyfill';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { peerIdFromString } from '@libp2p/peer-id';
import { formatTable, median, runAlternating, writeBenchResults } from '@edgebox/bench';
import { generateIdentity } from '@edgebox/crypto';
import { createAccessList } from '@edgebox/peers';
import { waitForDrain } from '../src/drain.js';
import { createP2pNetwork, type P2pNetwork } from '../src/network.js';

const RAW_PROTOCOL = '/edgebox/bench/raw/1'; // also in p2p-peer.ts
const RUNS = Number(process.env['P2P_BENCH_RUNS'] ?? 3);
const BULK_BYTES = 64 * 1024 * 1024;
const BULK_MESSAGE = 64 * 1024;
const SMALL_MESSAGES = 20_000;

const child = spawn(process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', new URL('./p2p-peer.ts', import.meta.url).pathname], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const far = await new Promise<{ peerId: string; addresses: string[] }>((resolve, reject) => {
  createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { peerId: string; addresses: string[] }));
  child.once('exit', (code) => reject(new Error(`bench peer exited ${code}`)));
});

async function node(): Promise<P2pNetwork> {
  const n = await createP2pNetwork({ listen: [], streams: ['ack'], maxMessageBytes: 1024 * 1024 }, { identity: generateIdentity(), accessList: createAccessList() });
  await n.start();
  return n;
}

const sender = await node();
await sender.connect(far.peerId, far.addresses);

async function encrypted(messageBytes: number, count: number): Promise<number> {
  const data = new Uint8Array(messageBytes);
  new DataView(data.buffer).setUint32(0, count);
  const ack = sender.messages({ streams: ['ack'], signal: AbortSignal.timeout(120_000) });
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await sender.send(far.peerId, 'bench', data);
  for await (const _ of ack) break;
  return (performance.now() - t0) / 1000;
}

async function raw(): Promise<number> {
  const stream = await sender.libp2p.dialProtocol(peerIdFromString(far.peerId), RAW_PROTOCOL);
  const chunk = new Uint8Array(BULK_MESSAGE);
  new DataView(chunk.buffer).setBigUint64(0, BigInt(BULK_BYTES));
  const t0 = performance.now();
  const done = (async () => {
    for await (const _ of stream) return;
  })();
  for (let sent = 0; sent < BULK_BYTES; sent += chunk.length) {
    if (!stream.send(chunk)) await waitForDrain(stream);
  }
  await done;
  return (performance.now() - t0) / 1000;
}

async function handshakeMs(): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    const n = await node();
    const t0 = performance.now();
    await n.connect(far.peerId, far.addresses);
    samples.push(performance.now() - t0);
    await n.stop();
  }
  return median(samples);
}

const mbps = (seconds: number): number => (BULK_BYTES * 8) / seconds / 1e6;
const rows = await runAlternating(
  [
    { name: 'stream-mbps', unit: 'Mbit/s', ratioTo: 'libp2p-raw-mbps', run: async () => mbps(await encrypted(BULK_MESSAGE, BULK_BYTES / BULK_MESSAGE)) },
    { name: 'libp2p-raw-mbps', unit: 'Mbit/s', kind: 'peer', run: async () => mbps(await raw()) },
    { name: 'stream-msgs-per-s', unit: 'msgs/s', run: async () => SMALL_MESSAGES / (await encrypted(100, SMALL_MESSAGES)) },
    { name: 'handshake-ms', unit: 'ms', run: handshakeMs },
    { name: 'peers-1000-rss', unit: 'MB', unavailable: 'not measured yet: the 1,000-peer run is still to be written', run: () => 0 },
  ],
  RUNS,
);
await sender.stop();
child.kill('SIGTERM');
console.log(formatTable(rows));
const file = writeBenchResults('p2p', rows);
console.log(`wrote ${file}`);
