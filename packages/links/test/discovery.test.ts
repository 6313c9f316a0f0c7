// Uplink discovery as root on a lab namespace: addresses added and removed, links set down and
// up, new interfaces and default-route changes are each seen within 1 s; include/exclude and
// labels apply; a flood of monitor lines costs a handful of re-reads; a killed monitor is
// restarted; stop() kills the monitor by PID and no event follows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, gc, type Lab } from '@edgebox/netlab';
import { createLinkDiscovery, isLinksError, type LinkDiscovery, type UplinkEvent } from '../src/index.js';
import { reportNotRoot, root } from './root-gate.js';

describe('createLinkDiscovery arguments', () => {
  it.each([
    [{ debounceMs: 0 }, 'debounceMs 0'],
    [{ debounceMs: 5000 }, 'debounceMs 5000'],
    [{ netns: 'a/b' }, 'netns'],
    [{ include: [''] }, 'interface pattern'],
  ])('refuses %j', (init, message) => {
    expect(() => createLinkDiscovery(init)).toThrow(message);
  });
});

reportNotRoot();

/** Collects a discovery's events and waits for one matching a predicate. */
function recorder(discovery: LinkDiscovery) {
  const events: (UplinkEvent & { atMs: number })[] = [];
  for (const type of ['added', 'removed', 'changed'] as const) discovery.on(type, (e) => events.push({ ...e, atMs: performance.now() }));
  return {
    events,
    async next(predicate: (e: UplinkEvent) => boolean, since: number, timeoutMs = 3000): Promise<UplinkEvent & { atMs: number }> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find((e) => e.atMs >= since && predicate(e));
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs} ms; saw ${JSON.stringify(events.map((e) => [e.type, e.uplink.name, e.changes]))}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

describe.runIf(root.ok)('discovery in a lab namespace', () => {
  let lab: Lab;
  let netns: string;
  const started: LinkDiscovery[] = [];
  const ip = (...args: string[]) => lab.exec('c', 'ip', args);

  beforeAll(async () => {
    lab = await createLab({
      nodes: { c: {}, s: {} },
      links: [
        { name: 'up1', a: { node: 'c', ipv4: '10.220.1.2/24' }, b: { node: 's', ipv4: '10.220.1.1/24' } },
        { name: 'up2', a: { node: 'c', ipv4: '10.220.2.2/24' }, b: { node: 's', ipv4: '10.220.2.1/24' } },
        { name: 'lan', a: { node: 'c', ipv4: '10.220.5.2/24' }, b: { node: 's', ipv4: '10.220.5.1/24' } },
      ],
      routes: [{ node: 'c', to: 'default', via: '10.220.1.1' }],
    });
    netns = lab.namespace('c');
  });
  afterAll(async () => {
    for (const d of started) await d.stop();
    await lab?.destroy();
    await gc({ own: true });
  });

  const start = async (init: Parameters<typeof createLinkDiscovery>[0]) => {
    const discovery = createLinkDiscovery({ netns, ...init });
    started.push(discovery);
    const rec = recorder(discovery);
    const initial = await discovery.start();
    return { discovery, rec, initial };
  };

  it('finds the uplinks with gateways and labels, then sees each change within 1 s', async () => {
    const { discovery, rec, initial } = await start({ include: ['up*'], labels: { up1: 'fiber', 'up*': 'lte' } });
    expect(initial.map((c) => [c.name, c.label, c.up, c.gateway4, c.defaultRoute4, c.addresses.map((a) => a.address)])).toEqual([
      ['up1', 'fiber', true, '10.220.1.1', true, ['10.220.1.2']],
      ['up2', 'lte', true, undefined, false, ['10.220.2.2']],
    ]);
    expect(rec.events.map((e) => [e.type, e.uplink.name])).toEqual([
      ['added', 'up1'],
      ['added', 'up2'],
    ]);
    const latencies: number[] = [];
    const step = async (action: () => Promise<unknown>, predicate: (e: UplinkEvent) => boolean) => {
      const t0 = performance.now();
      await action();
      const event = await rec.next(predicate, t0);
      latencies.push(event.atMs - t0);
      expect(event.atMs - t0).toBeLessThan(1000);
      return event;
    };

    let e = await step(() => ip('address', 'add', '10.220.3.2/24', 'dev', 'up2'), (x) => x.type === 'changed' && x.uplink.name === 'up2');
    expect(e.changes).toEqual(['addresses']);
    expect(e.uplink.addresses.map((a) => a.address)).toEqual(['10.220.2.2', '10.220.3.2']);
    expect(e.previous?.addresses).toHaveLength(1);

    e = await step(() => ip('link', 'set', 'dev', 'up2', 'down'), (x) => x.type === 'changed' && x.uplink.name === 'up2' && x.changes.includes('up'));
    expect(e.uplink.up).toBe(false);
    // `up` follows the UP/LOWER_UP flags at once; operState follows when the kernel's linkwatch
    // gets to it (a later `changed` event)
    e = await step(() => ip('link', 'set', 'dev', 'up2', 'up'), (x) => x.type === 'changed' && x.uplink.name === 'up2' && x.uplink.up);
    expect(e.changes).toContain('up');

    e = await step(() => ip('route', 'replace', 'default', 'via', '10.220.2.1', 'dev', 'up2'), (x) => x.type === 'changed' && x.uplink.name === 'up2' && x.changes.includes('gateway'));
    expect(e.uplink.gateway4).toBe('10.220.2.1');
    await rec.next((x) => x.type === 'changed' && x.uplink.name === 'up1' && x.uplink.defaultRoute4 === false, 0);

    e = await step(() => ip('address', 'add', 'fd22:2::2/64', 'dev', 'up2', 'nodad'), (x) => x.type === 'changed' && x.uplink.addresses.some((a) => a.family === 6));
    expect(e.uplink.addresses.at(-1)).toEqual({ address: 'fd22:2::2', prefixLength: 64, family: 6 });

    e = await step(() => ip('address', 'flush', 'dev', 'up2', 'scope', 'global'), (x) => x.type === 'removed' && x.uplink.name === 'up2');
    expect(e.previous?.addresses).toHaveLength(3);
    expect(discovery.candidates().map((c) => c.name)).toEqual(['up1']);

    e = await step(async () => {
      await ip('link', 'add', 'up3', 'type', 'veth', 'peer', 'name', 'up3p');
      await ip('address', 'add', '10.220.4.2/24', 'dev', 'up3');
      await ip('link', 'set', 'dev', 'up3', 'up');
    }, (x) => x.type === 'added' && x.uplink.name === 'up3');
    expect(e.uplink.label).toBe('lte');

    e = await step(() => ip('link', 'delete', 'dev', 'up3'), (x) => x.type === 'removed' && x.uplink.name === 'up3');
    expect(e.uplink.addresses).toEqual([{ address: '10.220.4.2', prefixLength: 24, family: 4 }]);
    console.log(`discovery latency ms (command start -> event): ${latencies.map((l) => l.toFixed(0)).join(' ')}`);
    expect(discovery.stats.errors).toBe(0);
  });

  it('never reports excluded or non-included interfaces', async () => {
    const { discovery, rec, initial } = await start({ include: ['up*', 'lan'], exclude: ['up[2-9]'] });
    expect(initial.map((c) => c.name).sort()).toEqual(['lan', 'up1']);
    const t0 = performance.now();
    await ip('address', 'replace', '10.220.2.2/24', 'dev', 'up2');
    await ip('address', 'replace', '10.220.6.2/24', 'dev', 'lan');
    await rec.next((x) => x.uplink.name === 'lan', t0);
    await new Promise((r) => setTimeout(r, 200));
    expect(rec.events.filter((x) => x.atMs >= t0).map((x) => x.uplink.name)).toEqual(['lan']);
    expect(discovery.candidates().map((c) => c.name).sort()).toEqual(['lan', 'up1']);
  });

  it('re-reads a handful of times for a flood of changes', async () => {
    const { discovery, rec, initial } = await start({ include: ['lan'] });
    const have = initial[0]!.addresses.length;
    const before = { ...discovery.stats };
    const t0 = performance.now();
    const batch = Array.from({ length: 200 }, (_, i) => `address add 10.221.${i >> 6}.${(i & 63) + 2}/32 dev lan`).join('\n');
    await lab.exec('c', 'ip', ['-batch', '-'], { input: `${batch}\n` });
    await rec.next((x) => x.uplink.name === 'lan' && x.uplink.addresses.length === have + 200, t0);
    await new Promise((r) => setTimeout(r, 300));
    const lines = discovery.stats.monitorLines - before.monitorLines;
    const rereads = discovery.stats.rereads - before.rereads;
    console.log(`flood: ${lines} monitor lines -> ${rereads} re-reads`);
    expect(lines).toBeGreaterThanOrEqual(200);
    expect(rereads).toBeLessThanOrEqual(6);
  });

  it('restarts a killed monitor and still sees changes; stop() kills it and silences events', async () => {
    const { discovery, rec } = await start({ include: ['up1'] });
    const firstPid = discovery.monitorPid!;
    expect(firstPid).toBeGreaterThan(0);
    process.kill(firstPid, 'SIGKILL');
    const deadline = Date.now() + 3000;
    while (discovery.monitorPid === undefined || discovery.monitorPid === firstPid) {
      if (Date.now() > deadline) throw new Error('monitor not restarted');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(discovery.stats.monitorRestarts).toBe(1);
    await new Promise((r) => setTimeout(r, 100)); // let the post-restart read settle
    const t0 = performance.now();
    await ip('address', 'add', '10.220.1.3/24', 'dev', 'up1');
    const e = await rec.next((x) => x.type === 'changed' && x.uplink.name === 'up1', t0);
    expect(e.atMs - t0).toBeLessThan(1000);

    const pid = discovery.monitorPid!;
    await discovery.stop();
    await discovery.stop();
    expect(discovery.monitorPid).toBeUndefined();
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }) as unknown as Error);
    const count = rec.events.length;
    await ip('address', 'del', '10.220.1.3/24', 'dev', 'up1');
    await new Promise((r) => setTimeout(r, 200));
    expect(rec.events.length).toBe(count);
    await expect(discovery.start()).rejects.toMatchObject({ code: 'LINKS_STATE' });
    await discovery.refresh(); // a no-op once stopped
  });

  it('fails start() with LINKS_COMMAND_FAILED for a namespace that does not exist, leaving no monitor', async () => {
    const discovery = createLinkDiscovery({ netns: `ebx-missing-${process.pid}` });
    const errors: unknown[] = [];
    discovery.on('error', (e) => errors.push(e));
    const error = await discovery.start().catch((e: unknown) => e);
    expect(isLinksError(error, 'LINKS_COMMAND_FAILED')).toBe(true);
    expect(discovery.monitorPid).toBeUndefined();
    await expect(discovery.start()).rejects.toMatchObject({ code: 'LINKS_STATE' });
  });
});
