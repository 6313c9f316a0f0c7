// Peer VPN benchmark (shared/BENCH.md): one unshaped veth link between two namespaces; the
// bare link, OpenVPN 2.6 (userspace, AES-256-GCM), wireguard-go, and the TCP forwarders
// stunnel (TLS 1.3) and ssh -L measured alternately with iperf3 (TCP Mbit/s) and ping (RTT
// added over the bare link). Needs root.
//
//   npx nx run vpn-peers:bench                  # 3 runs x 5 s
//   npm run bench -- --runs 5 --seconds 10      # from tools/vpn-peers
//
// Prints a table and writes bench-results/vpn-peers.json at the repository root.
import { parseArgs } from 'node:util';
import { formatTable, runAlternating, writeBenchResults } from '@edgebox/bench';
import { createLab, gc, rootStatus } from '@edgebox/netlab';
import { prepareForwardPeers } from '../src/forward-peers.js';
import { firstLine, preparePeers } from '../src/measure.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    parallel: { type: 'string', default: '1' },
    reverse: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const parallel = Number(values.parallel);

const root = rootStatus();
if (!root.ok) {
  console.error(`vpn-peers bench needs root: ${root.reason}`);
  process.exit(1);
}

const lab = await createLab({
  nodes: { client: {}, server: {} },
  links: [{ name: 'wan', a: { node: 'client', ipv4: '10.90.0.1/24' }, b: { node: 'server', ipv4: '10.90.0.2/24' } }],
});
try {
  console.log(`vpn-peers bench: ${runs} runs x ${seconds} s, ${parallel} stream(s)${values.reverse ? ', reverse' : ''}, unshaped veth (lab ${lab.runId})`);
  const peers = await preparePeers(lab, { seconds, parallel, reverse: values.reverse });
  const forwards = await prepareForwardPeers(lab, { seconds, parallel: [parallel], reverse: values.reverse }).catch(async (err: unknown) => {
    await peers.stop();
    throw err;
  });
  try {
    for (const [peer, err] of [...Object.entries(peers.errors), ...Object.entries(forwards.errors)]) console.error(`! ${peer} did not start:\n${err.message}`);
    for (const t of peers.tunnels) console.log(`  ${t.peer}: ${t.clientIfname} ${t.clientTunAddress} -> ${t.serverTunAddress} (pids ${t.pids.client}, ${t.pids.server})`);
    for (const f of forwards.forwards) console.log(`  ${f.peer}: ${f.listenAddress}:${f.port} -> ${f.targetAddress}:${f.port} via :${f.serverPort}, ${f.cipher} (pids ${f.pids.client}, ${f.pids.server})`);
    // The forward rows go after the tunnels' TCP rows (runAlternating rotates the order anyway).
    const rows = await runAlternating([...peers.contenders, ...forwards.contenders], runs);
    console.log(formatTable(rows));
    // The spread tells whether the machine was quiet; the JSON keeps medians only.
    for (const r of rows) if (r.samples.length > 1) console.log(`  ${r.name}: ${r.samples.map((v) => Number(v.toPrecision(4))).join(', ')}`);
    console.log(`wrote ${writeBenchResults('vpn-peers', rows)}`);
  } finally {
    await forwards.stop();
    await peers.stop();
  }
} catch (err) {
  console.error(`vpn-peers bench failed: ${firstLine(err)}`);
  process.exitCode = 1;
} finally {
  await lab.destroy();
  await gc({ own: true });
}
