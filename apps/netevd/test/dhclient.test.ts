// The dhclient source: lease files parsed (the last lease per interface), watched through
// dhclient's rewrite-by-rename, published as lease.changed; and through the daemon: bound.d
// runs with the lease in its env, and the lease's router becomes the gateway of the
// interface's policy table.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEventBus, createEventFactory } from '@edgebox/events';
import type { EventV1 } from '@edgebox/events';
import type { IpRunner } from '../src/ip-command.js';
import { createNetevdService } from '../src/service.js';
import { createDhclientSource, parseLeases } from '../src/sources/dhclient.js';
import { fakeSourceFactory } from './fake-source.js';
import { recordingScript, silent, tempDir, uid, waitFor, writeScript } from './helpers.js';

const lease = (iface: string, addr: string, router: string, expire = '5 2099/12/04 01:00:00'): string => `lease {
  interface "${iface}";
  fixed-address ${addr};
  option subnet-mask 255.255.255.0;
  option routers ${router};
  option domain-name-servers 192.0.2.53,192.0.2.54;
  option domain-name "example.net";
  option dhcp-lease-time 86400;
  renew 4 2099/12/03 10:00:00;
  expire ${expire};
}
`;

describe('parseLeases', () => {
  it('keeps the last lease per interface, with prefix, routers, dns, expiry', () => {
    const leases = parseLeases(lease('eth0', '192.0.2.5', '192.0.2.1') + lease('eth1', '198.51.100.7', '198.51.100.1') + lease('eth0', '192.0.2.6', '192.0.2.1'));
    expect([...leases.keys()]).toEqual(['eth0', 'eth1']);
    expect(leases.get('eth0')).toEqual({ interface: 'eth0', address: '192.0.2.6', prefix: 24, routers: ['192.0.2.1'], dns: ['192.0.2.53', '192.0.2.54'], domain: 'example.net', leaseTime: 86400, expire: '2099-12-04T01:00:00.000Z' });
  });

  it('skips blocks without an interface or a valid address, and garbage', () => {
    expect(parseLeases('lease { fixed-address 1.2.3.4; }\nlease { interface "x"; fixed-address nope; }\n}{ junk').size).toBe(0);
  });
});

describe('dhclient source', () => {
  it('publishes the current leases at start, then changes through a rename rewrite, and expiry', async () => {
    const dir = await tempDir();
    const file = join(dir, 'dhclient.leases');
    await writeFile(file, lease('eth0', '192.0.2.5', '192.0.2.1'));
    const bus = createEventBus();
    const seen: EventV1[] = [];
    bus.listen(({ event }) => {
      seen.push(event);
    });
    let now = Date.parse('2026-12-04T00:00:00Z');
    const src = createDhclientSource({ bus, events: createEventFactory({ source: 'netevd' }), files: [file, join(dir, 'missing.leases')], now: () => now });
    await src.start();
    try {
      await waitFor(() => seen.length === 1, 'the startup lease');
      expect(seen[0]).toMatchObject({ kind: 'lease.changed', interface: 'eth0', states: { new: 'bound' }, addresses: ['192.0.2.5/24'], data: { backend: 'dhclient', routers: ['192.0.2.1'], startup: true } });
      await writeFile(`${file}.new`, lease('eth0', '192.0.2.9', '192.0.2.1'));
      await rename(`${file}.new`, file);
      await waitFor(() => seen.length === 2, 'the renewed lease');
      expect(seen[1]).toMatchObject({ states: { old: 'bound', new: 'bound' }, addresses: ['192.0.2.9/24'], data: { startup: false } });
      now = Date.parse('2100-01-01T00:00:00Z');
      await src.refresh();
      await waitFor(() => seen.length === 3, 'the expiry');
      expect(seen[2]).toMatchObject({ states: { old: 'bound', new: 'expired' } });
      expect(src.health().ok).toBe(true);
    } finally {
      await src.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('dhclient through the daemon', () => {
  it('runs bound.d with the lease env and routes the interface table via the lease router', async () => {
    const dir = await tempDir();
    const file = join(dir, 'dhclient.leases');
    await writeFile(file, lease('eth0', '192.0.2.5', '192.0.2.1'));
    const log = join(dir, 'runs.log');
    await writeScript(dir, 'bound', '10-rec', recordingScript(log, 'bound'));
    const writes: string[] = [];
    const ip: IpRunner = async (args) => {
      if (args[0] === '-j') return '[]';
      writes.push(args.join(' '));
      return '';
    };
    const svc = createNetevdService({ logger: silent, ip, sources: { netlink: fakeSourceFactory([{ iface: 'eth0', state: 'routable', addresses: ['192.0.2.5/24'] }]).factory } });
    await svc.start({ backends: ['netlink', 'dhclient'], dhclient: { leaseFiles: [file] }, dataDir: join(dir, 'data'), scripts: { dir, ownerUid: uid }, api: { enabled: false }, routing: { interfaces: [{ name: 'eth0' }] } });
    try {
      await svc.idle();
      const line = await waitFor(async () => (await readFile(log, 'utf8').catch(() => '')).split('\n')[0], 'bound.d ran');
      expect(line).toBe('bound|bound|eth0|192.0.2.5/24|dhclient||json');
      expect(writes).toContain('-4 route replace default table 1000 proto 236 via 192.0.2.1 dev eth0');
      expect(svc.status().sources.map((s) => [s.backend, s.healthy])).toEqual([['netlink', true], ['dhclient', true]]);
      // The lease does not touch the link state the netlink source reported.
      expect(svc.interfaces()).toEqual([expect.objectContaining({ name: 'eth0', state: 'routable', backend: 'netlink' })]);
    } finally {
      await svc.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
