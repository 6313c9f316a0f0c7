// The daemon for real, as root, with the netlink source alone: a lab namespace with two veth
// uplinks; netevd runs in-process with every `ip` command in that namespace (config.netns).
// Peer ends go down and up, addresses come and go, and we check that routable.d, degraded.d
// and no-carrier.d scripts ran with the right env, and that the policy rules and tables were
// created and then removed (`ip -j rule`, `ip -j route show table N`). A hostile interface
// name reaches no script; a flap storm runs scripts for the debounced transitions only and
// the final state equals the kernel's.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, gc, type Lab } from '@edgebox/netlab';
import { rootGate } from '@edgebox/netlab/testing';
import { createNetevdService } from '../src/service.js';
import type { NetevdService } from '../src/service.js';
import { recordingScript, silent, tempDir, waitFor, writeScript } from './helpers.js';

const { root, reportNotRoot } = rootGate('netevd');

describe.runIf(!root.ok)('netevd in a lab (needs root)', reportNotRoot);

describe.runIf(root.ok)('netevd with the netlink source in a lab namespace', () => {
  let lab: Lab;
  let ns: string;
  let dir: string;
  let log: string;
  let svc: NetevdService;
  const ip = async (node: string, ...args: string[]): Promise<string> => (await lab.exec(node, 'ip', args)).stdout;
  const rules = async (family: 4 | 6): Promise<{ priority: number; src?: string; dst?: string; table?: string; protocol?: string }[]> => JSON.parse(await ip('d', '-j', `-${family}`, 'rule', 'show'));
  const routesOf = async (family: 4 | 6, table: number): Promise<{ dst: string; dev?: string }[]> => JSON.parse((await ip('d', '-j', `-${family}`, 'route', 'show', 'table', String(table))) || '[]');
  const runs = async (): Promise<string[]> => (existsSync(log) ? (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '') : []);

  beforeAll(async () => {
    await gc({ own: true });
    lab = await createLab({
      nodes: { d: {}, p: {} },
      links: [
        { name: 'up1', a: { node: 'd', ipv4: '10.231.1.2/24', ipv6: 'fd31:1::2/64' }, b: { node: 'p', ipv4: '10.231.1.1/24', ipv6: 'fd31:1::1/64' } },
        { name: 'up2', a: { node: 'd', ipv4: '10.231.2.2/24' }, b: { node: 'p', ipv4: '10.231.2.1/24' } },
      ],
      routes: [{ node: 'd', to: 'default', via: '10.231.1.1' }],
    });
    ns = lab.namespace('d');
    // Somebody else's rule in our priority range, and one of ours that is stale: reconcile at
    // start must remove only the second.
    await ip('d', 'rule', 'add', 'from', '10.99.0.1', 'table', '500', 'priority', '30000');
    await ip('d', 'rule', 'add', 'from', '10.99.0.2', 'table', '1500', 'priority', '30000', 'protocol', '236');
    dir = await tempDir();
    log = join(dir, 'runs.log');
    for (const state of ['routable', 'degraded', 'no-carrier', 'carrier', 'off']) await writeScript(dir, state, '50-record', recordingScript(log, state));
    // A naive script that would evaluate LINK: harmless only because a hostile LINK never arrives.
    await writeScript(dir, 'routable', '60-naive', `#!/bin/sh\neval "echo naive=$LINK" >> '${log}.naive'\n`);
    svc = createNetevdService({ logger: silent });
    await svc.start({
      netns: ns,
      dataDir: join(dir, 'data'),
      scripts: { dir, timeoutMs: 5000 },
      debounce: { waitMs: 100, maxWaitMs: 1000 },
      routing: { interfaces: [{ name: 'up1' }, { name: 'up2', to: false }], ecmp: { interfaces: ['up1', 'up2'], table: 200 } },
      api: { port: 0 },
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await lab?.destroy();
    await gc({ own: true });
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('runs routable.d for every uplink at start, with a validated env', async () => {
    await svc.idle();
    const lines = await waitFor(async () => {
      const l = await runs();
      return l.filter((x) => x.startsWith('routable|')).length >= 2 ? l : undefined;
    }, 'startup routable runs');
    const up1 = lines.find((l) => l.startsWith('routable|routable|up1|'))!;
    expect(up1).toBeDefined();
    const [, , , addresses, backend, ifindex, json] = up1.split('|');
    expect(addresses!.split(' ')).toEqual(expect.arrayContaining(['10.231.1.2/24', 'fd31:1::2/64']));
    expect(backend).toBe('netlink');
    expect(Number(ifindex)).toBeGreaterThan(0);
    expect(json).toBe('json');
    const env = (await readFile(`${log}.env.routable.up1`, 'utf8')).split('\n').filter((l) => l !== '').map((l) => l.split('=')[0]);
    // Cleared environment: only ours (sh adds PWD, SHLVL, _).
    for (const name of env) expect(['PATH', 'LINK', 'LINKINDEX', 'STATE', 'OLDSTATE', 'BACKEND', 'ADDRESSES', 'JSON', 'PWD', 'SHLVL', '_']).toContain(name);
  });

  it('reconciled at start: rules and tables for both uplinks, stale ours removed, others kept', async () => {
    const tables = svc.status().routing!.tables;
    const t1 = tables['up1']!;
    const t2 = tables['up2']!;
    expect(t1).toBeGreaterThanOrEqual(1000);
    expect(t2).not.toBe(t1);
    const r4 = await rules(4);
    expect(r4).toContainEqual(expect.objectContaining({ priority: 30000, src: '10.231.1.2', table: String(t1), protocol: '236' }));
    expect(r4).toContainEqual(expect.objectContaining({ priority: 30001, dst: '10.231.1.2', table: String(t1), protocol: '236' }));
    expect(r4).toContainEqual(expect.objectContaining({ priority: 30000, src: '10.231.2.2', table: String(t2) }));
    expect(r4.find((r) => r.dst === '10.231.2.2')).toBeUndefined(); // up2 has to: false
    expect(r4.find((r) => r.src === '10.99.0.2')).toBeUndefined(); // stale and ours: gone
    expect(r4.find((r) => r.src === '10.99.0.1')).toBeDefined(); // not ours: kept
    const r6 = await rules(6);
    expect(r6).toContainEqual(expect.objectContaining({ priority: 30000, src: 'fd31:1::2', table: String(t1) }));
    expect(await routesOf(4, t1)).toContainEqual(expect.objectContaining({ dst: 'default', dev: 'up1', gateway: '10.231.1.1' }));
    expect(await routesOf(6, t1)).toContainEqual(expect.objectContaining({ dst: 'default', dev: 'up1' }));
    expect(await routesOf(4, t2)).toContainEqual(expect.objectContaining({ dst: 'default', dev: 'up2' }));
    const file = JSON.parse(await readFile(join(dir, 'data', 'tables.json'), 'utf8')) as { tables: Record<string, number> };
    expect(file.tables).toEqual({ up1: t1, up2: t2 });
  });

  it('ECMP default across both uplinks; a second reconcile (reload) changes nothing', async () => {
    const ecmp = JSON.parse(await ip('d', '-j', '-4', 'route', 'show', 'table', '200')) as { dst: string; nexthops?: { dev: string; gateway?: string }[] }[];
    expect(ecmp).toHaveLength(1);
    expect(ecmp[0]!.nexthops?.map((h) => h.dev).sort()).toEqual(['up1', 'up2']);
    expect(ecmp[0]!.nexthops?.find((h) => h.dev === 'up1')?.gateway).toBe('10.231.1.1');
    expect(await routesOf(6, 200)).toContainEqual(expect.objectContaining({ dst: 'default', dev: 'up1' }));
    const r = await svc.reload(svc.config!);
    expect(r.applied).toBe(true);
    expect(svc.status().routing!.last).toMatchObject({ added: [], removed: [], errors: [] });
  });

  it('a new main-table gateway for an uplink moves its table default route onto it', async () => {
    const t2 = svc.status().routing!.tables['up2']!;
    expect((await routesOf(4, t2))[0]).not.toHaveProperty('gateway');
    await ip('d', 'route', 'add', 'default', 'via', '10.231.2.1', 'dev', 'up2', 'metric', '200');
    await waitFor(async () => (await routesOf(4, t2) as { gateway?: string }[])[0]?.gateway === '10.231.2.1', 'up2 table default via 10.231.2.1');
    await ip('d', 'route', 'del', 'default', 'via', '10.231.2.1', 'dev', 'up2', 'metric', '200');
    await waitFor(async () => (await routesOf(4, t2) as { gateway?: string }[])[0]?.gateway === undefined, 'up2 table default on-link again');
  });

  it('peer down: no-carrier.d runs for up1 and its rules and table route go; peer up: back', async () => {
    const t1 = svc.status().routing!.tables['up1']!;
    await writeFile(log, '');
    await ip('p', 'link', 'set', 'up1', 'down');
    await waitFor(async () => (await runs()).some((l) => l.startsWith('no-carrier|no-carrier|up1|')), 'no-carrier.d for up1');
    await waitFor(async () => !(await rules(4)).some((r) => r.table === String(t1)), 'up1 rules removed');
    await waitFor(async () => (await routesOf(4, t1)).length === 0, 'up1 table emptied');
    expect(svc.interfaces().find((i) => i.name === 'up1')?.state).toBe('no-carrier');
    await ip('p', 'link', 'set', 'up1', 'up');
    await waitFor(async () => (await runs()).some((l) => l.startsWith('routable|routable|up1|')), 'routable.d for up1 again');
    await waitFor(async () => (await rules(4)).some((r) => r.src === '10.231.1.2' && r.table === String(t1)), 'up1 rules back in the same table');
    await waitFor(async () => (await routesOf(4, t1)).length === 1, 'up1 default route back');
  });

  it('address removed: degraded.d runs and the rules for it go; added back: routable again', async () => {
    const t2 = svc.status().routing!.tables['up2']!;
    await writeFile(log, '');
    await ip('d', 'addr', 'del', '10.231.2.2/24', 'dev', 'up2');
    // up2 keeps its IPv6 link-local address: degraded.
    const line = await waitFor(async () => (await runs()).find((l) => l.startsWith('degraded|degraded|up2|')), 'degraded.d for up2');
    expect(line.split('|')[3]).toMatch(/^fe80::/);
    await waitFor(async () => !(await rules(4)).some((r) => r.table === String(t2)), 'up2 rules removed');
    await waitFor(async () => (await routesOf(4, t2)).length === 0, 'up2 table emptied');
    await ip('d', 'addr', 'add', '10.231.2.2/24', 'dev', 'up2');
    await waitFor(async () => (await runs()).some((l) => l.startsWith('routable|routable|up2|10.231.2.2/24')), 'routable.d for up2');
    await waitFor(async () => (await rules(4)).some((r) => r.src === '10.231.2.2' && r.table === String(t2)), 'up2 rules back');
  });

  it('an interface named $(touch${IFS}p) reaches no script as LINK or JSON, and nothing runs it', async () => {
    const hostile = '$(touch${IFS}p)';
    await writeFile(log, '');
    await rm(`${log}.naive`, { force: true });
    await ip('d', 'link', 'add', hostile, 'type', 'veth', 'peer', 'name', 'hx0');
    await ip('d', 'link', 'set', 'hx0', 'up');
    await ip('d', 'addr', 'add', '10.231.9.2/24', 'dev', hostile);
    await ip('d', 'link', 'set', hostile, 'up');
    const line = await waitFor(async () => (await runs()).find((l) => l.startsWith('routable|') && l.includes('10.231.9.2/24')), 'routable.d for the dummy link');
    const [, state, link, addresses, , , json] = line.split('|');
    expect(state).toBe('routable');
    expect(link).toBe('<unset>');
    expect(addresses).toContain('10.231.9.2/24');
    expect(json).toBe('');
    // 60-naive runs after 50-record: wait for it.
    const naive = await waitFor(async () => (existsSync(`${log}.naive`) ? readFile(`${log}.naive`, 'utf8') : ''), 'the naive script ran');
    expect(naive).toContain('naive=\n');
    expect(existsSync('/p')).toBe(false);
    // The API still shows the interface under its real name.
    expect(svc.interfaces().some((i) => i.name === hostile)).toBe(true);
    await ip('d', 'link', 'del', hostile);
  });

  it('flap storm: 1,000 admin down/up changes over 10 s; responsive; scripts for the debounced transitions only; final state = kernel', { timeout: 60_000 }, async () => {
    await svc.idle();
    const before = svc.status().scripts;
    await writeFile(log, '');
    // 10 rounds of 100 changes (50 down/up pairs), one round a second, then a last `down`. Admin
    // state on our end: the kernel reports those at once (carrier changes go through linkwatch,
    // which coalesces them itself).
    let seen = 0;
    const off = svc.events.on('event', (e) => {
      if (e.interface === 'up2') seen++;
    });
    const batch = join(dir, 'flap.batch');
    const lines: string[] = [];
    for (let i = 0; i < 50; i++) lines.push('link set up2 down', 'link set up2 up');
    await writeFile(batch, `${lines.join('\n')}\n`);
    let storming = true;
    let apiCalls = 0;
    let apiMaxMs = 0;
    const prober = (async () => {
      while (storming) {
        const t = performance.now();
        const res = await fetch(`${svc.apiUrl}/api/v1/interfaces/up2`);
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        apiMaxMs = Math.max(apiMaxMs, performance.now() - t);
        apiCalls++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const t0 = Date.now();
    for (let round = 0; round < 10; round++) {
      const started = Date.now();
      await lab.exec('d', 'ip', ['-batch', batch]);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
    }
    await ip('d', 'link', 'set', 'up2', 'down');
    const stormMs = Date.now() - t0;
    storming = false;
    await prober;
    // Responsive throughout: the API answered every probe, none slow (a generous bound).
    expect(apiCalls).toBeGreaterThan(20);
    expect(apiMaxMs).toBeLessThan(2000);
    await waitFor(() => svc.interfaces().find((i) => i.name === 'up2')?.state === 'off', 'up2 settles as off', 10_000);
    await svc.idle();
    off();
    const kernel = JSON.parse(await ip('d', '-j', 'link', 'show', 'up2')) as { flags: string[] }[];
    expect(kernel[0]!.flags).not.toContain('UP');
    const after = svc.status().scripts;
    const storm = await runs();
    const transitions = storm.filter((l) => l.split('|')[2] === 'up2').length;
    // Per round at most its first change (leading) and its settled state, plus one per maxWait
    // (1 s) of flapping: a few dozen script runs for 1,001 changes at most. (The kernel's
    // linkwatch already coalesces carrier changes, so often only the last one is seen.)
    expect(transitions).toBeGreaterThanOrEqual(2);
    expect(seen).toBeGreaterThan(transitions); // the source saw more than ran: debounced
    expect(transitions).toBeLessThanOrEqual(2 * 10 + Math.ceil(stormMs / 1000) + 4);
    expect(after.runs - before.runs).toBeGreaterThanOrEqual(storm.length); // routable.d holds two scripts
    expect(storm.at(-1)).toMatch(/^off\|off\|up2\|/);
    await ip('d', 'link', 'set', 'up2', 'up');
    await waitFor(() => svc.interfaces().find((i) => i.name === 'up2')?.state === 'routable', 'up2 routable again');
  });

  it('a killed ip monitor is restarted, and a change made while it was down is seen', async () => {
    const source = svc.status().sources[0]!;
    expect(source).toMatchObject({ backend: 'netlink', state: 'running', healthy: true });
    const pid = (source.stats as { monitorPid: number }).monitorPid;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => svc.status().sources[0]!.healthy === false, 'the source reports the dead monitor');
    await ip('d', 'addr', 'add', '10.231.2.9/24', 'dev', 'up2');
    await waitFor(() => svc.interfaces().find((i) => i.name === 'up2')?.addresses.includes('10.231.2.9/24'), 'the address seen after the restart');
    const after = svc.status().sources[0]!;
    expect(after.healthy).toBe(true);
    expect((after.stats as { monitorRestarts: number; monitorPid: number }).monitorRestarts).toBe(1);
    expect((after.stats as { monitorPid: number }).monitorPid).not.toBe(pid);
    await ip('d', 'addr', 'del', '10.231.2.9/24', 'dev', 'up2');
  });

  it('stop leaves the rules; a restart reconciles them and reuses the persisted tables', async () => {
    const tables = svc.status().routing!.tables;
    await svc.stop();
    expect((await rules(4)).some((r) => r.protocol === '236')).toBe(true);
    await ip('d', 'link', 'set', 'up1', 'down');
    svc = createNetevdService({ logger: silent });
    await svc.start({ netns: ns, dataDir: join(dir, 'data'), scripts: { dir, startup: false }, routing: { interfaces: [{ name: 'up1' }, { name: 'up2', to: false }] }, api: { port: 0 } });
    expect(svc.status().routing!.tables).toMatchObject(tables);
    // up1 is down: its rules were stale at start and are gone.
    expect((await rules(4)).some((r) => r.table === String(tables['up1']))).toBe(false);
    expect((await rules(4)).some((r) => r.table === String(tables['up2']))).toBe(true);
  });
});
