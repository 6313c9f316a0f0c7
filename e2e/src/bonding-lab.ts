/**
 * The bonding lab: a client namespace with N veth uplinks to a server namespace, and the
 * edgebox-bond CLI (from source) running as client and server in them.
 *
 *   client ns                                             server ns
 *   ┌──────────────────────┐  up1 10.71.1.1 ─ 10.71.1.2  ┌──────────────────────────┐
 *   │ bond0 10.99.0.2/24   │  up2 10.71.2.1 ─ 10.71.2.2  │ lo    10.71.0.1 (listen) │
 *   │ link k: source       │  up3 10.71.3.1 ─ 10.71.3.2  │ bond0 10.99.0.1/24       │
 *   │ 10.71.k.1, table 100+k│                             └──────────────────────────┘
 *   └──────────────────────┘
 *
 * The server listens on an address of its own (on lo) so that no single uplink carries it:
 * cutting up1 leaves the server reachable over up2 and up3 through the client's source routes
 * (table 100+k: default via 10.71.k.2 dev upk). Processes print pino JSON lines; the lab waits
 * for the `session` line with event `established`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab } from '@edgebox/netlab';
import type { Lab, LabSpec } from '@edgebox/netlab';
import { collectEvents } from './json-lines.js';
import type { EventLog, PeerEvent } from './json-lines.js';

/** Where the CLI's entry lives and where it runs from. */
export const BOND_MAIN = fileURLToPath(new URL('../../apps/bonding/src/main.ts', import.meta.url));
/** The built CLI (`nx run bonding:build`): what `createBondLab({ built: true })` runs. */
export const BOND_MAIN_BUILT = fileURLToPath(new URL('../../apps/bonding/dist/main.js', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Tunnel addresses. */
export const BOND_SERVER_TUN = '10.99.0.1';
export const BOND_CLIENT_TUN = '10.99.0.2';
/** Tunnel address of the server's `site-r` client (redundant downstream). */
export const BOND_REDUNDANT_TUN = '10.99.0.3';
/** IPv6 inside the bond (tun.address6 / tunAddress6). */
export const BOND_SERVER_TUN6 = 'fd00:99::1';
export const BOND_CLIENT_TUN6 = 'fd00:99::2';
export const BOND_REDUNDANT_TUN6 = 'fd00:99::3';
export const BOND_LISTEN = '10.71.0.1';
export const BOND_PORT = 51820;
/** A cold tsx start on a loaded 2-core box. */
export const BOND_START_MS = 30_000;

/** Options of createBondLab(). */
export interface BondLabOptions {
  /** Uplinks (1..3, default 3). */
  links?: number;
  /** tbf rate of every uplink, both directions (default: unshaped). */
  rateMbit?: number;
  /** Run the built CLI (apps/bonding/dist) instead of the sources through tsx: production memory and start-up. */
  built?: boolean;
  /** Extra node flags for both processes (e.g. `--max-semi-space-size=4`). */
  nodeFlags?: readonly string[];
}

/** Overrides of the client's config section. */
export interface BondClientOptions {
  scheduler?: 'aggregate' | 'lowest-latency' | 'redundant';
  /** Base64 PSK the client uses (default: the one the server knows). */
  psk?: string;
  /** Client name (site-a, default; site-r has a redundant downstream) and its tunnel address. */
  name?: 'site-a' | 'site-r';
}

/** A running bonding lab. */
export interface BondLab {
  readonly lab: Lab;
  readonly links: number;
  readonly psk: string;
  /** Start the server; resolves once it logs that it runs. */
  startServer(): Promise<BondProcess>;
  /** Start a client (wait for the session with waitEstablished). */
  startClient(options?: BondClientOptions): Promise<BondProcess>;
  /** The config startClient runs (for a host that runs the bonding Service itself: the supervisor). */
  clientConfig(options?: BondClientOptions): Record<string, unknown>;
  /** Resolves with the `session established` line of `proc`. */
  waitEstablished(proc: BondProcess, timeoutMs?: number): Promise<PeerEvent>;
  /** `edgebox-bond status --json` inside `node`, parsed. */
  status(node: 'client' | 'server'): Promise<BondStatusJson>;
  destroy(): Promise<void>;
}

/** An edgebox-bond process in the lab. */
export interface BondProcess {
  readonly log: EventLog;
  /** SIGTERM, then wait for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** The parts of the status JSON the tests read. */
export interface BondStatusJson {
  mode: string;
  handshake: { state: string; lastError: string | null } | null;
  counters: { badAuth: number; replayed: number; handshakesRefused: number; sessions: number };
  peers: {
    name: string;
    connected: boolean;
    txPackets: number;
    rxPackets: number;
    reorder: { lossSkips: number; timeouts: number; late: number };
    retransmit: { nacksSent: number; nackedSeqs: number; retransmitted: number; missed: number };
    links: { name: string; state: string; rttMs: number | null; txBytes: number; rxBytes: number }[] }[];
}

const uplink = (k: number): string => `up${k}`;

/**
 * Build the lab (namespaces, veths, the server's listen address, config files).
 *
 * @example
 * const bond = await createBondLab({ links: 3, rateMbit: 100 });
 * const server = await bond.startServer();
 * const client = await bond.startClient();
 * await bond.waitEstablished(client);
 */
export async function createBondLab(options: BondLabOptions = {}): Promise<BondLab> {
  const links = options.links ?? 3;
  const spec: LabSpec = {
    routes: [],
    nodes: { client: { sysctls: { 'net.ipv4.conf.all.rp_filter': 0 } }, server: { sysctls: { 'net.ipv4.conf.all.rp_filter': 0 } } },
    links: Array.from({ length: links }, (_, i) => ({
      name: uplink(i + 1),
      a: { node: 'client', ipv4: `10.71.${i + 1}.1/24` },
      b: { node: 'server', ipv4: `10.71.${i + 1}.2/24` },
      ...(options.rateMbit === undefined ? {} : { rateMbit: options.rateMbit }),
    })),
  };
  const dir = await mkdtemp(join(tmpdir(), 'edgebox-bond-e2e-'));
  const lab = await createLab(spec);
  await lab.exec('server', 'ip', ['addr', 'add', `${BOND_LISTEN}/32`, 'dev', 'lo']);
  const psk = randomBytes(32).toString('base64');

  const serverConfig = {
    mode: 'server',
    tun: { name: 'bond0', address: `${BOND_SERVER_TUN}/24`, address6: `${BOND_SERVER_TUN6}/64` },
    server: {
      listen: `${BOND_LISTEN}:${BOND_PORT}`,
      clients: [
        { name: 'site-a', psk, tunAddress: BOND_CLIENT_TUN, tunAddress6: BOND_CLIENT_TUN6 },
        // the same PSK under another name: a client whose downstream is redundant too
        { name: 'site-r', psk, tunAddress: BOND_REDUNDANT_TUN, tunAddress6: BOND_REDUNDANT_TUN6, scheduler: 'redundant' },
      ],
    },
    ops: { port: 9470 },
  };
  const serverFile = join(dir, 'server.json');
  await writeFile(serverFile, JSON.stringify(serverConfig, null, 2), { mode: 0o600 });

  const spawn = (node: string, args: string[]): BondProcess => {
    const flags = options.nodeFlags ?? [];
    const argv = options.built === true ? [...flags, BOND_MAIN_BUILT, ...args] : [...flags, '--conditions=@edgebox/source', '--import', 'tsx', BOND_MAIN, ...args];
    const child = lab.spawn(node, process.execPath, argv, { cwd: REPO_ROOT });
    const log = collectEvents(child);
    return {
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

  let clients = 0;
  const bondLab: BondLab = {
    lab,
    links,
    psk,
    async startServer() {
      const proc = spawn('server', ['server', '--config', serverFile]);
      await proc.log.waitFor((e) => typeof e.msg === 'string' && e.msg.startsWith('edgebox-bond server running'), BOND_START_MS, 'server running');
      return proc;
    },
    clientConfig(o = {}) {
      return {
        mode: 'client',
        identity: { psk: o.psk ?? psk },
        tun: {
          name: 'bond0',
          address: `${o.name === 'site-r' ? BOND_REDUNDANT_TUN : BOND_CLIENT_TUN}/24`,
          address6: `${o.name === 'site-r' ? BOND_REDUNDANT_TUN6 : BOND_CLIENT_TUN6}/64`,
        },
        client: {
          name: o.name ?? 'site-a',
          server: `${BOND_LISTEN}:${BOND_PORT}`,
          scheduler: o.scheduler ?? 'aggregate',
          links: Array.from({ length: links }, (_, i) => ({ name: uplink(i + 1), interface: uplink(i + 1), source: `10.71.${i + 1}.1`, gateway: `10.71.${i + 1}.2` })),
        },
        ops: { port: 9470 },
      };
    },
    async startClient(o = {}) {
      const file = join(dir, `client-${clients++}.json`);
      await writeFile(file, JSON.stringify(bondLab.clientConfig(o), null, 2), { mode: 0o600 });
      return spawn('client', ['client', '--config', file]);
    },
    waitEstablished(proc, timeoutMs = BOND_START_MS) {
      return proc.log.waitFor((e) => e.msg === 'session' && e.event === 'established', timeoutMs, 'session established');
    },
    async status(node) {
      const res = await lab.exec(node, process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', BOND_MAIN, 'status', '--json', '--url', 'http://127.0.0.1:9470'], { timeoutMs: BOND_START_MS });
      return JSON.parse(res.stdout) as BondStatusJson;
    },
    async destroy() {
      await lab.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return bondLab;
}
