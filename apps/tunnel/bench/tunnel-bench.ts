// Tunnel benchmark (shared/BENCH.md, issue 4): a source namespace and a dest namespace joined by
// one unshaped veth link; edgebox-tunnel (forward mode, transparent, hybrid handshake) carries
// iperf3 (1 and 8 streams), and, measured alternately in the same run over the same link,
// stunnel (TLS 1.3, AES-256-GCM) and `ssh -L` (aes256-gcm) carry the same iperf3. Then the
// tunnel alone: connection setup latency (connect + first byte echoed back through a new
// stream, sequential, p50/p99) and RSS of each side with 1,000 streams open at once.
// Needs root, iperf3, stunnel4 and openssh (Debian's packages).
//
//   npx nx run tunnel:bench                      # 3 runs x 5 s (builds apps/tunnel first)
//   npm run bench -- --runs 5 --seconds 10       # from apps/tunnel
//
// Prints a table and writes bench-results/tunnel.json at the repository root.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PassThrough } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import { formatTable, median, runAlternating, stopProcess, waitForLine, writeBenchResults } from '@edgebox/bench';
import type { AlternatingResult, Contender } from '@edgebox/bench';
import { createLab, gc, rootStatus } from '@edgebox/netlab';
import type { Lab } from '@edgebox/netlab';
import { measureTcpForward, prepareForwardPeers } from '@edgebox/vpn-peers';
import { runCertsCommand } from '../src/certs-cli.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '500' },
    // --no-peers: the tunnel alone (profiling); the report then lacks the peers' rows
    'no-peers': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const setupConnections = Number(values.connections);

// The built CLI, as deployed (the bench script builds first): no tsx loader in the RSS figures.
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const SOURCE_IP = '10.74.1.1';
const DEST_IP = '10.74.1.2';
const DEST_PORT = 7443;
const IPERF_PORT = 5201;
const ECHO_PORT = 7000;
const OPEN_STREAMS = 1000;
// EDGEBOX_BENCH_NODE_FLAGS adds flags to the tunnel processes, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'.
const EXTRA_FLAGS = (process.env['EDGEBOX_BENCH_NODE_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');
const NODE_FLAGS = [...EXTRA_FLAGS];

const root = rootStatus();
if (!root.ok) {
  console.error(`tunnel bench needs root: ${root.reason}`);
  process.exit(1);
}

/** A TCP echo server (dest side: what the setup and RSS measurements talk to). */
const ECHO_SERVER = `require('node:net').createServer((s) => { s.on('error', () => {}); s.pipe(s); }).listen(${ECHO_PORT}, '127.0.0.1', () => console.log('ready'));`;

/** Sequential connections through the tunnel: connect, send a byte, time until it is echoed. */
const SETUP_CLIENT = `
const net = require('node:net');
const n = Number(process.argv[1]);
const times = [];
const once = () => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const s = net.connect(${ECHO_PORT}, '127.0.0.1', () => s.write('x'));
  s.once('data', () => { times.push(performance.now() - t0); s.destroy(); resolve(); });
  s.once('error', reject);
  s.setTimeout(5000, () => reject(new Error('echo timeout')));
});
(async () => { for (let i = 0; i < n; i++) await once(); console.log(JSON.stringify(times)); })().catch((e) => { console.error(e.message); process.exit(1); });`;

/** Opens N connections through the tunnel, each proven by an echo, then holds them until stdin ends. */
const HOLD_CLIENT = `
const net = require('node:net');
const n = Number(process.argv[1]);
const sockets = [];
let ready = 0;
for (let i = 0; i < n; i++) {
  const s = net.connect(${ECHO_PORT}, '127.0.0.1', () => s.write('x'));
  s.once('data', () => { if (++ready === n) console.log('ready'); });
  s.on('error', (e) => { console.error('connection ' + i + ': ' + e.message); process.exit(1); });
  sockets.push(s);
}
process.stdin.on('end', () => { for (const s of sockets) s.destroy(); process.exit(0); });
process.stdin.resume();`;

async function rssMB(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (kb === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb[1]) / 1024;
}

/** User + system CPU seconds of these processes so far (/proc/<pid>/stat, 100 ticks a second). */
async function cpuSeconds(pids: number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  }
  return ticks / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs the certs CLI in-process; throws with its stderr when it fails. */
async function certs(args: string[]): Promise<void> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  err.on('data', (c: Buffer) => chunks.push(c));
  out.resume();
  const code = await runCertsCommand(args, { stdout: out, stderr: err });
  if (code !== 0) throw new Error(`certs ${args[0]} failed (${code}): ${Buffer.concat(chunks).toString()}`);
}

const lab: Lab = await createLab({
  nodes: { source: {}, dest: {} },
  links: [{ name: 'wan', a: { node: 'source', ipv4: `${SOURCE_IP}/24` }, b: { node: 'dest', ipv4: `${DEST_IP}/24` } }],
  routes: [],
});
const dir = await mkdtemp(join(tmpdir(), 'edgebox-tunnel-bench-'));
let dest: ChildProcess | undefined;
let source: ChildProcess | undefined;
let echo: ChildProcess | undefined;
try {
  await certs(['ca', '--out', join(dir, 'ca'), '--name', 'bench CA']);
  await certs(['issue', '--ca', join(dir, 'ca'), '--name', 'bench-dest', '--role', 'dest', '--out', join(dir, 'dest')]);
  await certs(['issue', '--ca', join(dir, 'ca'), '--name', 'bench-source', '--role', 'source', '--out', join(dir, 'source')]);
  const pki = (side: string): Record<string, string> => ({ ca: join(dir, side, 'ca.pem'), cert: join(dir, side, 'cert.pem'), key: join(dir, side, 'key.pem') });
  const destFile = join(dir, 'dest.json');
  await writeFile(
    destFile,
    JSON.stringify({
      role: 'dest',
      mode: 'transparent',
      pki: pki('dest'),
      dest: { listen: { host: DEST_IP, port: DEST_PORT }, services: [{ name: 'iperf', port: IPERF_PORT }, { name: 'echo', port: ECHO_PORT }] },
    }),
  );
  const sourceFile = join(dir, 'source.json');
  await writeFile(
    sourceFile,
    JSON.stringify({ role: 'source', mode: 'transparent', pki: pki('source'), source: { dest: `${DEST_IP}:${DEST_PORT}`, forwards: [{ port: IPERF_PORT }, { port: ECHO_PORT }] } }),
  );
  echo = lab.spawn('dest', process.execPath, ['-e', ECHO_SERVER]);
  await waitForLine(echo, (l) => l === 'ready', 10_000, 'echo server');
  dest = lab.spawn('dest', process.execPath, [...NODE_FLAGS, MAIN, 'dest', '--config', destFile], { cwd: REPO });
  await waitForLine(dest, (l) => l.includes('edgebox-tunnel dest running'), 30_000, 'dest start');
  source = lab.spawn('source', process.execPath, [...NODE_FLAGS, MAIN, 'source', '--config', sourceFile], { cwd: REPO });
  await waitForLine(source, (l) => l.includes('edgebox-tunnel source running'), 30_000, 'source start');
  // the first connection through also proves the session: a short setup run as warm-up
  await lab.exec('source', process.execPath, ['-e', SETUP_CLIENT, '20']);

  const forwarded = { client: 'source', server: 'dest', listenAddress: '127.0.0.1', port: IPERF_PORT };
  const tunnel: Contender[] = [1, 8].map((parallel) => ({
    name: `tunnel-tcp-${parallel}`,
    unit: 'Mbit/s',
    ratioTo: `stunnel-tcp-1`,
    run: () => measureTcpForward(lab, forwarded, { seconds, parallel }),
  }));

  console.log(`tunnel bench: ${runs} runs x ${seconds} s, iperf3 through one unshaped veth link (lab ${lab.runId})`);
  const peers = await prepareForwardPeers(lab, { link: 'wan', client: 'source', server: 'dest', seconds, parallel: [1], peers: values['no-peers'] === true ? [] : undefined });
  let rows: AlternatingResult[];
  // CPU of both ends per GB carried: on a shared 2-core box throughput is whoever gets the CPU,
  // while CPU per byte says what each forwarder costs
  const cpuPerGB = new Map<string, number[]>();
  const withCpu = (c: Contender, pids: () => number[]): Contender => ({
    ...c,
    run: async () => {
      const before = await cpuSeconds(pids());
      const mbps = await c.run();
      const used = (await cpuSeconds(pids())) - before;
      const gb = (mbps * seconds) / 8 / 1000;
      if (gb > 0) cpuPerGB.set(c.name, [...(cpuPerGB.get(c.name) ?? []), used / gb]);
      return mbps;
    },
  });
  const pidsOf = (peer: string) => (): number[] => {
    const f = peers.forwards.find((x) => x.peer === peer);
    return f === undefined ? [] : [f.pids.client, f.pids.server];
  };
  try {
    for (const [peer, err] of Object.entries(peers.errors)) console.error(`! ${peer} did not start:\n${err.message}`);
    const contenders = [
      ...tunnel.map((c) => withCpu(c, () => [source!.pid!, dest!.pid!])),
      // stunnel serves every connection in its own two processes; sshd forks a child per
      // connection that the forward's pids do not name, so ssh gets no CPU row
      ...peers.contenders.map((c) => (c.unavailable === undefined && c.name.startsWith('stunnel') ? withCpu(c, pidsOf('stunnel')) : c)),
    ];
    rows = await runAlternating(contenders, runs);
  } finally {
    await peers.stop();
  }
  for (const [name, samples] of cpuPerGB) {
    rows.push({ name: `${name}-cpu`, unit: 's/GB', kind: name.startsWith('tunnel') ? 'edgebox' : 'peer', value: Number(median(samples).toPrecision(3)), samples, runs: samples.length });
  }

  // connection setup: sequential connect + echo through a new stream each time
  const setup = await lab.exec('source', process.execPath, ['-e', SETUP_CLIENT, String(setupConnections)]);
  const times = (JSON.parse(setup.stdout.trim().split('\n').pop()!) as number[]).sort((a, b) => a - b);
  const row = (name: string, value: number, unit: string): AlternatingResult => ({ name, unit, kind: 'edgebox', value: Number(value.toPrecision(4)), samples: [value], runs: 1 });
  rows.push(row('tunnel-setup-p50', percentile(times, 50), 'ms'), row('tunnel-setup-p99', percentile(times, 99), 'ms'));

  // memory with 1,000 streams open at once
  const idleSource = await rssMB(source.pid);
  const idleDest = await rssMB(dest.pid);
  const holder = lab.spawn('source', process.execPath, ['-e', HOLD_CLIENT, String(OPEN_STREAMS)], { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    await waitForLine(holder, (l) => l === 'ready', 60_000, `${OPEN_STREAMS} streams open`);
    await new Promise((r) => setTimeout(r, 500));
    const sourceRss = await rssMB(source.pid);
    const destRss = await rssMB(dest.pid);
    rows.push(
      row('tunnel-rss-1000', Math.max(sourceRss, destRss), 'MB'),
      row('tunnel-rss-1000-source', sourceRss, 'MB'),
      row('tunnel-rss-1000-dest', destRss, 'MB'),
      row('tunnel-rss-idle-source', idleSource, 'MB'),
      row('tunnel-rss-idle-dest', idleDest, 'MB'),
    );
  } finally {
    holder.stdin?.end();
    await stopProcess(holder);
  }

  console.log(formatTable(rows));
  for (const r of rows) if (r.samples.length > 1 && r.unit === 'Mbit/s') console.log(`  ${r.name}: ${r.samples.map((v) => Number(v.toPrecision(4))).join(', ')} (median ${median(r.samples)})`);
  console.log(`  setup: ${times.length} connections, p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms, max ${times[times.length - 1]!.toFixed(2)} ms`);
  console.log(`wrote ${writeBenchResults('tunnel', rows)}`);
} catch (err) {
  console.error(`tunnel bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await stopProcess(source);
  await stopProcess(dest);
  await stopProcess(echo);
  await lab.destroy();
  await gc({ own: true });
  await rm(dir, { recursive: true, force: true });
}
