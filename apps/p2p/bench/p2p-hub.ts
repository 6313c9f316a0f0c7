// The measured node of the 1,000-peer run, in its own process so its RSS is only its own:
// reads one JSON line {peers: [{peerId, addresses}]} on stdin, connects to all of them (full
// libp2p + Noise + yamux + the edgebox hybrid handshake each, `concurrency` at a time), prints
// {connected, failed, connectMs, rssIdleMb, rssMb}; then each stdin line "broadcast" sends one
// message to every peer (sendToMany) and prints {sent, failed, sendMs, rssMb}.
import '@edgebox/runtime/polyfill';
import { createInterface } from 'node:readline';
import { generateIdentity } from '@edgebox/crypto';
import { createAccessList } from '@edgebox/peers';
import { createP2pNetwork } from '../src/network.js';

const CONCURRENCY = 32;
const rssMb = (): number => Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;

const hub = await createP2pNetwork({ listen: [], streams: ['bench'], maxPeers: 1200 }, { identity: generateIdentity(), accessList: createAccessList() });
await hub.start();
const rssIdleMb = rssMb();
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const first = await lines.next();
if (first.done === true) process.exit(1);
const { peers } = JSON.parse(first.value) as { peers: Array<{ peerId: string; addresses: string[] }> };

const t0 = performance.now();
let next = 0;
let failed = 0;
const errors = new Map<string, number>();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < peers.length) {
      const p = peers[next++]!;
      try {
        await hub.connect(p.peerId, p.addresses, { signal: AbortSignal.timeout(60_000) });
      } catch (err) {
        failed++;
        const code = (err as { code?: string }).code ?? String(err);
        errors.set(code, (errors.get(code) ?? 0) + 1);
      }
    }
  }),
);
const connectMs = performance.now() - t0;
process.stdout.write(`${JSON.stringify({ connected: hub.established().length, failed, errors: Object.fromEntries(errors), connectMs, rssIdleMb, rssMb: rssMb() })}\n`);

const payload = new TextEncoder().encode('broadcast from the hub');
for (let line = await lines.next(); line.done !== true; line = await lines.next()) {
  if (line.value.trim() !== 'broadcast') continue;
  const s0 = performance.now();
  const results = await hub.sendToMany(
    peers.map((p) => p.peerId),
    'bench',
    payload,
    { concurrency: 64 },
  );
  const bad = [...results.values()].filter((e) => e !== null).length;
  process.stdout.write(`${JSON.stringify({ sent: results.size - bad, failed: bad, sendMs: performance.now() - s0, rssMb: rssMb() })}\n`);
}
await hub.stop();
