// Bonding benchmark (shared/BENCH.md, issue 3): a client namespace with three unshaped veth
// uplinks to a server namespace; edgebox-bond over 1, 2 and 3 of them, and, over the first
// uplink in the same run, the bare link, OpenVPN 2.6 and wireguard-go — all measured
// alternately with iperf3 (one TCP stream, Mbit/s) and ping (RTT added over the bare link).
// Then the aggregation target: the three uplinks shaped to 100 Mbit/s each (tc tbf), one TCP
// stream through the bond in each direction (after one warm-up run), as Mbit/s and as a share
// of the 300 Mbit/s the links carry.
// Needs root, iperf3, openvpn and wireguard-go (Debian's packages).
//
//   npx nx run bonding:bench                   # 3 runs x 5 s
//   npm run bench -- --runs 5 --seconds 10     # from apps/bonding
//   npm run bench -- --reverse                 # server -> client
//
// Prints a table and writes bench-results/bonding.json at the repository root.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { formatTable, jsonLine, median, runAlternating, stopProcess, waitForLine, writeBenchResults } from '@edgebox/bench';
import type { AlternatingResult, Contender } from '@edgebox/bench';
import { createLab, gc, rootStatus } from '@edgebox/netlab';
import type { Lab } from '@edgebox/netlab';
import { preparePeers, runIperf, runPing } from '@edgebox/vpn-peers';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    reverse: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const reverse = values.reverse === true;

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const LISTEN = '10.73.0.1';
const SERVER_TUN = '10.97.0.1';
const LINKS = 3;
/** Rate of each uplink in the shaped phase (Mbit/s, tc tbf on both ends). */
const SHAPED_MBIT = 100;
/** Seconds of each shaped run: long enough that TCP's start is a small part of it. */
const SHAPED_SECONDS = 10;
// EDGEBOX_BENCH_NODE_FLAGS adds flags to the bond processes, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'.
const EXTRA_FLAGS = (process.env['EDGEBOX_BENCH_NODE_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');
const NODE_FLAGS = ['--max-semi-space-size=1', '--conditions=@edgebox/source', '--import', 'tsx', ...EXTRA_FLAGS];

/** The first line of an error (the rest may be log tails). */
function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0]!;
}

const root = rootStatus();
if (!root.ok) {
  console.error(`bonding bench needs root: ${root.reason}`);
  process.exit(1);
}

const lab: Lab = await createLab({
  nodes: { client: {}, server: {} },
  links: Array.from({ length: LINKS }, (_, i) => ({
    name: `up${i + 1}`,
    a: { node: 'client', ipv4: `10.73.${i + 1}.1/24` },
    b: { node: 'server', ipv4: `10.73.${i + 1}.2/24` },
  })),
  routes: [],
});
const dir = await mkdtemp(join(tmpdir(), 'edgebox-bond-bench-'));
let server: ChildProcess | undefined;
let client: ChildProcess | undefined;
let clientLinks = 0;
try {
  await lab.exec('server', 'ip', ['addr', 'add', `${LISTEN}/32`, 'dev', 'lo']);
  const psk = randomBytes(32).toString('base64');
  const serverFile = join(dir, 'server.json');
  await writeFile(
    serverFile,
    JSON.stringify({ mode: 'server', tun: { address: `${SERVER_TUN}/24` }, server: { listen: `${LISTEN}:51830`, clients: [{ name: 'bench', psk, tunAddress: '10.97.0.2' }] } }),
    { mode: 0o600 },
  );
  server = lab.spawn('server', process.execPath, [...NODE_FLAGS, MAIN, 'server', '--config', serverFile], { cwd: REPO });
  await waitForLine(server, (l) => String(jsonLine(l)?.msg).startsWith('edgebox-bond server running'), 30_000, 'server start');

  /** (Re)start the client over the first `n` uplinks and wait until every one is up. */
  const useLinks = async (n: number): Promise<void> => {
    if (clientLinks === n) return;
    await stopProcess(client);
    const file = join(dir, `client-${n}.json`);
    const links = Array.from({ length: n }, (_, i) => ({ name: `up${i + 1}`, interface: `up${i + 1}`, source: `10.73.${i + 1}.1`, gateway: `10.73.${i + 1}.2` }));
    await writeFile(file, JSON.stringify({ mode: 'client', identity: { psk }, tun: { address: '10.97.0.2/24' }, client: { name: 'bench', server: `${LISTEN}:51830`, links } }), { mode: 0o600 });
    client = lab.spawn('client', process.execPath, [...NODE_FLAGS, MAIN, 'client', '--config', file], { cwd: REPO });
    let up = 0;
    await waitForLine(
      client,
      (l) => {
        const e = jsonLine(l);
        return e?.msg === 'link state' && e.to === 'up' && ++up === n;
      },
      30_000,
      `${n} links up`,
    );
    clientLinks = n;
  };
  const bondTcp = (n: number) => async (): Promise<number> => {
    await useLinks(n);
    return (await runIperf(lab, { client: 'client', server: 'server', address: SERVER_TUN, seconds, reverse })).receiverMbps;
  };
  const bond: Contender[] = [
    { name: 'bond-1link-tcp', unit: 'Mbit/s', ratioTo: 'openvpn-tcp', run: bondTcp(1) },
    { name: 'bond-2link-tcp', unit: 'Mbit/s', ratioTo: 'openvpn-tcp', run: bondTcp(2) },
    { name: 'bond-3link-tcp', unit: 'Mbit/s', ratioTo: 'openvpn-tcp', run: bondTcp(3) },
    {
      name: 'bond-rtt-added',
      unit: 'ms',
      run: async () => {
        await useLinks(LINKS);
        const through = (await runPing(lab, { node: 'client', address: SERVER_TUN })).medianMs;
        return through - (await runPing(lab, { node: 'client', address: '10.73.1.2' })).medianMs;
      },
    },
  ];

  /** One stream through the bond over the three uplinks shaped to SHAPED_MBIT, up and down alternately. */
  const measureShaped = async (): Promise<AlternatingResult[]> => {
    for (let i = 1; i <= LINKS; i++) await lab.setRate(`up${i}`, SHAPED_MBIT);
    await useLinks(LINKS);
    const iperf = async (down: boolean, secs: number): Promise<number> =>
      (await runIperf(lab, { client: 'client', server: 'server', address: SERVER_TUN, seconds: secs, reverse: down })).receiverMbps;
    await iperf(false, 3); // warm-up: the links' rates are measured and the scheduler weighted
    const up: number[] = [];
    const down: number[] = [];
    for (let r = 0; r < runs; r++) {
      up.push(await iperf(false, SHAPED_SECONDS));
      down.push(await iperf(true, SHAPED_SECONDS));
    }
    const sum = LINKS * SHAPED_MBIT;
    const row = (name: string, unit: string, samples: number[]): AlternatingResult => ({
      name,
      unit,
      kind: 'edgebox',
      value: Number(median(samples).toPrecision(4)),
      samples,
      runs: samples.length,
    });
    return [
      row('bond-3x100-tcp-up', 'Mbit/s', up),
      row('bond-3x100-tcp-down', 'Mbit/s', down),
      row('bond-3x100-share-up', '% of 300', up.map((v) => (100 * v) / sum)),
      row('bond-3x100-share-down', '% of 300', down.map((v) => (100 * v) / sum)),
    ];
  };

  console.log(`bonding bench: ${runs} runs x ${seconds} s, 1 TCP stream${reverse ? ', reverse' : ''}, ${LINKS} unshaped veth uplinks (lab ${lab.runId})`);
  const peers = await preparePeers(lab, { link: 'up1', client: 'client', server: 'server', seconds, reverse });
  try {
    for (const [peer, err] of Object.entries(peers.errors)) console.error(`! ${peer} did not start:\n${err.message}`);
    const rows = await runAlternating([...bond, ...peers.contenders], runs);
    rows.push(...(await measureShaped()));
    console.log(formatTable(rows));
    for (const r of rows) if (r.samples.length > 1) console.log(`  ${r.name}: ${r.samples.map((v) => Number(v.toPrecision(4))).join(', ')}`);
    console.log(`wrote ${writeBenchResults('bonding', rows)}`);
  } finally {
    await peers.stop();
  }
} catch (err) {
  console.error(`bonding bench failed: ${firstLine(err)}`);
  process.exitCode = 1;
} finally {
  await stopProcess(client);
  await stopProcess(server);
  await lab.destroy();
  await gc({ own: true });
  await rm(dir, { recursive: true, force: true });
}
