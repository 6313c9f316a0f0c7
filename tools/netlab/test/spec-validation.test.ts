// Spec validation: good specs parse, every bad spec names the offending path.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNetlabError, loadSpecFile, parseCidr, parseSpec } from '@edgebox/netlab';
import type { LabSpecInput } from '@edgebox/netlab';

const good: LabSpecInput = {
  nodes: { client: {}, router: { forward: true }, server: { sysctls: { 'net.ipv4.tcp_ecn': 1 } } },
  links: [
    { name: 'lan', a: { node: 'client', ipv4: '10.1.0.2/24', ipv6: 'fd01::2/64' }, b: { node: 'router', ipv4: '10.1.0.1/24', ipv6: 'fd01::1/64' }, rateMbit: 10 },
    { name: 'wan', a: { node: 'router', ipv4: '10.2.0.1/24' }, b: { node: 'server', ipv4: '10.2.0.2/24', lossPercent: 5 } },
  ],
  routes: [
    { node: 'client', to: 'default', via: '10.1.0.1' },
    { node: 'client', to: 'default6', via: 'fd01::1' },
    { node: 'server', to: '10.1.0.0/24', via: '10.2.0.1' },
    { node: 'server', to: '10.9.0.0/16', dev: 'wan' },
  ],
};

function problemOf(input: unknown): string {
  try {
    parseSpec(input);
  } catch (err) {
    expect(isNetlabError(err, 'NETLAB_SPEC_INVALID')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('spec was accepted');
}

const withLinks = (links: unknown, routes: unknown = []) => ({ nodes: { a: {}, b: {} }, links, routes });
const ab = (a: object = {}, b: object = {}) => ({ name: 'ab', a: { node: 'a', ipv4: '10.0.0.1/24', ...a }, b: { node: 'b', ipv4: '10.0.0.2/24', ...b } });

describe('parseSpec', () => {
  it('accepts a routed topology and fills defaults', () => {
    const spec = parseSpec(good);
    expect(Object.keys(spec.nodes)).toEqual(['client', 'router', 'server']);
    expect(spec.links).toHaveLength(2);
    expect(parseSpec({ nodes: { solo: {} } })).toEqual({ nodes: { solo: {} }, links: [], routes: [] });
  });

  it.each([
    ['unknown link node', withLinks([ab({ node: 'x' })]), 'links.0.a.node: unknown node "x"'],
    ['self link', withLinks([ab({}, { node: 'a' })]), 'links.0.b.node: link "ab" connects node "a" to itself'],
    ['bad ipv4', withLinks([ab({ ipv4: '10.0.0.300/24' })]), 'links.0.a.ipv4: an IPv4 address with prefix'],
    ['missing prefix', withLinks([ab({}, { ipv4: '10.0.0.2' })]), 'links.0.b.ipv4'],
    ['bad ipv6', withLinks([ab({ ipv6: 'fd00::1/200' })]), 'links.0.a.ipv6'],
    ['long interface name', withLinks([{ ...ab(), name: 'abcdefghijklmnop' }]), 'links.0.name'],
    ['duplicate link', withLinks([ab(), ab()]), 'links.1.name: duplicate link name "ab"'],
    ['duplicate ifname on a node', withLinks([ab(), { ...ab({ ifname: 'ab' }), name: 'ab2' }]), 'links.1.a.ifname: interface "ab" already used on node "a"'],
    ['negative rate', withLinks([{ ...ab(), rateMbit: -1 }]), 'links.0.rateMbit'],
    ['loss over 100', withLinks([ab({ lossPercent: 101 })]), 'links.0.a.lossPercent'],
    ['unknown key', withLinks([{ ...ab(), delayMs: 5 }]), 'links.0'],
    ['route to unknown node', withLinks([ab()], [{ node: 'z', to: 'default', via: '10.0.0.1' }]), 'routes.0.node: unknown node "z"'],
    ['unreachable gateway', withLinks([ab()], [{ node: 'a', to: 'default', via: '10.5.0.1' }]), 'routes.0.via: gateway 10.5.0.1 is not in the prefix of any link of node "a"'],
    ['route without via or dev', withLinks([ab()], [{ node: 'a', to: 'default' }]), 'routes.0.via: a route needs "via" or "dev"'],
    ['route over a foreign link', withLinks([ab()], [{ node: 'a', to: 'default', dev: 'cd' }]), 'routes.0.dev: node "a" has no link "cd"'],
    ['family mismatch', withLinks([ab()], [{ node: 'a', to: 'default6', via: '10.0.0.2' }]), 'routes.0.via: gateway 10.0.0.2 is IPv4'],
    ['bad route destination', withLinks([ab()], [{ node: 'a', to: 'somewhere', via: '10.0.0.2' }]), 'routes.0.to'],
    ['bad node name', { nodes: { Bad_Name: {} } }, 'nodes.Bad_Name'],
    ['no nodes', { nodes: {} }, 'nodes: at least one node is required'],
    ['not an object', 42, '(root)'],
  ])('rejects %s naming the path', (_name, input, expected) => {
    expect(problemOf(input)).toContain(expected);
  });

  it('lists every problem with its path in details', () => {
    try {
      parseSpec(withLinks([ab({ node: 'x', ipv4: 'nope' })]));
      expect.unreachable();
    } catch (err) {
      const details = (err as { details?: { problems?: { path: string }[] } }).details;
      expect(details?.problems?.map((p) => p.path)).toEqual(expect.arrayContaining(['links.0.a.ipv4', 'links.0.a.node']));
    }
  });
});

describe('parseCidr', () => {
  it('splits address and prefix and checks the family', () => {
    expect(parseCidr('10.0.0.1/24', 4)).toEqual({ address: '10.0.0.1', prefix: 24 });
    expect(parseCidr('fd00::1/64', 6)).toEqual({ address: 'fd00::1', prefix: 64 });
    expect(parseCidr('fd00::1/64', 4)).toBeUndefined();
    expect(parseCidr('10.0.0.1/33', 4)).toBeUndefined();
    expect(parseCidr('10.0.0.1', 4)).toBeUndefined();
    expect(parseCidr('10.0.0.1/x', 4)).toBeUndefined();
  });
});

describe('loadSpecFile', () => {
  it('reads a JSON file and reports bad JSON or a missing file as NETLAB_SPEC_INVALID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-spec-'));
    try {
      writeFileSync(join(dir, 'good.json'), JSON.stringify(good));
      writeFileSync(join(dir, 'bad.json'), '{ nodes: ');
      expect((await loadSpecFile(join(dir, 'good.json'))).links).toHaveLength(2);
      await expect(loadSpecFile(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'NETLAB_SPEC_INVALID', message: expect.stringContaining('bad.json') });
      await expect(loadSpecFile(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'NETLAB_SPEC_INVALID' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
