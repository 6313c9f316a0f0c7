// The bonding Service. Without root: identity, status and health before start, config and
// credential errors before anything is opened. As root: the runtime's Service contract (server
// mode, TUN in a lab namespace), and a client and a server hosted in this process, bonded over
// two loopback links, their TUNs in two namespaces: ping crosses, status / metrics / events
// show it, reload applies what it can and refuses the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createLab, gc } from '@edgebox/netlab';
import type { Lab } from '@edgebox/netlab';
import { rootGate } from '@edgebox/netlab/testing';
import { describeServiceContract } from '@edgebox/runtime/testing';
import { createLogger } from '@edgebox/runtime';
import { createBondingService } from '../src/service.js';
import type { BondingEvents } from '../src/service.js';
import { BondingLinkStateEvent } from '../src/events.js';
import type { EventV1 } from '@edgebox/events';

const { root, reportNotRoot } = rootGate('bonding service');
const PSK = randomBytes(32).toString('base64');
const silent = createLogger({ app: 'bonding', silent: true });
const port = 40_000 + Math.floor(Math.random() * 20_000);

describe('bonding service without root', () => {
  it('is idle with an empty status and a not-ready health before start', async () => {
    const s = createBondingService({ logger: silent });
    expect(s.name).toBe('bonding');
    expect(s.status()).toMatchObject({ mode: null, running: false, tun: null, peers: [] });
    const h = await s.health();
    expect(h.ready).toBe(false);
  });

  it('refuses an unreadable PSK file with BONDING_CREDENTIALS before opening anything', async () => {
    const s = createBondingService({ logger: silent });
    const err: unknown = await s
      .start({ mode: 'client', identity: { pskFile: '/nonexistent/bond.psk' }, tun: { address: '10.98.0.2/24' }, client: { name: 'a', server: '127.0.0.1:1', links: [{ name: 'l', source: '127.0.0.1' }] } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BONDING_CREDENTIALS' });
    expect((err as Error).message).toMatch(/\/nonexistent\/bond\.psk/);
    expect(s.state).toBe('failed');
  });
});

describe.runIf(root.ok)('bonding service as root', () => {
  let lab: Lab | undefined;
  const ns = (node: string): string => lab!.namespace(node);

  beforeAll(async () => {
    lab = await createLab({
      nodes: { a: {}, b: {} },
      links: [{ name: 'ab', a: { node: 'a', ipv4: '10.72.0.1/24' }, b: { node: 'b', ipv4: '10.72.0.2/24' } }],
      routes: [],
    });
  });
  afterAll(async () => {
    await lab?.destroy();
    await gc({ own: true });
  });

  const serverConfig = (): Record<string, unknown> => ({
    mode: 'server',
    tun: { name: 'bt0', address: '10.98.0.1/24', netns: ns('b') },
    server: { listen: `127.0.0.1:${port}`, clients: [{ name: 'site-a', psk: PSK, tunAddress: '10.98.0.2', links: [{ id: 1, name: 'second', tier: 'overflow', weight: 2 }] }] },
  });

  describe('contract', () => {
    // describeServiceContract takes plain config values at collection time: its TUN goes into
    // a namespace of a name known now, created (and deleted) around the suite.
    const contractNs = `bondct-${process.pid}`;
    const config = (scheduler: string): Record<string, unknown> => ({
      mode: 'server',
      tun: { name: 'bt0', address: '10.98.0.1/24', netns: contractNs },
      server: { listen: `127.0.0.1:${port + 1}`, scheduler, clients: [{ name: 'site-a', psk: PSK, tunAddress: '10.98.0.2' }] },
    });
    beforeAll(() => {
      execFileSync('ip', ['netns', 'add', contractNs]);
    });
    afterAll(() => {
      execFileSync('ip', ['netns', 'delete', contractNs]);
    });
    describeServiceContract({
      name: 'bonding',
      create: () => createBondingService({ logger: silent }),
      goodConfig: config('aggregate'),
      changedConfig: config('redundant'),
      badConfig: { mode: 'server', tun: { address: 'nope' } },
    });
  });

  it('a client and a server in one process: ping crosses the bond, status, metrics and events show it', async () => {
    const server = createBondingService({ logger: silent });
    const client = createBondingService({ logger: silent });
    const seen: BondingEvents['session'][] = [];
    client.events.on('session', (e) => seen.push(e));
    const forwarded: EventV1[] = [];
    client.events.on('event', (e) => forwarded.push(e));
    const up = new Promise<void>((resolve) => {
      let n = 0;
      client.events.on('link.state', (e) => {
        if (e.to === 'up' && ++n === 2) resolve();
      });
    });
    try {
      await server.start(serverConfig());
      await client.start({
        mode: 'client',
        identity: { psk: PSK },
        tun: { name: 'bt0', address: '10.98.0.2/24', netns: ns('a') },
        client: { name: 'site-a', server: `127.0.0.1:${port}`, links: [{ name: 'lo1', source: '127.0.0.1' }, { name: 'lo2', source: '127.0.0.2', label: 'second' }] },
      });
      await up;
      expect(seen).toEqual([{ peer: 'server', event: 'established', detail: 'chacha20-poly1305' }]);
      // status as events: the same changes on the service's @edgebox/events bus, forwarded by its emitter
      const published = client.bus.history().map((e) => e.event);
      expect(published.filter((e) => e.kind === 'session.established').map((e) => e.data)).toEqual([{ peer: 'server', event: 'established', detail: 'chacha20-poly1305' }]);
      expect(published.filter((e) => BondingLinkStateEvent.is(e) && e.states?.new === 'up').map((e) => e.subject)).toEqual(expect.arrayContaining(['server/lo1', 'server/lo2']));
      expect(published.every((e) => e.v === 1 && e.source === 'bonding')).toBe(true);
      expect(forwarded.map((e) => e.id)).toEqual(published.map((e) => e.id));
      expect(server.bus.history().some((e) => e.event.kind === 'session.established' && e.event.subject === 'site-a')).toBe(true);
      const ping = await lab!.exec('a', 'ping', ['-c', '5', '-i', '0.2', '-W', '2', '10.98.0.1'], { timeoutMs: 15_000 });
      expect(ping.stdout).toMatch(/5 packets transmitted, 5 received/);

      const cs = client.status();
      expect(cs).toMatchObject({ mode: 'client', running: true, tun: { name: 'bt0', mtu: 1428 }, handshake: { state: 'established', lastError: null } });
      expect(cs.peers[0]!.links.map((l) => [l.name, l.state, l.label])).toEqual([
        ['lo1', 'up', null],
        ['lo2', 'up', 'second'],
      ]);
      expect(cs.peers[0]!.txPackets).toBeGreaterThanOrEqual(5);
      const ss = server.status();
      expect(ss.server).toMatchObject({ listen: `127.0.0.1:${port}`, clients: 1 });
      expect(ss.peers[0]).toMatchObject({ name: 'site-a', tunAddress: '10.98.0.2', connected: true });
      // the client's entry names its second link and sets its downstream tier
      expect(ss.peers[0]!.links.map((l) => [l.linkId, l.name, l.tier])).toEqual([
        [0, 'link0', 'primary'],
        [1, 'second', 'overflow'],
      ]);
      expect((await client.health()).ready).toBe(true);

      const metrics = await client.registry.metrics();
      expect(metrics).toMatch(/edgebox_bonding_link_tx_bytes_total\{peer="server",link="lo1",app="bonding"\} [1-9]/);
      expect(metrics).toMatch(/edgebox_bonding_link_state_info\{peer="server",link="lo2",state="up",app="bonding"\} 1/);
      expect(await server.registry.metrics()).toMatch(/edgebox_bonding_peers\{app="bonding"\} 1/);

      const applied = await client.reload({ ...client.config, client: { ...client.config!.client!, scheduler: 'lowest-latency' } });
      expect(applied).toEqual({ applied: true });
      expect(client.status().peers[0]!.scheduler).toBe('lowest-latency');
      const refused = await client.reload({ ...client.config, tun: { ...client.config!.tun, name: 'other0' } });
      expect(refused).toMatchObject({ applied: false, error: { code: 'BONDING_RELOAD_UNSUPPORTED' } });
    } finally {
      await client.stop();
      await server.stop();
    }
    expect(seen.map((e) => e.event)).toEqual(['established']);
  }, 30_000);

  it('rekeys by age without dropping traffic: the old keys keep opening through the grace period', async () => {
    const session = { rekeyAfterMs: 1000, rejectAfterMs: 8000 };
    const server = createBondingService({ logger: silent, session });
    const client = createBondingService({ logger: silent, session });
    const events: string[] = [];
    client.events.on('session', (e) => events.push(`client ${e.event}`));
    server.events.on('session', (e) => events.push(`server ${e.event}`));
    try {
      await server.start(serverConfig());
      await client.start({
        mode: 'client',
        identity: { psk: PSK },
        tun: { name: 'bt0', address: '10.98.0.2/24', netns: ns('a') },
        client: { name: 'site-a', server: `127.0.0.1:${port}`, links: [{ name: 'lo1', source: '127.0.0.1' }] },
      });
      await new Promise<void>((resolve) => client.events.on('link.state', (e) => e.to === 'up' && resolve()));
      const ping = await lab!.exec('a', 'ping', ['-c', '40', '-i', '0.1', '-W', '2', '10.98.0.1'], { timeoutMs: 20_000, check: false });
      expect(ping.stdout).toMatch(/40 packets transmitted, 40 received/);
      const rekeys = client.status().counters.rekeys;
      expect(rekeys).toBeGreaterThanOrEqual(2);
      expect(server.status().counters.rekeys).toBeGreaterThanOrEqual(2);
      expect(events.filter((e) => e === 'client rekeyed')).toHaveLength(rekeys);
      expect(events).not.toContain('client expired');
    } finally {
      await client.stop();
      await server.stop();
    }
  }, 30_000);
});

describe.runIf(!root.ok)('bonding service as root (needs root)', reportNotRoot);
