// The appliance (issue 7): the built `edgebox start` in the client namespace of a bonding lab
// runs all four apps from one config file, each in its own child process:
//   bonding   a client bonded over two uplinks to an edgebox-bond server in the server namespace
//   tunnel    a source whose dest (edgebox-tunnel, server namespace) listens on the far end of
//             the bond: the tunnel session crosses the bond
//   netevd    the netlink source watching the client namespace's interfaces
//   p2p       a node with one address-book peer (edgebox-p2p run beside it)
// Through the admin API (from inside the namespace: it binds loopback): every app's status, the
// bonding link table, a tunnel session, netevd's interfaces, an SSE event from each app; a killed
// app process is restarted and the restart reported; an invalid config apply is refused with
// nothing changed.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { exportIdentityPem, generateIdentity } from '@edgebox/crypto';
import { gc } from '@edgebox/netlab';
import { BOND_SERVER_TUN, REPO_ROOT, createBondLab } from '../src/bonding-lab.js';
import type { BondLab, BondProcess } from '../src/bonding-lab.js';
import { collectEvents } from '../src/json-lines.js';
import type { EventLog } from '../src/json-lines.js';
import { certs, TUNNEL_MAIN } from '../src/tunnel-lab.js';
import { reportNotRoot, root } from './root-gate.js';

const SUPERVISOR_MAIN = fileURLToPath(new URL('../../apps/supervisor/dist/main.js', import.meta.url));
const P2P_MAIN = fileURLToPath(new URL('../../apps/p2p/src/main.ts', import.meta.url));
const API_PORT = 9400;
const ECHO_PORT = 7000;
const TUNNEL_PORT = 7443;
const START_MS = 60_000;
const TSX = ['--conditions=@edgebox/source', '--import', 'tsx'];

function report(line: string): void {
  console.log(`supervisor e2e: ${line}`);
}

interface ApiReply {
  status: number;
  body: unknown;
}

describe.runIf(root.ok)('the appliance runs every app from one config', () => {
  let bond: BondLab | undefined;
  let bondServer: BondProcess | undefined;
  const children: ChildProcess[] = [];
  let appliance: { child: ChildProcess; log: EventLog } | undefined;
  let dir = '';

  /** A request to the admin API from inside the client namespace. */
  async function api(method: string, path: string, body?: unknown): Promise<ApiReply> {
    const script = `fetch(${JSON.stringify(`http://127.0.0.1:${API_PORT}${path}`)}, { method: ${JSON.stringify(method)}, headers: { 'content-type': 'application/json' }, body: ${body === undefined ? 'undefined' : JSON.stringify(JSON.stringify(body))} })
      .then(async (r) => { const t = await r.text(); let b; try { b = JSON.parse(t); } catch { b = t; } process.stdout.write(JSON.stringify({ status: r.status, body: b })); })
      .catch((e) => { process.stdout.write(JSON.stringify({ status: 0, body: String(e) })); });`;
    const res = await bond!.lab.exec('client', process.execPath, ['-e', script], { timeoutMs: 30_000 });
    return JSON.parse(res.stdout) as ApiReply;
  }

  async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 45_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T = await read();
    while (!ok(last)) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last: ${JSON.stringify(last).slice(0, 2000)}`);
      await new Promise((r) => setTimeout(r, 500));
      last = await read();
    }
    return last;
  }

  const spawnIn = (node: 'client' | 'server', args: string[]): ChildProcess => {
    const child = bond!.lab.spawn(node, process.execPath, args, { cwd: REPO_ROOT });
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgebox-supervisor-e2e-'));
    bond = await createBondLab({ links: 2 });
    bondServer = await bond.startServer();

    // the tunnel's dest beyond the bond, with an echo service behind it
    await certs(['ca', '--out', join(dir, 'ca'), '--name', 'appliance e2e CA']);
    await certs(['issue', '--ca', join(dir, 'ca'), '--name', 'dest', '--role', 'dest', '--out', join(dir, 'dest')]);
    await certs(['issue', '--ca', join(dir, 'ca'), '--name', 'source', '--role', 'source', '--out', join(dir, 'source')]);
    const pki = (side: string) => ({ ca: join(dir, side, 'ca.pem'), cert: join(dir, side, 'cert.pem'), key: join(dir, side, 'key.pem') });
    spawnIn('server', ['-e', `require('node:net').createServer((s) => { s.on('error', () => {}); s.pipe(s); }).listen(${ECHO_PORT}, '127.0.0.1')`]);
    const destFile = join(dir, 'dest.json');
    await writeFile(destFile, JSON.stringify({ role: 'dest', mode: 'hybrid', pki: pki('dest'), dest: { listen: { host: BOND_SERVER_TUN, port: TUNNEL_PORT }, services: [{ name: 'echo', port: ECHO_PORT }] }, ops: { port: 9481 } }));
    const dest = collectEvents(spawnIn('server', [...TSX, TUNNEL_MAIN, 'dest', '--config', destFile]));
    // the dest binds the bond's address: it exists once the server runs (its TUN is up)
    await dest.waitFor((e) => typeof e.msg === 'string' && e.msg.startsWith('edgebox-tunnel dest running'), START_MS, 'tunnel dest running');

    // a p2p peer beside the appliance
    const peerFile = join(dir, 'p2p-peer.yaml');
    await mkdir(join(dir, 'p2p-peer'), { recursive: true });
    await writeFile(join(dir, 'p2p-peer', 'key.pem'), exportIdentityPem(generateIdentity()).privateKeyPem, { mode: 0o600 });
    await writeFile(peerFile, stringify({ identity: { keyFile: join(dir, 'p2p-peer', 'key.pem'), create: true }, listen: ['/ip4/127.0.0.1/tcp/4102'], ops: { port: 9482 } }));
    const peerId = (await bond.lab.exec('client', process.execPath, [...TSX, P2P_MAIN, 'id', '--config', peerFile], { timeoutMs: START_MS })).stdout.trim().split(/\s+/)[0]!;
    spawnIn('client', [...TSX, P2P_MAIN, 'run', '--config', peerFile]);

    const config = {
      supervisor: { api: { host: '127.0.0.1', port: API_PORT }, auth: { requireKeys: false }, dataDir: join(dir, 'data'), restart: { minMs: 200, maxMs: 2000 } },
      bonding: bond.clientConfig(),
      tunnel: { role: 'source', mode: 'hybrid', pki: pki('source'), source: { dest: `${BOND_SERVER_TUN}:${TUNNEL_PORT}`, forwards: [{ port: ECHO_PORT }] }, reconnect: { minMs: 100, maxMs: 2000 } },
      netevd: { backends: ['netlink'], api: { enabled: false }, dataDir: join(dir, 'data', 'netevd'), scripts: { dir: join(dir, 'scripts'), ownerUid: 0 } },
      p2p: {
        identity: { keyFile: join(dir, 'data', 'p2p', 'key.pem'), create: true },
        listen: ['/ip4/127.0.0.1/tcp/4101'],
        peers: [{ id: peerId, addresses: ['/ip4/127.0.0.1/tcp/4102'], autoConnect: true }],
      },
    };
    const configFile = join(dir, 'edgebox.yaml');
    await writeFile(configFile, stringify(config), { mode: 0o600 });
    const child = spawnIn('client', [SUPERVISOR_MAIN, 'start', '--config', configFile]);
    const log = collectEvents(child);
    appliance = { child, log };
    await log.waitFor((e) => e.event === 'text' && typeof e.text === 'string' && e.text.startsWith('edgebox admin API'), START_MS, 'the admin API line');
  }, 180_000);

  afterAll(async () => {
    if (appliance !== undefined && appliance.child.exitCode === null) {
      appliance.child.kill('SIGTERM');
      await appliance.log.exited(20_000).catch(() => appliance!.child.kill('SIGKILL'));
    }
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await bondServer?.stop();
    await bond?.destroy();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
    await gc({ own: true });
  }, 60_000);

  it('runs all four apps; the API shows the bonding links, a tunnel session across the bond and netevd interfaces', async () => {
    const apps = await until(
      'every app running',
      () => api('GET', '/api/v1/apps'),
      (r) => r.status === 200 && Array.isArray(r.body) && (r.body as { name: string; state: string }[]).filter((a) => a.state === 'running').length === 4,
    );
    report(`apps: ${(apps.body as { name: string; state: string; pid: number }[]).map((a) => `${a.name} ${a.state} pid ${a.pid}`).join(', ')}`);
    const links = await until(
      'bonding links up',
      () => api('GET', '/api/v1/bonding/links'),
      (r) => r.status === 200 && Array.isArray(r.body) && (r.body as { state: string }[]).filter((l) => l.state === 'up').length === 2,
    );
    expect((links.body as { name: string }[]).map((l) => l.name).sort()).toEqual(['up1', 'up2']);
    const sessions = await until(
      'a tunnel session',
      () => api('GET', '/api/v1/tunnel/sessions'),
      (r) => r.status === 200 && Array.isArray(r.body) && r.body.length > 0,
    );
    report(`tunnel sessions: ${JSON.stringify(sessions.body).slice(0, 300)}`);
    const interfaces = await api('GET', '/api/v1/netevd/interfaces');
    expect(interfaces.status).toBe(200);
    const names = (interfaces.body as { name: string }[]).map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['up1', 'up2', 'bond0']));
    const status = await api('GET', '/api/v1/status');
    expect(status.status).toBe(200);
  }, 120_000);

  it('streams an event from each app over SSE', async () => {
    // from the start of the history: each app has published (link states, session, interfaces, peer states)
    const script = `const seen = new Set(); const ac = new AbortController(); setTimeout(() => ac.abort(), 20000);
      fetch('http://127.0.0.1:${API_PORT}/api/v1/events?lastEventId=0', { signal: ac.signal }).then(async (r) => {
        let buf = '';
        for await (const chunk of r.body) {
          buf += Buffer.from(chunk).toString();
          let i;
          while ((i = buf.indexOf('\\n\\n')) >= 0) {
            const block = buf.slice(0, i); buf = buf.slice(i + 2);
            const data = block.split('\\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('');
            if (data) { try { const e = JSON.parse(data); seen.add(e.source + ' ' + e.kind); } catch {} }
            const apps = new Set([...seen].map((s) => s.split(' ')[0]));
            if (['bonding', 'tunnel', 'netevd', 'p2p'].every((a) => apps.has(a))) { console.log(JSON.stringify([...seen])); ac.abort(); return; }
          }
        }
      }).catch(() => console.log(JSON.stringify([...seen])));`;
    const res = await bond!.lab.exec('client', process.execPath, ['-e', script], { timeoutMs: 40_000 });
    const seen = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as string[];
    report(`SSE kinds seen: ${seen.join(', ')}`);
    const sources = new Set(seen.map((s) => s.split(' ')[0]));
    for (const app of ['bonding', 'tunnel', 'netevd', 'p2p']) expect(sources.has(app), `an event from ${app}`).toBe(true);
  }, 60_000);

  it('restarts a killed app and reports the restart', async () => {
    const before = (await api('GET', '/api/v1/apps/p2p')).body as { pid: number; restarts: number };
    expect(before.pid).toBeGreaterThan(0);
    process.kill(before.pid, 'SIGKILL');
    const after = await until(
      'p2p restarted',
      () => api('GET', '/api/v1/apps/p2p'),
      (r) => {
        const a = r.body as { state: string; pid: number; restarts: number };
        return a.state === 'running' && a.pid !== before.pid && a.restarts === before.restarts + 1;
      },
    );
    const a = after.body as { pid: number; restarts: number; lastError: { code: string; message: string } | null };
    // The restart is reported with why the process went away, not just a bumped counter.
    expect(a.lastError).not.toBeNull();
    report(`p2p killed (pid ${before.pid}): running again as pid ${a.pid}, restarts ${a.restarts}, last error ${a.lastError?.code}: ${a.lastError?.message}`);
  }, 90_000);

  it('refuses an invalid config apply and changes nothing', async () => {
    const running = await api('GET', '/api/v1/config');
    expect(running.status).toBe(200);
    const bad = JSON.parse(JSON.stringify(running.body)) as Record<string, Record<string, unknown>>;
    bad['tunnel']!['role'] = 'sideways';
    const refused = await api('PUT', '/api/v1/config', bad);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('tunnel.role');
    expect((await api('GET', '/api/v1/config')).body).toEqual(running.body);
    const apps = (await api('GET', '/api/v1/apps')).body as { state: string }[];
    expect(apps.filter((x) => x.state === 'running')).toHaveLength(4);
  }, 60_000);
});

reportNotRoot();
