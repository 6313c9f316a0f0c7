/**
 * The many-clients bonding lab: one server namespace and N client namespaces, each client with
 * its own veth uplinks to the server, every process the built edgebox-bond CLI as production
 * runs it (apps/bonding/dist/main.js executed directly, so its shebang's node flags apply).
 *
 *   client k ns (k = 1..N)                                   server ns
 *   ┌───────────────────────┐  ckuj 10.8k.j.1 ─ 10.8k.j.2   ┌──────────────────────────┐
 *   │ bond0 10.99.0.(10+k)  │  (j = 1..linksPerClient)      │ lo    10.71.0.1 (listen) │
 *   │ link j: table 100+j   │                               │ bond0 10.99.0.1/24       │
 *   └───────────────────────┘                               └──────────────────────────┘
 *
 * Clients are named `site-k`, each with its own PSK. `rssKb(pid)` reads VmRSS from
 * /proc/<pid>/status (namespaces do not change PIDs).
 */
import { randomBytes } from 'node:crypto';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab } from '@edgebox/netlab';
import type { Lab, LabSpec } from '@edgebox/netlab';
import { BOND_LISTEN, BOND_MAIN_BUILT, BOND_PORT, BOND_SERVER_TUN, BOND_START_MS, REPO_ROOT } from './bonding-lab.js';
import { collectEvents } from './json-lines.js';
import type { EventLog, PeerEvent } from './json-lines.js';

/** Options of createBondClientsLab(). */
export interface BondClientsLabOptions {
  /** Client namespaces (1..9, default 3). */
  clients?: number;
  /** Uplinks per client (1..3, default 2). */
  linksPerClient?: number;
  /** tbf rate of every uplink, both directions (default: unshaped). */
  rateMbit?: number;
}

/** An edgebox-bond process of the lab, with its PID for /proc sampling. */
export interface BondPidProcess {
  readonly pid: number;
  readonly log: EventLog;
  /** SIGTERM, then wait for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** A running many-clients lab. */
export interface BondClientsLab {
  readonly lab: Lab;
  readonly clients: number;
  /** Lab node of client k (1-based): `c<k>`. */
  clientNode(k: number): string;
  /** Tunnel address of client k. */
  clientTun(k: number): string;
  startServer(): Promise<BondPidProcess>;
  /** Start client k and wait for its session. */
  startClient(k: number): Promise<BondPidProcess>;
  destroy(): Promise<void>;
}

/**
 * VmRSS of a process in kB, from /proc/<pid>/status; null once it is gone.
 *
 * @example
 * const kb = await rssKb(server.pid);
 */
export async function rssKb(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/**
 * Build the lab (namespaces, veths, the server's listen address, config files).
 *
 * @example
 * const lab = await createBondClientsLab({ clients: 3 });
 * const server = await lab.startServer();
 * for (let k = 1; k <= 3; k++) await lab.startClient(k);
 */
export async function createBondClientsLab(options: BondClientsLabOptions = {}): Promise<BondClientsLab> {
  const clients = options.clients ?? 3;
  const perClient = options.linksPerClient ?? 2;
  const linkName = (k: number, j: number): string => `c${k}u${j}`;
  const clientNode = (k: number): string => `c${k}`;
  const clientTun = (k: number): string => `10.99.0.${10 + k}`;
  const nodes: LabSpec['nodes'] = { server: { sysctls: { 'net.ipv4.conf.all.rp_filter': 0 } } };
  const links: LabSpec['links'] = [];
  for (let k = 1; k <= clients; k++) {
    nodes[clientNode(k)] = { sysctls: { 'net.ipv4.conf.all.rp_filter': 0 } };
    for (let j = 1; j <= perClient; j++) {
      links.push({
        name: linkName(k, j),
        a: { node: clientNode(k), ipv4: `10.${80 + k}.${j}.1/24` },
        b: { node: 'server', ipv4: `10.${80 + k}.${j}.2/24` },
        ...(options.rateMbit === undefined ? {} : { rateMbit: options.rateMbit }),
      });
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'edgebox-bond-clients-e2e-'));
  const lab = await createLab({ routes: [], nodes, links });
  await lab.exec('server', 'ip', ['addr', 'add', `${BOND_LISTEN}/32`, 'dev', 'lo']);
  const psks = Array.from({ length: clients }, () => randomBytes(32).toString('base64'));

  const serverFile = join(dir, 'server.json');
  const serverConfig = {
    mode: 'server',
    tun: { name: 'bond0', address: `${BOND_SERVER_TUN}/24` },
    server: {
      listen: `${BOND_LISTEN}:${BOND_PORT}`,
      clients: psks.map((psk, i) => ({ name: `site-${i + 1}`, psk, tunAddress: clientTun(i + 1) })),
    },
    ops: { port: 9470 },
  };
  await writeFile(serverFile, JSON.stringify(serverConfig, null, 2), { mode: 0o600 });

  const spawn = (node: string, args: string[]): BondPidProcess => {
    // the bin itself: its shebang carries the node flags production runs with
    const child = lab.spawn(node, BOND_MAIN_BUILT, args, { cwd: REPO_ROOT });
    const log = collectEvents(child);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`edgebox-bond in ${node} did not start`);
    return {
      pid,
      log,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        try {
          await log.exited(10_000);
        } catch {
          child.kill('SIGKILL');
          await log.exited(5000);
        }
      },
    };
  };
  const established = (e: PeerEvent): boolean => e.msg === 'session' && e.event === 'established';

  return {
    lab,
    clients,
    clientNode,
    clientTun,
    async startServer() {
      const proc = spawn('server', ['server', '--config', serverFile]);
      await proc.log.waitFor((e) => typeof e.msg === 'string' && e.msg.startsWith('edgebox-bond server running'), BOND_START_MS, 'server running');
      return proc;
    },
    async startClient(k) {
      const file = join(dir, `client-${k}.json`);
      const config = {
        mode: 'client',
        identity: { psk: psks[k - 1] },
        tun: { name: 'bond0', address: `${clientTun(k)}/24` },
        client: {
          name: `site-${k}`,
          server: `${BOND_LISTEN}:${BOND_PORT}`,
          scheduler: 'aggregate',
          links: Array.from({ length: perClient }, (_, i) => ({ name: `u${i + 1}`, interface: linkName(k, i + 1), source: `10.${80 + k}.${i + 1}.1`, gateway: `10.${80 + k}.${i + 1}.2` })),
        },
        ops: { port: 9470 },
      };
      await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 });
      const proc = spawn(clientNode(k), ['client', '--config', file]);
      await proc.log.waitFor(established, BOND_START_MS, `site-${k} session established`);
      return proc;
    },
    async destroy() {
      await lab.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
