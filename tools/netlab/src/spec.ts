/**
 * The declarative topology spec (nodes, links, routes, sysctls, link impairments), its zod
 * schema and the cross-field checks zod cannot express alone: links name known nodes, routes
 * reach their gateway through one of the node's links, names fit Linux limits. Every failure
 * becomes NETLAB_SPEC_INVALID naming the path (`links.0.a.node`).
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { NetlabError } from './errors.js';

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const MAX_IFNAME_LENGTH = 15;
/** Node names end up in namespace names (`ebx-<runid>-<node>`); keep them short and plain. */
export const MAX_NODE_NAME_LENGTH = 12;

const nodeName = z.string().regex(/^[a-z][a-z0-9]*$/, 'lower-case letters and digits, starting with a letter').max(MAX_NODE_NAME_LENGTH);
const ifName = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'lower-case letters, digits, _ or -, starting with a letter').max(MAX_IFNAME_LENGTH);
const mbit = z.number().positive().max(100_000);
const percent = z.number().min(0).max(100);
const sysctlValue = z.union([z.string(), z.number()]);

const cidr = (family: 4 | 6) =>
  z.string().refine((s) => parseCidr(s, family) !== undefined, family === 4 ? 'an IPv4 address with prefix, e.g. 10.0.0.1/24' : 'an IPv6 address with prefix, e.g. fd00::1/64');

const nodeSchema = z.strictObject({
  /** Shorthand for net.ipv4.ip_forward=1 and net.ipv6.conf.all.forwarding=1. */
  forward: z.boolean().optional(),
  /** Written with `sysctl -w` inside the node's namespace, e.g. {"net.ipv4.ip_forward": 1}. */
  sysctls: z.record(z.string().regex(/^[a-z0-9_.]+$/, 'a sysctl key like net.ipv4.ip_forward'), sysctlValue).optional(),
});

const endSchema = z.strictObject({
  node: nodeName,
  /** Interface name inside the node; default: the link name. */
  ifname: ifName.optional(),
  ipv4: cidr(4).optional(),
  ipv6: cidr(6).optional(),
  /** Egress rate of this end in Mbit/s (tc tbf); overrides the link's rateMbit. */
  rateMbit: mbit.optional(),
  /** Share of packets this end drops on egress (nftables numgen); overrides the link's lossPercent. */
  lossPercent: percent.optional(),
});

const linkSchema = z.strictObject({
  name: ifName,
  a: endSchema,
  b: endSchema,
  mtu: z.number().int().min(576).max(65535).optional(),
  /** Egress rate of both ends in Mbit/s. */
  rateMbit: mbit.optional(),
  /** Egress loss of both ends in percent. */
  lossPercent: percent.optional(),
});

const routeSchema = z.strictObject({
  node: nodeName,
  /** `default` or a destination prefix (IPv4 or IPv6). */
  to: z.union([z.literal('default'), z.literal('default6'), cidr(4), cidr(6)]),
  /** Gateway address; it must lie in the prefix of one of the node's links. */
  via: z.string().refine((s) => isIPv4(s) || isIPv6(s), 'an IPv4 or IPv6 address').optional(),
  /** Link name to route over (required without `via`). */
  dev: ifName.optional(),
});

/** The zod schema of a lab spec; {@link parseSpec} adds the cross-field checks. */
export const labSpecSchema = z
  .strictObject({
    nodes: z.record(nodeName, nodeSchema),
    links: z.array(linkSchema).default([]),
    routes: z.array(routeSchema).default([]),
  })
  .superRefine((spec, ctx) => {
    const nodes = new Set(Object.keys(spec.nodes));
    if (nodes.size === 0) ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'at least one node is required' });
    const linkNames = new Set<string>();
    const ifnames = new Map<string, string>();
    spec.links.forEach((link, i) => {
      if (linkNames.has(link.name)) ctx.addIssue({ code: 'custom', path: ['links', i, 'name'], message: `duplicate link name "${link.name}"` });
      linkNames.add(link.name);
      for (const side of ['a', 'b'] as const) {
        const end = link[side];
        if (!nodes.has(end.node)) {
          ctx.addIssue({ code: 'custom', path: ['links', i, side, 'node'], message: `unknown node "${end.node}" (expected one of ${[...nodes].join(', ')})` });
        }
        const key = `${end.node}/${end.ifname ?? link.name}`;
        if (ifnames.has(key)) {
          ctx.addIssue({ code: 'custom', path: ['links', i, side, 'ifname'], message: `interface "${end.ifname ?? link.name}" already used on node "${end.node}" by link ${ifnames.get(key)}` });
        }
        ifnames.set(key, link.name);
      }
      if (link.a.node === link.b.node) {
        ctx.addIssue({ code: 'custom', path: ['links', i, 'b', 'node'], message: `link "${link.name}" connects node "${link.a.node}" to itself` });
      }
    });
    spec.routes.forEach((route, i) => {
      if (!nodes.has(route.node)) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'node'], message: `unknown node "${route.node}" (expected one of ${[...nodes].join(', ')})` });
        return;
      }
      if (route.via === undefined && route.dev === undefined) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'via'], message: 'a route needs "via" or "dev"' });
        return;
      }
      const local = spec.links.filter((l) => l.a.node === route.node || l.b.node === route.node);
      if (route.dev !== undefined && !local.some((l) => l.name === route.dev)) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'dev'], message: `node "${route.node}" has no link "${route.dev}"` });
        return;
      }
      if (route.via !== undefined) {
        const family = isIPv4(route.via) ? 4 : 6;
        const toFamily = route.to === 'default' ? 4 : route.to === 'default6' ? 6 : isIPv4(route.to.split('/')[0] ?? '') ? 4 : 6;
        if (family !== toFamily) {
          ctx.addIssue({ code: 'custom', path: ['routes', i, 'via'], message: `gateway ${route.via} is IPv${family} but destination ${route.to} is IPv${toFamily}` });
          return;
        }
        if (route.dev === undefined && findLinkFor(spec.links, route.node, route.via) === undefined) {
          ctx.addIssue({ code: 'custom', path: ['routes', i, 'via'], message: `gateway ${route.via} is not in the prefix of any link of node "${route.node}"` });
        }
      }
    });
  });

/** A lab spec as written (input to {@link parseSpec}). */
export type LabSpecInput = z.input<typeof labSpecSchema>;
/** A validated lab spec. */
export type LabSpec = z.output<typeof labSpecSchema>;
export type LinkSpec = LabSpec['links'][number];
export type LinkEndSpec = LinkSpec['a'];
export type RouteSpec = LabSpec['routes'][number];

/**
 * Validates a spec; throws NETLAB_SPEC_INVALID whose message names every bad path.
 *
 * @example
 * const spec = parseSpec({ nodes: { a: {}, b: {} }, links: [{ name: 'ab', a: { node: 'a', ipv4: '10.0.0.1/24' }, b: { node: 'b', ipv4: '10.0.0.2/24' } }] });
 */
export function parseSpec(input: unknown): LabSpec {
  const result = labSpecSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const text = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  throw new NetlabError('NETLAB_SPEC_INVALID', `lab spec invalid: ${text}`, { details: { problems } });
}

/**
 * Reads and validates a JSON spec file; a read or JSON error is NETLAB_SPEC_INVALID too.
 *
 * @example
 * const spec = await loadSpecFile('two-nodes.json');
 */
export async function loadSpecFile(path: string): Promise<LabSpec> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new NetlabError('NETLAB_SPEC_INVALID', `lab spec ${path}: ${(err as Error).message}`, { cause: err, details: { file: path } });
  }
  return parseSpec(raw);
}

/** `10.0.0.1/24` -> { address, prefix }; undefined when malformed or the wrong family. */
export function parseCidr(text: string, family: 4 | 6): { address: string; prefix: number } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (family === 4 ? !isIPv4(address) || prefix > 32 : !isIPv6(address) || prefix > 128) return undefined;
  return { address, prefix };
}

/** The link of `node` whose address prefix contains `gateway`, if any. */
export function findLinkFor(links: readonly LinkSpec[], node: string, gateway: string): LinkSpec | undefined {
  const family = isIPv4(gateway) ? 4 : 6;
  for (const link of links) {
    for (const end of [link.a, link.b]) {
      if (end.node !== node) continue;
      const text = family === 4 ? end.ipv4 : end.ipv6;
      const c = text === undefined ? undefined : parseCidr(text, family);
      if (c === undefined) continue;
      const list = new BlockList();
      list.addSubnet(c.address, c.prefix, family === 4 ? 'ipv4' : 'ipv6');
      if (list.check(gateway, family === 4 ? 'ipv4' : 'ipv6')) return link;
    }
  }
  return undefined;
}
