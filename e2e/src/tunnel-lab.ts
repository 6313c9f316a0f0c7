/**
 * The tunnel lab: a source namespace and a dest namespace joined by one veth link, a CA with
 * a certificate for each side (the tunnel's own `certs` CLI), the services behind the dest,
 * and the edgebox-tunnel CLI (from source) running as source and dest.
 *
 *   source ns                                    dest ns
 *   ┌──────────────────────────────┐ wan        ┌─────────────────────────────────────┐
 *   │ edgebox-tunnel source        │ 10.75.1.1  │ edgebox-tunnel dest  10.75.1.2:7443 │
 *   │  127.0.0.1:5201 iperf3  ─────┼────────────┼─▶ 127.0.0.1:5201 (iperf3 -s)       │
 *   │  127.0.0.1:8080 http    ─────┼────────────┼─▶ 127.0.0.1:8080 (http, sha256 sink)│
 *   │  127.0.0.1:7000 echo    ─────┼────────────┼─▶ 127.0.0.1:7000 (tcp echo)         │
 *   │  127.0.0.1:7001 firehose─────┼────────────┼─▶ 127.0.0.1:7001 (endless bytes)    │
 *   │  127.0.0.1:5353/udp echo ────┼────────────┼─▶ 127.0.0.1:5353 (udp echo)         │
 *   │  127.0.0.1:9000 entry (protocol mode: first line names the service)             │
 *   └──────────────────────────────┘            └─────────────────────────────────────┘
 *
 * Processes print pino JSON lines. Status comes from each side's ops server through the CLI
 * (`edgebox-tunnel status --json`) run inside its namespace.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createLab } from '@edgebox/netlab';
import type { Lab } from '@edgebox/netlab';
import { collectEvents } from './json-lines.js';
import type { EventLog } from './json-lines.js';

export const TUNNEL_MAIN = fileURLToPath(new URL('../../apps/tunnel/src/main.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TUNNEL_SOURCE_IP = '10.75.1.1';
export const TUNNEL_DEST_IP = '10.75.1.2';
export const TUNNEL_DEST_PORT = 7443;
export const PORTS = { iperf: 5201, http: 8080, echo: 7000, firehose: 7001, udpEcho: 5353, entry: 9000 } as const;
/** A cold tsx start on a loaded 2-core box. */
export const TUNNEL_START_MS = 30_000;

/**
 * The dest side's services in one process: an HTTP server (GET /blob?bytes=N streams N
 * deterministic bytes; POST /sha256 answers the sha256 of the body), a TCP echo, a firehose
 * that writes until the client goes away, and a UDP echo.
 */
const SERVICES = `
const net = require('node:net'), http = require('node:http'), dgram = require('node:dgram'), crypto = require('node:crypto');
const block = Buffer.alloc(65536); for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 255;
http.createServer((req, res) => {
  if (req.method === 'POST') { const h = crypto.createHash('sha256'); let n = 0; req.on('data', (c) => { h.update(c); n += c.length; }); req.on('end', () => res.end(JSON.stringify({ bytes: n, sha256: h.digest('hex') }))); return; }
  let left = Number(new URL(req.url, 'http://x').searchParams.get('bytes') ?? 0);
  res.writeHead(200, { 'content-length': String(left) });
  const more = () => { while (left > 0) { const n = Math.min(left, block.length); left -= n; if (!res.write(n === block.length ? block : block.subarray(0, n))) return res.once('drain', more); } res.end(); };
  more();
}).listen(${PORTS.http}, '127.0.0.1');
net.createServer((s) => { s.on('error', () => {}); s.pipe(s); }).listen(${PORTS.echo}, '127.0.0.1');
net.createServer((s) => { s.on('error', () => {}); const go = () => { while (s.writable && s.write(block)); if (s.writable) s.once('drain', go); }; go(); }).listen(${PORTS.firehose}, '127.0.0.1');
const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send(m, r.port, r.address)); u.bind(${PORTS.udpEcho}, '127.0.0.1');`;

/** What `edgebox-tunnel status --json` prints (the parts the tests read). */
export interface TunnelStatusJson {
  role: string;
  running: boolean;
  openStreams: number;
  counters: { handshakesOk: number; handshakesFailed: number; reconnects: number; refreshes: number; rekeys: number; streamsOpened: number; clientsRefused: number };
  [key: string]: unknown;
}

/** A running edgebox-tunnel process. */
export interface TunnelProcess {
  readonly log: EventLog;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL at once (a crash). */
  kill(): Promise<void>;
}

export interface TunnelLab {
  readonly lab: Lab;
  readonly dir: string;
  /** The PKI files of a side: the CA's, its certificate, its key. */
  pki(side: 'source' | 'dest' | string): { ca: string; cert: string; key: string };
  /** Issues another certificate from the lab's CA (or a second CA with `ca: 'other'`). */
  issue(name: string, role: 'source' | 'dest', options?: { ca?: 'main' | 'other'; days?: number }): Promise<void>;
  /** Revokes an issued certificate and returns the CRL file. */
  revoke(name: string): Promise<string>;
  startDest(overrides?: Record<string, unknown>): Promise<TunnelProcess>;
  startSource(overrides?: Record<string, unknown>, name?: string): Promise<TunnelProcess>;
  status(node: 'source' | 'dest'): Promise<TunnelStatusJson>;
  /** RSS of a process in MB (from /proc). */
  rssMB(proc: TunnelProcess): Promise<number>;
  destroy(): Promise<void>;
}

/** The tunnel's own certificate CLI (`edgebox-tunnel certs ...`), as an operator runs it. */
export async function certs(args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', TUNNEL_MAIN, 'certs', ...args], { cwd: REPO_ROOT, timeout: TUNNEL_START_MS });
    return stdout;
  } catch (error) {
    throw new Error(`certs ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`, { cause: error });
  }
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && b !== null && typeof b === 'object' && !Array.isArray(b) ? merge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  // null removes a key of the base config
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== null));
}

/**
 * @example
 * const t = await createTunnelLab();
 * const dest = await t.startDest();
 * const source = await t.startSource();
 */
export async function createTunnelLab(): Promise<TunnelLab> {
  const lab = await createLab({
    nodes: { source: {}, dest: {} },
    links: [{ name: 'wan', a: { node: 'source', ipv4: `${TUNNEL_SOURCE_IP}/24` }, b: { node: 'dest', ipv4: `${TUNNEL_DEST_IP}/24` } }],
    routes: [],
  });
  const dir = await mkdtemp(join(tmpdir(), 'edgebox-tunnel-e2e-'));
  try {
    await certs(['ca', '--out', join(dir, 'ca'), '--name', 'e2e CA']);
    await certs(['ca', '--out', join(dir, 'other-ca'), '--name', 'another CA']);
    await certs(['issue', '--ca', join(dir, 'ca'), '--name', 'dest', '--role', 'dest', '--out', join(dir, 'dest')]);
    await certs(['issue', '--ca', join(dir, 'ca'), '--name', 'source', '--role', 'source', '--out', join(dir, 'source')]);
    lab.spawn('dest', process.execPath, ['-e', SERVICES]);
    const deadline = Date.now() + 10_000;
    while (!(await lab.exec('dest', 'ss', ['-Huln', `sport = :${PORTS.udpEcho}`])).stdout.includes(`:${PORTS.udpEcho}`)) {
      if (Date.now() > deadline) throw new Error('the dest services did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (error) {
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let files = 0;
  const spawn = async (node: 'source' | 'dest', config: Record<string, unknown>): Promise<TunnelProcess> => {
    const file = join(dir, `${node}-${files++}.json`);
    await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 });
    const child = lab.spawn(node, process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', TUNNEL_MAIN, node, '--config', file], { cwd: REPO_ROOT });
    const log = collectEvents(child);
    const proc: TunnelProcess = {
      log,
      pid: child.pid!,
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
      async kill() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGKILL');
        await log.exited(5000);
      },
    };
    await log.waitFor((e) => typeof e.msg === 'string' && e.msg.startsWith(`edgebox-tunnel ${node} running`), TUNNEL_START_MS, `${node} running`);
    return proc;
  };
  const pki = (side: string): { ca: string; cert: string; key: string } => ({ ca: join(dir, side, 'ca.pem'), cert: join(dir, side, 'cert.pem'), key: join(dir, side, 'key.pem') });

  return {
    lab,
    dir,
    pki,
    async issue(name, role, options = {}) {
      const args = ['issue', '--ca', join(dir, options.ca === 'other' ? 'other-ca' : 'ca'), '--name', name, '--role', role, '--out', join(dir, name)];
      if (options.days !== undefined) args.push('--days', String(options.days));
      await certs(args);
    },
    async revoke(name) {
      await certs(['revoke', '--ca', join(dir, 'ca'), join(dir, name, 'cert.pem')]);
      return join(dir, 'ca', 'crl.pem');
    },
    startDest(overrides = {}) {
      const base = {
        role: 'dest',
        mode: 'hybrid',
        pki: pki('dest'),
        dest: {
          listen: { host: TUNNEL_DEST_IP, port: TUNNEL_DEST_PORT },
          services: [
            { name: 'iperf', port: PORTS.iperf },
            { name: 'http', port: PORTS.http },
            { name: 'echo', port: PORTS.echo },
            { name: 'firehose', port: PORTS.firehose },
            { name: 'udp-echo', port: PORTS.udpEcho, protocol: 'udp' },
          ],
        },
      };
      return spawn('dest', merge(base, overrides));
    },
    startSource(overrides = {}, name = 'source') {
      const base = {
        role: 'source',
        mode: 'hybrid',
        pki: pki(name),
        source: {
          dest: `${TUNNEL_DEST_IP}:${TUNNEL_DEST_PORT}`,
          forwards: [{ port: PORTS.iperf }, { port: PORTS.http }, { port: PORTS.echo }, { port: PORTS.firehose }, { port: PORTS.udpEcho, protocol: 'udp' }],
          entry: { port: PORTS.entry },
        },
        reconnect: { minMs: 100, maxMs: 2000 },
      };
      return spawn('source', merge(base, overrides));
    },
    async status(node) {
      const res = await lab.exec(node, process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', TUNNEL_MAIN, 'status', '--json', '--url', 'http://127.0.0.1:9471'], { timeoutMs: TUNNEL_START_MS });
      return JSON.parse(res.stdout) as TunnelStatusJson;
    },
    async rssMB(proc) {
      const status = await readFile(`/proc/${proc.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
    },
    async destroy() {
      await lab.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
