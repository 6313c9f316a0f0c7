// The bonding VPN end to end (issue 3): edgebox-bond client and server as real processes in two
// namespaces joined by three veth uplinks shaped to 100 Mbit/s each (tbf), a TUN at both ends.
// Ping and iperf3 TCP through the bond in both directions; one uplink cut during a transfer
// (the transfer completes, throughput recovers, the link rejoins after the restore); the
// redundant scheduler loses no ping across a cut; a lossy uplink does not poison the bond; the
// wire carries no plaintext and replayed datagrams are dropped and counted; a client with the
// wrong PSK gets no tunnel.
// Measured numbers are printed (`bonding e2e:` lines) for the report; assertions keep a margin
// for a shared 2-core machine (see docs/bonding.md "Performance").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gc } from '@edgebox/netlab';
import { runIperf, runPing } from '@edgebox/vpn-peers';
import type { IperfResult } from '@edgebox/vpn-peers';
import { BOND_CLIENT_TUN, BOND_CLIENT_TUN6, BOND_SERVER_TUN, BOND_SERVER_TUN6, createBondLab } from '../src/bonding-lab.js';
import type { BondLab, BondProcess } from '../src/bonding-lab.js';
import { readPcapUdp } from '../src/bonding-pcap.js';
import type { PeerEvent } from '../src/json-lines.js';
import { reportNotRoot, root } from './root-gate.js';

const RATE_MBIT = 100;
/** A payload pattern (ping -p) to look for on the wire. */
const PATTERN_HEX = 'c0ffee11c0ffee22c0ffee33c0ffee44';
/** Sends each hex line of $REPLAY_FILE as one UDP datagram to the server, from up1's address. */
const REPLAY_SCRIPT = `
const dgram = require('node:dgram');
const lines = require('node:fs').readFileSync(process.env.REPLAY_FILE, 'utf8').trim().split('\\n');
const s = dgram.createSocket('udp4');
s.bind({ address: '10.71.1.1', port: 0 }, async () => {
  for (const l of lines) await new Promise((r) => s.send(Buffer.from(l, 'hex'), 51820, '10.71.0.1', r));
  s.close();
});`;
const LINKS = 3;

function report(line: string): void {
  console.log(`bonding e2e: ${line}`);
}

/** Seconds from the first 100 ms interval after `fromS` until throughput is back to `fraction` of `baseline`. */
function recoverySeconds(r: IperfResult, fromS: number, baseline: number, fraction: number): number {
  const after = r.intervals.filter((i) => i.start >= fromS);
  const back = after.find((i) => i.mbps >= baseline * fraction);
  return back === undefined ? Infinity : back.start - fromS;
}

const isLinkState = (link: string, to: string) => (e: PeerEvent) => e.msg === 'link state' && e.link === link && e.to === to;

describe.runIf(root.ok)('bonding VPN over three shaped uplinks', () => {
  let bond: BondLab | undefined;
  let server: BondProcess | undefined;
  let client: BondProcess | undefined;
  const b = (): BondLab => bond!;

  beforeAll(async () => {
    bond = await createBondLab({ links: LINKS, rateMbit: RATE_MBIT });
    server = await bond.startServer();
  });
  afterAll(async () => {
    await client?.stop();
    await server?.stop();
    await bond?.destroy();
    await gc({ own: true });
  });

  async function connect(scheduler: 'aggregate' | 'redundant' = 'aggregate'): Promise<BondProcess> {
    await client?.stop();
    // site-r: the server schedules its downstream redundantly too
    client = await b().startClient({ scheduler, name: scheduler === 'redundant' ? 'site-r' : 'site-a' });
    await b().waitEstablished(client);
    // every link up on the client (3 evaluations after the session)
    for (let k = 1; k <= LINKS; k++) await client.log.waitFor(isLinkState(`up${k}`, 'up'), 5000, `up${k} up`);
    return client;
  }

  it('ping crosses the bond in both directions', async () => {
    await connect();
    const up = await runPing(b().lab, { node: 'client', address: BOND_SERVER_TUN, count: 10, intervalSeconds: 0.1 });
    const down = await runPing(b().lab, { node: 'server', address: BOND_CLIENT_TUN, count: 10, intervalSeconds: 0.1 });
    const underlay = await runPing(b().lab, { node: 'client', address: '10.71.1.2', count: 10, intervalSeconds: 0.1 });
    report(`ping median client->server ${up.medianMs} ms, server->client ${down.medianMs} ms, underlay ${underlay.medianMs} ms (added ${(up.medianMs - underlay.medianMs).toFixed(2)} ms)`);
    expect(up.received).toBe(10);
    expect(down.received).toBe(10);
  }, 30_000);

  it('IPv6 inside the bond: ping6 both ways and iperf3 TCP over IPv6 in both directions', async () => {
    await connect();
    const up = await runPing(b().lab, { node: 'client', address: BOND_SERVER_TUN6, count: 10, intervalSeconds: 0.1 });
    const down = await runPing(b().lab, { node: 'server', address: BOND_CLIENT_TUN6, count: 10, intervalSeconds: 0.1 });
    const upload = await runIperf(b().lab, { client: 'client', server: 'server', address: BOND_SERVER_TUN6, seconds: 3 });
    const download = await runIperf(b().lab, { client: 'client', server: 'server', address: BOND_SERVER_TUN6, seconds: 3, reverse: true });
    report(`IPv6 inside: ping median up ${up.medianMs} / down ${down.medianMs} ms; iperf3 upload ${upload.receiverMbps.toFixed(1)}, download ${download.receiverMbps.toFixed(1)} Mbit/s`);
    expect(up.received).toBe(10);
    expect(down.received).toBe(10);
    expect(upload.receiverMbps).toBeGreaterThan(RATE_MBIT);
    expect(download.receiverMbps).toBeGreaterThan(RATE_MBIT);
  }, 40_000);

  it('iperf3 TCP through the bond in both directions uses more than one uplink', async () => {
    const upload = await runIperf(b().lab, { client: 'client', server: 'server', address: BOND_SERVER_TUN, seconds: 5 });
    const download = await runIperf(b().lab, { client: 'client', server: 'server', address: BOND_SERVER_TUN, seconds: 5, reverse: true });
    report(`iperf3 over ${LINKS}x${RATE_MBIT} Mbit/s: upload ${upload.receiverMbps.toFixed(1)} Mbit/s (${upload.retransmits} retransmits), download ${download.receiverMbps.toFixed(1)} Mbit/s (${download.retransmits} retransmits)`);
    // One uplink carries at most ~91 Mbit/s of TCP goodput through the tunnel: 1.5 links' worth
    // proves aggregation with room for a loaded machine (measured: 245-277 up, 260-268 down).
    expect(upload.receiverMbps).toBeGreaterThan(1.5 * RATE_MBIT);
    expect(download.receiverMbps).toBeGreaterThan(1.5 * RATE_MBIT);
    const status = await b().status('client');
    expect(status.peers[0]?.links.map((l) => l.state)).toEqual(['up', 'up', 'up']);
    expect(status.peers[0]?.links.every((l) => l.txBytes > 10_000_000 && l.rxBytes > 1_000_000)).toBe(true);
  }, 30_000);

  it('cutting one uplink during a transfer: it completes, throughput recovers, the link rejoins', async () => {
    const c = await connect();
    const transfer = runIperf(b().lab, { client: 'client', server: 'server', address: BOND_SERVER_TUN, seconds: 8, intervalSeconds: 0.1, reverse: true });
    await new Promise((r) => setTimeout(r, 3000));
    const cutAt = Date.now();
    await b().lab.cut('up1');
    const down = await c.log.waitFor(isLinkState('up1', 'down'), 5000, 'up1 down');
    await new Promise((r) => setTimeout(r, 2000));
    const restoreAt = Date.now();
    await b().lab.restore('up1');
    const back = await c.log.waitFor((e) => isLinkState('up1', 'up')(e) && Date.parse(String(e.time)) > restoreAt, 5000, 'up1 up again');
    const result = await transfer; // throws on a connection reset or a missing report
    const detectMs = Date.parse(String(down.time)) - cutAt;
    const rejoinMs = Date.parse(String(back.time)) - restoreAt;
    const before = result.intervals.filter((i) => i.start >= 1 && i.start < 2.5);
    const baseline = before.reduce((s, i) => s + i.mbps, 0) / Math.max(1, before.length);
    // the cut lands ~3 s after the test start; iperf3 starts later than our clock, so look from 2 s on
    const firstDip = result.intervals.find((i) => i.start >= 2 && i.mbps < baseline * 0.5);
    const recovery = firstDip === undefined ? 0 : recoverySeconds(result, firstDip.start, baseline, 0.5);
    report(`failover (download, aggregate): detected in ${detectMs} ms, throughput back to half of ${baseline.toFixed(0)} Mbit/s within ${recovery.toFixed(1)} s, rejoined ${rejoinMs} ms after restore, transfer ${result.receiverMbps.toFixed(1)} Mbit/s, ${result.retransmits} retransmits`);
    expect(result.intervals.length).toBeGreaterThanOrEqual(70);
    expect(detectMs).toBeLessThan(1500);
    expect(recovery).toBeLessThan(2);
    expect(rejoinMs).toBeLessThan(3000);
  }, 30_000);

  it('the redundant scheduler loses no ping across a cut', async () => {
    const c = await connect('redundant');
    const pings = runPing(b().lab, { node: 'client', address: BOND_SERVER_TUN, count: 40, intervalSeconds: 0.1 });
    await new Promise((r) => setTimeout(r, 1000));
    await b().lab.cut('up2');
    await c.log.waitFor(isLinkState('up2', 'down'), 5000, 'up2 down');
    await b().lab.restore('up2');
    const result = await pings;
    report(`redundant: ${result.sent - result.received} of ${result.sent} pings lost across a cut of up2`);
    expect(result.received).toBe(result.sent);
  }, 30_000);

  it('one uplink dropping 5% of its packets does not poison the bond', async () => {
    await connect();
    await b().lab.setLoss('up3', 5);
    try {
      const upload = await runIperf(b().lab, { client: 'client', server: 'server', address: BOND_SERVER_TUN, seconds: 5 });
      const download = await runIperf(b().lab, { client: 'client', server: 'server', address: BOND_SERVER_TUN, seconds: 5, reverse: true });
      const status = await b().status('client');
      const serverStatus = await b().status('server');
      const lossy = status.peers[0]!.links.find((l) => l.name === 'up3')!;
      const arq = (s: typeof status): string => {
        const p = s.peers[0]!;
        return `nacks ${p.retransmit.nacksSent} (${p.retransmit.nackedSeqs} seqs), resent ${p.retransmit.retransmitted}, missed ${p.retransmit.missed}, loss skips ${p.reorder.lossSkips}, timeouts ${p.reorder.timeouts}, late ${p.reorder.late}`;
      };
      report(`5% loss on up3: upload ${upload.receiverMbps.toFixed(1)} Mbit/s, download ${download.receiverMbps.toFixed(1)} Mbit/s (two clean links carry ~182), up3 ${lossy.state}; client: ${arq(status)}; server: ${arq(serverStatus)}`);
      // The target is >= 80% of the two clean links (~146 Mbit/s; measured 154-170 with
      // retransmission, 101-158 without): a poisoned bond falls to about one link's worth.
      // Asserted at 70% (~127), room for a loaded machine.
      const cleanSum = 2 * RATE_MBIT * 0.91; // payload share of a shaped link (1376 of 1514 B: 72 B tunnel + 52 B TCP/IP + 14 B Ethernet)
      expect(upload.receiverMbps).toBeGreaterThan(0.7 * cleanSum);
      expect(download.receiverMbps).toBeGreaterThan(0.7 * cleanSum);
      expect(lossy.state).toBe('degraded');
    } finally {
      await b().lab.setLoss('up3', 0);
    }
  }, 30_000);

  it('the wire shows no plaintext, and captured datagrams replayed at the server are dropped and counted', async () => {
    await connect();
    const dir = await mkdtemp(join(tmpdir(), 'edgebox-bond-pcap-'));
    try {
      const wireFile = join(dir, 'wire.pcap');
      const tunFile = join(dir, 'tun.pcap');
      const capture = (file: string, args: string[]): ChildProcess => b().lab.spawn('server', 'tcpdump', ['-U', '-n', '-w', file, ...args]);
      const wire = capture(wireFile, ['-i', 'any', '-y', 'LINUX_SLL', 'udp', 'port', '51820']);
      const tun = capture(tunFile, ['-i', 'bond0', 'icmp']); // raw IP: only searched for bytes
      await new Promise((r) => setTimeout(r, 1500)); // tcpdump attaches
      const ping = await runPing(b().lab, { node: 'client', address: BOND_SERVER_TUN, count: 10, intervalSeconds: 0.1, size: 200, timeoutMs: 10_000 });
      await b().lab.exec('client', 'ping', ['-c', '5', '-i', '0.1', '-s', '200', '-p', PATTERN_HEX, BOND_SERVER_TUN], { timeoutMs: 10_000 });
      expect(ping.received).toBe(10);
      await new Promise((r) => setTimeout(r, 300));
      for (const p of [wire, tun]) {
        if (p.exitCode !== null || p.signalCode !== null) continue;
        const closed = new Promise((r) => p.once('close', r));
        p.kill('SIGINT');
        await closed;
      }
      const pattern = Buffer.from(PATTERN_HEX, 'hex');
      const tunBytes = await readFile(tunFile);
      expect(tunBytes.includes(pattern)).toBe(true); // the payload is there in the clear inside the tunnel...
      const sent = (await readPcapUdp(wireFile)).filter((d) => d.dst === '10.71.0.1' && d.dstPort === 51820);
      expect(sent.length).toBeGreaterThanOrEqual(15);
      expect(sent.some((d) => d.payload.includes(pattern))).toBe(false); // ...and nowhere on the wire
      expect((await readFile(wireFile)).includes(pattern)).toBe(false);

      const before = (await b().status('server')).counters.replayed;
      const replayFile = join(dir, 'replay.hex');
      await writeFile(replayFile, sent.map((d) => d.payload.toString('hex')).join('\n'));
      await b().lab.exec('client', process.execPath, ['-e', REPLAY_SCRIPT], { env: { REPLAY_FILE: replayFile }, timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 500));
      const after = (await b().status('server')).counters.replayed;
      report(`capture: ${sent.length} datagrams client->server, no plaintext; replayed: ${after - before} of ${sent.length} dropped as replays`);
      expect(after - before).toBe(sent.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('a client with the wrong PSK gets no tunnel', async () => {
    await client?.stop();
    const wrong = Buffer.alloc(32, 7).toString('base64');
    client = await b().startClient({ psk: wrong });
    // The server answers (it knows the PSK id) but the client cannot open its Response.
    const refused = await client.log.waitFor((e) => e.msg === 'handshake refused', 20_000, 'refused handshake');
    expect(refused.code).toBe('CRYPTO_HANDSHAKE_AUTH');
    const ping = await b().lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '1', BOND_SERVER_TUN], { check: false, timeoutMs: 10_000 });
    expect(ping.stdout).toMatch(/3 packets transmitted, 0 received/);
    const status = await b().status('client');
    expect(status.handshake?.state).not.toBe('established');
    expect(status.peers[0]?.connected).toBe(false);
  }, 30_000);
});

describe.runIf(!root.ok)('bonding VPN (needs root)', reportNotRoot);
