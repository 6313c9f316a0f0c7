// The far end of the p2p bench, in its own process: a node on loopback TCP accepting stream
// "bench" (each message starts with u32 total; after `total` messages it answers "done" on
// stream "ack") and a raw noise+yamux protocol (u64 byte total first; answers one byte when
// that many bytes arrived). Prints {peerId, addresses} as one JSON line on stdout.
import '@edgebox/runtime/polyfill';
import { generateIdentity } from '@edgebox/crypto';
import { createAccessList } from '@edgebox/peers';
import { createP2pNetwork } from '../src/network.js';

const RAW_PROTOCOL = '/edgebox/bench/raw/1'; // also in p2p-bench.ts

const net = await createP2pNetwork(
  { listen: ['/ip4/127.0.0.1/tcp/0'], streams: ['bench', 'ack'], maxMessageBytes: 1024 * 1024, rateLimit: { capacity: 1e9, refillPerSecond: 1e9 }, inboundConnectionThreshold: 1000, feedCapacity: 1_000_000 },
  { identity: generateIdentity(), accessList: createAccessList() },
);
await net.start();
await net.libp2p.handle(RAW_PROTOCOL, async (stream) => {
  let total = -1;
  let got = 0;
  for await (const chunk of stream) {
    const bytes = chunk.subarray();
    if (total < 0) total = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0));
    got += bytes.length;
    if (got >= total) {
      stream.send(Uint8Array.of(1));
      await stream.close();
      return;
    }
  }
});
// A clean exit on SIGTERM (so --cpu-prof, when given, writes its profile).
process.once('SIGTERM', () => void net.stop().finally(() => process.exit(0)));
process.stdout.write(`${JSON.stringify({ peerId: net.peerId, addresses: net.multiaddrs() })}\n`);
let count = 0;
for await (const m of net.messages()) {
  if (m.stream !== 'bench') continue;
  const total = new DataView(m.data.buffer, m.data.byteOffset, 4).getUint32(0);
  if (++count >= total) {
    count = 0;
    await net.send(m.peer, 'ack', new TextEncoder().encode('done'));
  }
}
