// Policy routing without root: the desired rules and routes, the reconcile against a canned
// kernel view (what is ours and stale goes, others' rules stay), dry run, and the persisted
// per-name table allocations. The lab test (netns-daemon.test.ts) runs the same against a
// real kernel.
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import type { NetevdConfigInput } from '../src/config.js';
import { isNetevdError } from '../src/errors.js';
import type { IpRunner } from '../src/ip-command.js';
import { canonicalIp, createPolicyRouting, isRoutableAddress, openTableStore } from '../src/routing.js';
import { silent, tempDir } from './helpers.js';

/** A fake `ip`: reads answer from `kernel`, writes are recorded. */
function fakeIp(kernel: { rules4?: unknown[]; rules6?: unknown[]; routes4?: unknown[]; routes6?: unknown[]; main4?: Record<string, unknown[]> }) {
  const writes: string[] = [];
  const run: IpRunner = async (args) => {
    const a = args.join(' ');
    if (a === '-j -4 rule show') return JSON.stringify(kernel.rules4 ?? []);
    if (a === '-j -6 rule show') return JSON.stringify(kernel.rules6 ?? []);
    if (a.startsWith('-j -4 route show table all')) return JSON.stringify(kernel.routes4 ?? []);
    if (a.startsWith('-j -6 route show table all')) return JSON.stringify(kernel.routes6 ?? []);
    const m = /^-j -([46]) route show default dev (\S+)$/.exec(a);
    if (m !== null) return JSON.stringify(m[1] === '4' ? (kernel.main4?.[m[2]!] ?? []) : []);
    writes.push(a);
    return '';
  };
  return { run, writes };
}

async function setup(routing: NetevdConfigInput['routing'], extra: NetevdConfigInput = {}) {
  const dataDir = await tempDir();
  const config = await parseConfig({ dataDir, routing, ...extra });
  const store = await openTableStore(dataDir, config.routing.tables);
  return { config, store, dataDir };
}

describe('policy routing reconcile', () => {
  it('adds from/to rules and a default route per family for live interfaces only', async () => {
    const { config, store } = await setup({ interfaces: [{ name: 'wan0' }, { name: 'lte0', gateway4: '192.0.2.1', to: false }, { name: 'down0' }] });
    const ip = fakeIp({ main4: { wan0: [{ dst: 'default', gateway: '198.51.100.1', dev: 'wan0' }] } });
    const routing = createPolicyRouting({ config, logger: silent, store, ip: ip.run });
    const r = await routing.reconcile([
      { name: 'wan0', state: 'routable', addresses: ['198.51.100.10/24', 'fd00:0::10/64', 'fe80::1/64'] },
      { name: 'lte0', state: 'degraded', addresses: ['192.0.2.10/24'] },
      { name: 'down0', state: 'no-carrier', addresses: ['203.0.113.5/24'] },
      { name: 'other0', state: 'routable', addresses: ['10.1.1.1/24'] },
    ]);
    expect(r.errors).toEqual([]);
    expect(routing.tables()).toEqual({ wan0: 1000, lte0: 1001 });
    expect(ip.writes).toEqual([
      '-4 route replace default table 1000 proto 236 via 198.51.100.1 dev wan0',
      '-6 route replace default table 1000 proto 236 dev wan0 scope link',
      '-4 route replace default table 1001 proto 236 via 192.0.2.1 dev lte0',
      '-4 rule add from 198.51.100.10 table 1000 priority 30000 protocol 236',
      '-4 rule add to 198.51.100.10 table 1000 priority 30001 protocol 236',
      '-6 rule add from fd00::10 table 1000 priority 30000 protocol 236',
      '-6 rule add to fd00::10 table 1000 priority 30001 protocol 236',
      '-4 rule add from 192.0.2.10 table 1001 priority 30000 protocol 236',
    ]);
    expect(routing.stats()).toMatchObject({ rules: 5, routes: 3 });
  });

  it('removes only what is ours and stale; leaves others and what is wanted', async () => {
    const { config, store } = await setup({ interfaces: [{ name: 'wan0', gateway4: '198.51.100.1' }] });
    await store.tableOf('wan0');
    const ip = fakeIp({
      rules4: [
        { priority: 0, src: 'all', table: 'local' },
        { priority: 30000, src: '198.51.100.10', table: '1000', protocol: '236' }, // wanted
        { priority: 30000, src: '10.9.9.9', table: '1005', protocol: '236' }, // ours, stale
        { priority: 30000, src: '10.8.8.8', table: '77' }, // someone else's, in our range
        { priority: 20000, src: '10.7.7.7', table: '1000', protocol: '236' }, // our protocol outside our range: not ours
        { priority: 30001, src: 'all', dst: '10.6.6.6', table: '1000', protocol: 'static' }, // other protocol
      ],
      routes4: [
        { dst: 'default', gateway: '198.51.100.1', dev: 'wan0', table: '1000' }, // wanted
        { dst: 'default', dev: 'gone0', table: '1007', scope: 'link' }, // stale
      ],
    });
    const routing = createPolicyRouting({ config, logger: silent, store, ip: ip.run });
    const r = await routing.reconcile([{ name: 'wan0', state: 'routable', addresses: ['198.51.100.10/24'] }]);
    expect(ip.writes).toEqual([
      '-4 rule del from 10.9.9.9 table 1005 priority 30000 protocol 236',
      '-4 route del default table 1007 proto 236',
      '-4 rule add to 198.51.100.10 table 1000 priority 30001 protocol 236',
    ]);
    expect(r.removed).toHaveLength(2);
    expect(r.added).toHaveLength(1);
  });

  it('builds one ECMP default across the live members', async () => {
    const { config, store } = await setup({ interfaces: [{ name: 'a0', gateway4: '10.0.1.1' }, { name: 'b0', gateway4: '10.0.2.1', defaultRoute: false }, { name: 'c0', gateway4: '10.0.3.1' }], ecmp: { interfaces: ['a0', 'b0', 'c0'], table: 200, metric: 5 } });
    const ip = fakeIp({});
    const routing = createPolicyRouting({ config, logger: silent, store, ip: ip.run });
    await routing.reconcile([
      { name: 'a0', state: 'routable', addresses: ['10.0.1.2/24'] },
      { name: 'b0', state: 'routable', addresses: ['10.0.2.2/24'] },
      { name: 'c0', state: 'off', addresses: ['10.0.3.2/24'] },
    ]);
    expect(ip.writes).toContain('-4 route replace default table 200 proto 236 metric 5 nexthop via 10.0.1.1 dev a0 weight 1 nexthop via 10.0.2.1 dev b0 weight 1');
    expect(ip.writes.some((w) => w.includes('table 1001 proto'))).toBe(false); // b0: defaultRoute false
  });

  it('dry run reads but changes nothing, and says what it would do', async () => {
    const { config, store } = await setup({ interfaces: [{ name: 'wan0' }] }, { dryRun: true });
    const ip = fakeIp({ rules4: [{ priority: 30000, src: '10.9.9.9', table: '1005', protocol: '236' }] });
    const routing = createPolicyRouting({ config, logger: silent, store, ip: ip.run });
    const r = await routing.reconcile([{ name: 'wan0', state: 'routable', addresses: ['198.51.100.10/24'] }]);
    expect(ip.writes).toEqual([]);
    expect(r.dryRun).toBe(true);
    expect(r.removed).toEqual(['rule 30000: from 10.9.9.9 lookup 1005']);
    expect(r.added).toEqual(['route default table 1000 dev wan0', 'rule 30000: from 198.51.100.10 lookup 1000', 'rule 30001: to 198.51.100.10 lookup 1000']);
  });

  it('a failing command is reported, not thrown', async () => {
    const { config, store } = await setup({ interfaces: [{ name: 'wan0' }] });
    const fail: IpRunner = async (args) => {
      if (args[0] === '-j') return '[]';
      throw new Error('RTNETLINK answers: Operation not permitted');
    };
    const routing = createPolicyRouting({ config, logger: silent, store, ip: fail });
    const r = await routing.reconcile([{ name: 'wan0', state: 'routable', addresses: ['198.51.100.10/24'] }]);
    expect(r.errors.length).toBe(3);
    expect(r.errors[0]).toMatch(/not permitted/);
    expect(routing.stats().errors).toBe(3);
  });
});

describe('table store', () => {
  it('allocates per name, lowest free, persisted and reused after a restart', async () => {
    const dir = await tempDir();
    const store = await openTableStore(dir, { min: 10, max: 12 });
    expect(await store.tableOf('wan0')).toBe(10);
    expect(await store.tableOf('lte0')).toBe(11);
    expect(await store.tableOf('wan0')).toBe(10);
    const again = await openTableStore(dir, { min: 10, max: 12 });
    expect(again.all()).toEqual({ wan0: 10, lte0: 11 });
    expect(await again.tableOf('x')).toBe(12);
    await expect(again.tableOf('y')).rejects.toSatisfy((e) => isNetevdError(e, 'NETEVD_TABLES_EXHAUSTED'));
    expect(JSON.parse(await readFile(join(dir, 'tables.json'), 'utf8'))).toEqual({ version: 1, tables: { wan0: 10, lte0: 11, x: 12 } });
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a corrupt file instead of replacing it', async () => {
    const dir = await tempDir();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'tables.json'), '{"version":1,"tables":{"a":"x"}}');
    await expect(openTableStore(dir, { min: 1000, max: 1999 })).rejects.toSatisfy((e) => isNetevdError(e, 'NETEVD_STATE_FILE'));
    await rm(dir, { recursive: true, force: true });
  });

  it('classifies addresses', () => {
    expect(isRoutableAddress('10.0.0.1/24')).toBe(true);
    expect(isRoutableAddress('169.254.1.1/16')).toBe(false);
    expect(isRoutableAddress('fe80::1/64')).toBe(false);
    expect(isRoutableAddress('2001:db8::1/64')).toBe(true);
    expect(canonicalIp('2001:db8:0:0::1')).toBe('2001:db8::1');
  });
});
