/**
 * Uplink candidates from `ip -j addr show` and `ip -j route show default` (both families), and
 * the events between two snapshots. Pure functions: discovery.ts feeds them, tests feed them
 * recorded JSON.
 *
 * A candidate is a non-loopback interface with at least one usable global address (not
 * tentative, not failed DAD), passing the include/exclude globs. Its default gateway is the
 * lowest-metric default route of the main table through it (multipath next hops count).
 */
import { matchesAny } from './glob.js';

/** A global address of an uplink. */
export interface UplinkAddress {
  address: string;
  prefixLength: number;
  family: 4 | 6;
}

/** An interface that can carry a link. */
export interface UplinkCandidate {
  name: string;
  index: number;
  /** The label of the first matching `labels` pattern. */
  label: string | undefined;
  /** Administratively up with carrier (flags UP and LOWER_UP). */
  up: boolean;
  /** The kernel's operstate (`UP`, `DOWN`, `LOWERLAYERDOWN`, `UNKNOWN` for tun/ppp...). */
  operState: string;
  mtu: number;
  /** Usable global addresses, IPv4 first, in address order. */
  addresses: readonly UplinkAddress[];
  /** Next hop of the main table's IPv4 default route through this interface. */
  gateway4: string | undefined;
  gateway6: string | undefined;
  /** A default route goes through this interface (with or without a next hop: point-to-point). */
  defaultRoute4: boolean;
  defaultRoute6: boolean;
}

/** What changed between two snapshots of one candidate. */
export type UplinkChange = 'addresses' | 'up' | 'gateway' | 'mtu' | 'label' | 'index';

/** A discovery event. */
export interface UplinkEvent {
  type: 'added' | 'removed' | 'changed';
  uplink: UplinkCandidate;
  /** The candidate before the change (changed, removed). */
  previous: UplinkCandidate | undefined;
  /** For `changed`: what changed. Empty for added/removed. */
  changes: readonly UplinkChange[];
}

/** Filters of a snapshot, compiled from discovery's init. */
export interface UplinkFilters {
  include: readonly RegExp[];
  exclude: readonly RegExp[];
  labels: readonly (readonly [RegExp, string])[];
}

/** The part of `ip -j addr show` read here. */
export interface IpAddrJson {
  ifindex?: number;
  ifname?: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number; scope?: string; tentative?: boolean; dadfailed?: boolean }[];
}

/** The part of `ip -j route show default` read here. */
export interface IpRouteJson {
  dst?: string;
  gateway?: string;
  dev?: string;
  metric?: number;
  nexthops?: { gateway?: string; dev?: string }[];
}

/**
 * Builds the candidate map (by name) from one read of addresses and default routes.
 *
 * @example
 * const next = buildSnapshot(addrJson, routes4, routes6, filters);
 */
export function buildSnapshot(addrs: readonly IpAddrJson[], routes4: readonly IpRouteJson[], routes6: readonly IpRouteJson[], filters: UplinkFilters): Map<string, UplinkCandidate> {
  const gw4 = gatewaysByDevice(routes4);
  const gw6 = gatewaysByDevice(routes6);
  const out = new Map<string, UplinkCandidate>();
  for (const link of addrs) {
    const name = link.ifname;
    const flags = link.flags ?? [];
    if (name === undefined || flags.includes('LOOPBACK')) continue;
    if (filters.include.length > 0 && !matchesAny(name, filters.include)) continue;
    if (matchesAny(name, filters.exclude)) continue;
    const addresses: UplinkAddress[] = [];
    for (const a of link.addr_info ?? []) {
      if (a.scope !== 'global' || a.local === undefined || a.tentative === true || a.dadfailed === true) continue;
      if (a.family !== 'inet' && a.family !== 'inet6') continue;
      addresses.push({ address: a.local, prefixLength: a.prefixlen ?? (a.family === 'inet' ? 32 : 128), family: a.family === 'inet' ? 4 : 6 });
    }
    if (addresses.length === 0) continue;
    addresses.sort((x, y) => x.family - y.family || (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
    const r4 = gw4.get(name);
    const r6 = gw6.get(name);
    out.set(name, {
      name,
      index: link.ifindex ?? 0,
      label: labelFor(name, filters.labels),
      up: flags.includes('UP') && flags.includes('LOWER_UP'),
      operState: link.operstate ?? 'UNKNOWN',
      mtu: link.mtu ?? 0,
      addresses,
      gateway4: r4?.gateway,
      gateway6: r6?.gateway,
      defaultRoute4: r4 !== undefined,
      defaultRoute6: r6 !== undefined,
    });
  }
  return out;
}

/**
 * The events that turn `previous` into `next`: removed first, then changed, then added.
 *
 * @example
 * for (const event of diffSnapshots(before, after)) emit(event.type, event);
 */
export function diffSnapshots(previous: ReadonlyMap<string, UplinkCandidate>, next: ReadonlyMap<string, UplinkCandidate>): UplinkEvent[] {
  const events: UplinkEvent[] = [];
  for (const [name, old] of previous) {
    if (!next.has(name)) events.push({ type: 'removed', uplink: old, previous: old, changes: [] });
  }
  for (const [name, now] of next) {
    const old = previous.get(name);
    if (old === undefined) continue;
    const changes = changesBetween(old, now);
    if (changes.length > 0) events.push({ type: 'changed', uplink: now, previous: old, changes });
  }
  for (const [name, now] of next) {
    if (!previous.has(name)) events.push({ type: 'added', uplink: now, previous: undefined, changes: [] });
  }
  return events;
}

function changesBetween(a: UplinkCandidate, b: UplinkCandidate): UplinkChange[] {
  const changes: UplinkChange[] = [];
  if (a.addresses.length !== b.addresses.length || a.addresses.some((x, i) => x.address !== b.addresses[i]!.address || x.prefixLength !== b.addresses[i]!.prefixLength)) {
    changes.push('addresses');
  }
  if (a.up !== b.up || a.operState !== b.operState) changes.push('up');
  if (a.gateway4 !== b.gateway4 || a.gateway6 !== b.gateway6 || a.defaultRoute4 !== b.defaultRoute4 || a.defaultRoute6 !== b.defaultRoute6) changes.push('gateway');
  if (a.mtu !== b.mtu) changes.push('mtu');
  if (a.label !== b.label) changes.push('label');
  if (a.index !== b.index) changes.push('index');
  return changes;
}

function gatewaysByDevice(routes: readonly IpRouteJson[]): Map<string, { gateway: string | undefined; metric: number }> {
  const out = new Map<string, { gateway: string | undefined; metric: number }>();
  const offer = (dev: string | undefined, gateway: string | undefined, metric: number): void => {
    if (dev === undefined) return;
    const known = out.get(dev);
    if (known === undefined || metric < known.metric) out.set(dev, { gateway, metric });
  };
  for (const r of routes) {
    if (r.dst !== 'default') continue;
    const metric = r.metric ?? 0;
    if (r.nexthops !== undefined) for (const hop of r.nexthops) offer(hop.dev, hop.gateway, metric);
    else offer(r.dev, r.gateway, metric);
  }
  return out;
}

function labelFor(name: string, labels: UplinkFilters['labels']): string | undefined {
  for (const [pattern, label] of labels) if (pattern.test(name)) return label;
  return undefined;
}
