// One process of the 1,000-peer run: argv[2] p2p nodes on loopback TCP (each its own
// identity, libp2p instance and listen port), accepting stream "bench". Prints one JSON line
// {peers: [{peerId, addresses}]} when all listen, then {received: n} each time n nodes (all of
// them) have got one more message each: the hub's broadcast has fully arrived here.
import '@edgebox/runtime/polyfill';
import { generateIdentity } from '@edgebox/crypto';
import { createAccessList } from '@edgebox/peers';
import { createP2pNetwork, type P2pNetwork } from '../src/network.js';

const count = Number(process.argv[2] ?? 250);
if (!Number.isInteger(count) || count < 1 || count > 2000) throw new RangeError(`node count ${process.argv[2]} is not 1..2000`);

const nodes: P2pNetwork[] = [];
for (let i = 0; i < count; i++) {
  const n = await createP2pNetwork({ listen: ['/ip4/127.0.0.1/tcp/0'], streams: ['bench'], maxPeers: 8 }, { identity: generateIdentity(), accessList: createAccessList() });
  await n.start();
  nodes.push(n);
}

// Messages each node has received; a broadcast round is complete when every node has `round`.
const received = new Array<number>(count).fill(0);
let round = 1;
const reportIfRoundDone = (): void => {
  while (received.every((r) => r >= round)) {
    process.stdout.write(`${JSON.stringify({ received: count, round })}\n`);
    round++;
  }
};
nodes.forEach((n, i) => {
  void (async () => {
    for await (const m of n.messages({ streams: ['bench'] })) {
      if (m.data.length > 0) received[i]!++;
      reportIfRoundDone();
    }
  })();
});

process.stdout.write(`${JSON.stringify({ peers: nodes.map((n) => ({ peerId: n.peerId, addresses: n.multiaddrs() })) })}\n`);

const stop = async (): Promise<void> => {
  await Promise.allSettled(nodes.map((n) => n.stop()));
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
