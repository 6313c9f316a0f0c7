// Path MTU through the bond (issue 3, bonding.md §7), edgebox-bond client and server in the
// netlab lab with three uplinks and `tun.mtu: auto`:
// - one uplink's veth MTU lowered to 1400: the client's TUN MTU follows at once (1400 − 72),
//   a DF ping of exactly the TUN MTU crosses, one byte more is refused locally, and full-size
//   iperf3 TCP runs both ways (the MSS clamp follows the TUN MTU);
// - a black hole on another uplink (nftables silently drops its datagrams over 1360 bytes, no
//   ICMP): the sized PROBEs find that path MTU, the TUN MTU drops to fit, and iperf3 TCP still
//   runs both ways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gc } from '@edgebox/netlab';
import { runIperf } from '@edgebox/vpn-peers';
import { BOND_MAIN, BOND_SERVER_TUN, BOND_START_MS, createBondLab } from '../src/bonding-lab.js';
import type { BondLab, BondProcess } from '../src/bonding-lab.js';
import type { PeerEvent } from '../src/json-lines.js';
import { reportNotRoot, root } from './root-gate.js';

const LINKS = 3;
const OVERHEAD_V4 = 72;

interface MtuStatus {
  tun: { mtu: number } | null;
  peers: { links: { name: string; state: string; pathMtu: number | null }[] }[];
}

function report(line: string): void {
  console.log(`bonding e2e: ${line}`);
}

const isLinkUp = (link: string) => (e: PeerEvent) => e.msg === 'link state' && e.link === link && e.to === 'up';

describe.runIf(root.ok)('bonding path MTU', () => {
  let bond: BondLab | undefined;
  let server: BondProcess | undefined;
  let client: BondProcess | undefined;
  const b = (): BondLab => bond!;

  const status = async (): Promise<MtuStatus> => {
    const res = await b().lab.exec('client', process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', BOND_MAIN, 'status', '--json', '--url', 'http://127.0.0.1:9470'], { timeoutMs: BOND_START_MS });
    return JSON.parse(res.stdout) as MtuStatus;
  };
  const iperfBothWays = async (): Promise<[number, number]> => {
    const up = await runIperf(b().lab, { client: 'client', server: 'server', address: BOND_SERVER_TUN, seconds: 3 });
    const down = await runIperf(b().lab, { client: 'client', server: 'server', address: BOND_SERVER_TUN, seconds: 3, reverse: true });
    return [up.receiverMbps, down.receiverMbps];
  };

  beforeAll(async () => {
    bond = await createBondLab({ links: LINKS, rateMbit: 100 });
    // up2's veth MTU lowered on both ends before the client starts
    for (const node of ['client', 'server']) await bond.lab.exec(node, 'ip', ['link', 'set', 'dev', bond.lab.ifname(node, 'up2'), 'mtu', '1400']);
    server = await bond.startServer();
    client = await bond.startClient();
    await bond.waitEstablished(client);
    for (let k = 1; k <= LINKS; k++) await client.log.waitFor(isLinkUp(`up${k}`), 5000, `up${k} up`);
  });
  afterAll(async () => {
    await client?.stop();
    await server?.stop();
    await bond?.destroy();
    await gc({ own: true });
  });

  it('a link with MTU 1400: the TUN MTU is 1400 − 72, DF pings of that size cross, iperf3 TCP runs both ways', async () => {
    const s = await status();
    expect(s.tun?.mtu).toBe(1400 - OVERHEAD_V4);
    const tunMtu = s.tun!.mtu;
    const fits = await b().lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '-M', 'do', '-s', String(tunMtu - 28), BOND_SERVER_TUN], { check: false, timeoutMs: 10_000 });
    const tooBig = await b().lab.exec('client', 'ping', ['-c', '1', '-W', '1', '-M', 'do', '-s', String(tunMtu - 27), BOND_SERVER_TUN], { check: false, timeoutMs: 10_000 });
    expect(fits.stdout).toMatch(/3 packets transmitted, 3 received/);
    expect(tooBig.code).not.toBe(0);
    const [up, down] = await iperfBothWays();
    report(`MTU 1400 on up2: tun mtu ${tunMtu}, path MTUs ${s.peers[0]!.links.map((l) => `${l.name} ${l.pathMtu}`).join(', ')}; DF ping of ${tunMtu} bytes crosses; iperf3 up ${up.toFixed(1)} / down ${down.toFixed(1)} Mbit/s`);
    expect(up).toBeGreaterThan(50);
    expect(down).toBeGreaterThan(50);
  }, 60_000);

  it('a black hole over 1360 bytes on up3: the probes find it, the TUN MTU drops to fit, iperf3 TCP still runs', async () => {
    const nft = (args: string[]) => b().lab.exec('server', 'nft', args);
    await nft(['add', 'table', 'inet', 'edgebox_e2e_mtu']);
    await nft(['add', 'chain', 'inet', 'edgebox_e2e_mtu', 'in', '{ type filter hook input priority 0 ; }']);
    await nft(['add', 'rule', 'inet', 'edgebox_e2e_mtu', 'in', 'iifname', b().lab.ifname('server', 'up3'), 'ip', 'length', '>', '1360', 'udp', 'dport', '51820', 'drop']);
    const started = Date.now();
    let s = await status();
    // a search re-runs every 10 minutes; a restart of the link's search happens when it goes down:
    // cut and restore up3 so the search runs now, through the black hole
    await b().lab.cut('up3');
    await client!.log.waitFor((e) => e.msg === 'link state' && e.link === 'up3' && e.to === 'down', 5000, 'up3 down');
    await b().lab.restore('up3');
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      s = await status();
      const l3 = s.peers[0]!.links.find((l) => l.name === 'up3')!;
      if (l3.state === 'up' && l3.pathMtu !== null && l3.pathMtu <= 1360 && l3.pathMtu > 1360 - 8 && s.tun!.mtu === l3.pathMtu - OVERHEAD_V4) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const l3 = s.peers[0]!.links.find((l) => l.name === 'up3')!;
    const foundS = (Date.now() - started) / 1000;
    const links = s.peers[0]!.links.map((l) => `${l.name} ${l.state} pmtu ${l.pathMtu}`).join(', ');
    expect(l3.pathMtu, `after ${foundS} s: ${links}; tun mtu ${s.tun!.mtu}`).not.toBeNull();
    expect(l3.pathMtu!, `after ${foundS} s: ${links}; tun mtu ${s.tun!.mtu}`).toBeLessThanOrEqual(1360);
    expect(l3.pathMtu!).toBeGreaterThan(1360 - 8);
    expect(s.tun!.mtu).toBe(l3.pathMtu! - OVERHEAD_V4);
    const [up, down] = await iperfBothWays();
    report(`black hole > 1360 on up3: path MTU found ${l3.pathMtu} within ${foundS.toFixed(0)} s, tun mtu ${s.tun!.mtu}; iperf3 up ${up.toFixed(1)} / down ${down.toFixed(1)} Mbit/s`);
    expect(up).toBeGreaterThan(50);
    expect(down).toBeGreaterThan(50);
  }, 90_000);
});

describe.runIf(!root.ok)('bonding path MTU (needs root)', reportNotRoot);
