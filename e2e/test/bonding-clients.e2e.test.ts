// The bonding server under load from several clients (issue 3: "Server RSS < 100 MB under load
// with 3 clients"): three client namespaces, each bonded over two 100 Mbit/s uplinks to one
// server, all three running iperf3 TCP through the tunnel at once (two uploads, one download);
// the server's VmRSS is sampled from /proc every 100 ms and its maximum must stay under 100 MB,
// and every client's transfer must deliver. Processes are the built CLI (dist/main.js run as
// the bin, with its shebang's node flags), which is what production runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gc } from '@edgebox/netlab';
import { runIperf } from '@edgebox/vpn-peers';
import { BOND_SERVER_TUN } from '../src/bonding-lab.js';
import { createBondClientsLab, rssKb } from '../src/bonding-clients-lab.js';
import type { BondClientsLab, BondPidProcess } from '../src/bonding-clients-lab.js';
import { reportNotRoot, root } from './root-gate.js';

const CLIENTS = 3;
const SECONDS = 8;
const RSS_LIMIT_KB = 100 * 1024;

function report(line: string): void {
  console.log(`bonding e2e: ${line}`);
}

describe.runIf(root.ok)('bonding server with three clients under load', () => {
  let bond: BondClientsLab | undefined;
  let server: BondPidProcess | undefined;
  const clients: BondPidProcess[] = [];

  beforeAll(async () => {
    bond = await createBondClientsLab({ clients: CLIENTS, linksPerClient: 2, rateMbit: 100 });
    server = await bond.startServer();
    for (let k = 1; k <= CLIENTS; k++) clients.push(await bond.startClient(k));
  });
  afterAll(async () => {
    for (const c of clients) await c.stop();
    await server?.stop();
    await bond?.destroy();
    await gc({ own: true });
  });

  it('keeps the server under 100 MB RSS while all three clients transfer at once, and delivers every transfer', async () => {
    const b = bond!;
    const srv = server!;
    const idleKb = (await rssKb(srv.pid)) ?? 0;
    let maxKb = idleKb;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const kb = await rssKb(srv.pid);
        if (kb !== null && kb > maxKb) maxKb = kb;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    let results;
    try {
      results = await Promise.all(
        Array.from({ length: CLIENTS }, (_, i) =>
          runIperf(b.lab, { client: b.clientNode(i + 1), server: 'server', address: BOND_SERVER_TUN, port: 5201 + i, seconds: SECONDS, reverse: i === 1 }),
        ),
      );
    } finally {
      sampling = false;
      await sampler;
    }
    const clientKb = await Promise.all(clients.map((c) => rssKb(c.pid)));
    const mbps = results.map((r) => r.receiverMbps);
    report(
      `3 clients x 2 uplinks (100 Mbit/s each), iperf3 at once for ${SECONDS} s: ${mbps.map((m, i) => `site-${i + 1} ${i === 1 ? 'down' : 'up'} ${m.toFixed(1)}`).join(', ')} Mbit/s (sum ${mbps.reduce((s, m) => s + m, 0).toFixed(0)}); ` +
        `server RSS idle ${(idleKb / 1024).toFixed(1)} MB, max under load ${(maxKb / 1024).toFixed(1)} MB; client RSS ${clientKb.map((kb) => `${((kb ?? 0) / 1024).toFixed(1)}`).join(' / ')} MB`,
    );
    expect(maxKb).toBeGreaterThan(0);
    expect(maxKb).toBeLessThan(RSS_LIMIT_KB);
    // every client's traffic crossed the bond (a starved client would show near zero)
    for (const r of results) expect(r.receiverMbps).toBeGreaterThan(10);
  }, 60_000);
});

describe.runIf(!root.ok)('bonding server with three clients (needs root)', reportNotRoot);
