// Topologies as root: two nodes ping each other; client - router - server pings end to end;
// cut and restore; the per-node API (names, addresses, exec, spawn) on a live lab.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, gc, listNamespaces } from '@edgebox/netlab';
import type { Lab } from '@edgebox/netlab';
import { reportNotRoot, root } from './root-gate.js';

reportNotRoot();

describe.runIf(root.ok)('two nodes', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await createLab({
      nodes: { a: {}, b: {} },
      links: [{ name: 'ab', a: { node: 'a', ipv4: '10.50.0.1/24', ipv6: 'fd50::1/64' }, b: { node: 'b', ipv4: '10.50.0.2/24', ipv6: 'fd50::2/64' } }],
    });
  });
  afterAll(async () => {
    await lab?.destroy();
    await gc({ own: true });
  });

  it('ping each other over IPv4 and IPv6', async () => {
    const l = lab!;
    expect((await l.exec('a', 'ping', ['-c', '1', '-W', '3', l.address('b', 'ab')])).code).toBe(0);
    expect((await l.exec('b', 'ping', ['-c', '1', '-W', '3', l.address('a', 'ab')])).code).toBe(0);
    expect((await l.exec('a', 'ping', ['-6', '-c', '1', '-W', '3', l.address('b', 'ab', 6)])).code).toBe(0);
  });

  it('names namespaces ebx-<runid>-<node> and keeps interfaces out of the host', async () => {
    const l = lab!;
    expect(l.runId).toMatch(/^[0-9a-f]{6}$/);
    expect(l.namespace('a')).toBe(`ebx-${l.runId}-a`);
    expect(await listNamespaces()).toEqual(expect.arrayContaining([l.namespace('a'), l.namespace('b')]));
    const links = await l.exec('a', 'ip', ['-o', 'link', 'show']);
    expect(links.stdout).toContain(' ab@');
    expect(l.info().links.ab?.b).toMatchObject({ node: 'b', ifname: 'ab', ipv4: '10.50.0.2/24', namespace: l.namespace('b') });
    expect(l.ifname('a', 'ab')).toBe('ab');
  });

  it('rejects unknown nodes, links and sides with their codes', async () => {
    const l = lab!;
    expect(() => l.namespace('zz')).toThrow(expect.objectContaining({ code: 'NETLAB_UNKNOWN_NODE' }));
    expect(() => l.address('a', 'nope')).toThrow(expect.objectContaining({ code: 'NETLAB_UNKNOWN_LINK' }));
    await expect(l.setRate('ab', 'c', 5)).rejects.toMatchObject({ code: 'NETLAB_UNKNOWN_LINK' });
    await expect(l.setRate('ab', 0)).rejects.toMatchObject({ code: 'NETLAB_INVALID_ARGUMENT' });
    await expect(l.setLoss('ab', 'a', 120)).rejects.toMatchObject({ code: 'NETLAB_INVALID_ARGUMENT' });
    await expect(l.exec('a', 'no-such-program-xyz')).rejects.toMatchObject({ code: 'NETLAB_TOOL_MISSING' });
    await expect(l.exec('a', 'sh', ['-c', 'echo nope >&2; exit 2'])).rejects.toMatchObject({
      code: 'NETLAB_COMMAND_FAILED',
      message: expect.stringContaining('[a] sh -c echo nope >&2; exit 2: exit 2: nope'),
    });
  });

  it('spawns processes inside a node', async () => {
    const l = lab!;
    const child = l.spawn('b', 'ip', ['-o', 'addr', 'show', 'dev', 'ab']);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((resolve) => child.once('close', resolve));
    expect(out).toContain('10.50.0.2/24');
  });
});

describe.runIf(root.ok)('client - router - server', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await createLab({
      nodes: { client: {}, router: { forward: true }, server: {} },
      links: [
        { name: 'lan', a: { node: 'client', ipv4: '10.51.1.2/24' }, b: { node: 'router', ipv4: '10.51.1.1/24' } },
        { name: 'wan', a: { node: 'router', ipv4: '10.51.2.1/24', ifname: 'wan0' }, b: { node: 'server', ipv4: '10.51.2.2/24', ifname: 'eth0' } },
      ],
      routes: [
        { node: 'client', to: 'default', via: '10.51.1.1' },
        { node: 'server', to: '10.51.1.0/24', via: '10.51.2.1' },
      ],
    });
  });
  afterAll(async () => {
    await lab?.destroy();
    await gc({ own: true });
  });

  it('pings end to end through the router', async () => {
    const l = lab!;
    const res = await l.exec('client', 'ping', ['-c', '2', '-i', '0.2', '-W', '3', l.address('server', 'wan')]);
    expect(res.stdout).toMatch(/ttl=63/); // one hop: the router forwarded it
    expect(l.ifname('server', 'wan')).toBe('eth0');
  });

  it('cut makes ping fail, restore (with its routes) makes it work again', async () => {
    const l = lab!;
    const server = l.address('server', 'wan');
    await l.cut('lan');
    const cut = await l.exec('client', 'ping', ['-c', '1', '-W', '1', server], { check: false });
    expect(cut.code).not.toBe(0);
    await l.restore('lan');
    // The default route went with the link; restore put it back.
    expect((await l.exec('client', 'ip', ['route', 'show', 'default'])).stdout).toContain('via 10.51.1.1');
    const back = await l.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', server], { check: false });
    expect(back.code).toBe(0);
  });
});

describe.runIf(root.ok)('sysctls', () => {
  it('writes node sysctls inside the namespace only', async () => {
    const before = (await import('node:fs')).readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    const lab = await createLab({ nodes: { r: { forward: true, sysctls: { 'net.ipv4.tcp_ecn': 2 } } } });
    try {
      expect((await lab.exec('r', 'sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('1');
      expect((await lab.exec('r', 'sysctl', ['-n', 'net.ipv4.tcp_ecn'])).stdout.trim()).toBe('2');
      expect((await import('node:fs')).readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(before);
    } finally {
      await lab.destroy();
      await gc({ own: true });
    }
  });
});
