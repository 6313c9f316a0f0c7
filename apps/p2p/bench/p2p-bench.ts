// p2p bench (shared/BENCH.md): two processes on loopback TCP. Prints a table and writes
// bench-results/p2p.json:
//   stream-msgs-per-s   100-byte messages on one encrypted named stream
//   stream-mbps         64 KiB messages on one encrypted named stream (Mbit/s, one way)
//   handshake-ms        connect → established (Noise + yamux + the edgebox hybrid handshake)
//   libp2p-raw-mbps     the ceiling: raw bytes on a noise+yamux stream, same processes, same run
//   peers-1000-rss      RSS of one node with 1,000 established peers after a broadcast to all
//                       (the peers: 4 processes of 250 nodes, p2p-swarm.ts; the hub: p2p-hub.ts)
//   peers-1000-kb-per-peer                     that RSS less the hub's idle RSS, per peer
//   peers-1000-connect-s, broadcast-1000-ms   how long connecting all and one broadcast took
// Contenders alternate (runAlternating), median of 3 runs.
import '@edgebox/runtime/polyfill';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { peerIdFromString } from '@libp2p/peer-id';
import { formatTable, median, runAlternating, stopProcess, writeBenchResults, type AlternatingResult } from '@edgebox/bench';
import { generateIdentity } from '@edgebox/crypto';
import { createAccessList } from '@edgebox/peers';
import { waitForDrain } from '../src/drain.js';
import { createP2pNetwork, type P2pNetwork } from '../src/network.js';

const RAW_PROTOCOL = '/edgebox/bench/raw/1'; // also in p2p-peer.ts
const RUNS = Number(process.env['P2P_BENCH_RUNS'] ?? 3);
const BULK_BYTES = 64 * 1024 * 1024;
const BULK_MESSAGE = 64 * 1024;
const SMALL_MESSAGES = 20_000;
/** Peers of the many-peers run (required: 1000; smaller only to try the bench out). */
const PEERS = Number(process.env['P2P_BENCH_PEERS'] ?? 1000);

// EDGEBOX_BENCH_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") go to the far peer.
const nodeFlags = (process.env['EDGEBOX_BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
const child = spawn(process.execPath, [...nodeFlags, '--conditions=@edgebox/source', '--import', 'tsx', new URL('./p2p-peer.ts', import.meta.url).pathname], {
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

/** PEERS (1,000) peers in 4 swarm processes; one hub process connects to all and broadcasts. */
async function thousandPeers(): Promise<AlternatingResult[]> {
  const SWARMS = 4;
  const PER_SWARM = Math.ceil(PEERS / SWARMS);
  const tsx = ['--conditions=@edgebox/source', '--import', 'tsx'];
  const swarms = Array.from({ length: SWARMS }, () =>
    spawn(process.execPath, [...tsx, new URL('./p2p-swarm.ts', import.meta.url).pathname, String(PER_SWARM)], { stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  const hub = spawn(process.execPath, [...tsx, new URL('./p2p-hub.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  const row = (name: string, unit: string, value: number | null, error?: string): AlternatingResult => ({ name, unit, kind: 'edgebox', runs: 1, value, samples: value === null ? [] : [value], ...(error === undefined ? {} : { error }) });
  try {
    const swarmLines = swarms.map((s) => createInterface({ input: s.stdout! })[Symbol.asyncIterator]());
    const hubLines = createInterface({ input: hub.stdout! })[Symbol.asyncIterator]();
    const nextJson = async (it: AsyncIterator<string>, what: string): Promise<Record<string, unknown>> => {
      const r = await Promise.race([it.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${what} within 300 s`)), 300_000).unref())]);
      if (r.done === true) throw new Error(`${what}: the process ended`);
      return JSON.parse(r.value) as Record<string, unknown>;
    };
    const peers = (await Promise.all(swarmLines.map((it) => nextJson(it, 'swarm ready')))).flatMap((j) => j['peers'] as unknown[]);
    hub.stdin!.write(`${JSON.stringify({ peers })}\n`);
    const connected = await nextJson(hubLines, 'hub connected');
    if (connected['connected'] !== peers.length) throw new Error(`hub established ${String(connected['connected'])} of ${peers.length} peers: ${JSON.stringify(connected['errors'])}`);
    const b0 = performance.now();
    hub.stdin!.write('broadcast\n');
    const [sent] = await Promise.all([nextJson(hubLines, 'broadcast sent'), ...swarmLines.map((it) => nextJson(it, 'broadcast received'))]);
    const broadcastMs = performance.now() - b0;
    if (sent['failed'] !== 0) throw new Error(`broadcast failed to ${String(sent['failed'])} peers`);
    console.log(`${peers.length} peers: connected in ${((connected['connectMs'] as number) / 1000).toFixed(1)} s, hub RSS idle ${String(connected['rssIdleMb'])} MB -> ${String(sent['rssMb'])} MB`);
    return [
      row(`peers-${PEERS}-rss`, 'MB', sent['rssMb'] as number),
      // What each established peer costs the hub (its idle RSS includes the tsx loader)
      row(`peers-${PEERS}-kb-per-peer`, 'KB', (((sent['rssMb'] as number) - (connected['rssIdleMb'] as number)) * 1024) / peers.length),
      row(`peers-${PEERS}-connect-s`, 's', (connected['connectMs'] as number) / 1000),
      row(`broadcast-${PEERS}-ms`, 'ms', broadcastMs),
    ];
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return [row(`peers-${PEERS}-rss`, 'MB', null, why), row(`peers-${PEERS}-kb-per-peer`, 'KB', null, why), row(`peers-${PEERS}-connect-s`, 's', null, why), row(`broadcast-${PEERS}-ms`, 'ms', null, why)];
  } finally {
    await Promise.all([hub, ...swarms].map((c) => stopProcess(c, 10_000)));
  }
}

const mbps = (seconds: number): number => (BULK_BYTES * 8) / seconds / 1e6;
const rows = await runAlternating(
  [
    { name: 'stream-mbps', unit: 'Mbit/s', ratioTo: 'libp2p-raw-mbps', run: async () => mbps(await encrypted(BULK_MESSAGE, BULK_BYTES / BULK_MESSAGE)) },
    { name: 'libp2p-raw-mbps', unit: 'Mbit/s', kind: 'peer', run: async () => mbps(await raw()) },
    { name: 'stream-msgs-per-s', unit: 'msgs/s', run: async () => SMALL_MESSAGES / (await encrypted(100, SMALL_MESSAGES)) },
    { name: 'handshake-ms', unit: 'ms', run: handshakeMs },
  ],
  RUNS,
);
await sender.stop();
await stopProcess(child);
// The 1,000-peer run is long (1,000 full handshakes) and measured once, on a quiet machine.
rows.push(...(await thousandPeers()));
console.log(formatTable(rows));
const file = writeBenchResults('p2p', rows);
console.log(`wrote ${file}`);
