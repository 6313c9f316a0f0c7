/**
 * Per-interface policy routing, IPv4 and IPv6: traffic from (and to) an interface's addresses
 * uses that interface's own table, whatever the main table says.
 *
 *   tables     one number per interface NAME (never the ifindex: a re-created interface keeps
 *              its table), allocated lowest-free in `routing.tables`, persisted in
 *              `<dataDir>/tables.json` (written to a temp file, fsynced, renamed)
 *   rules      per global address:  from <ip> lookup <table>  priority P.min      protocol 236
 *                                   to <ip>   lookup <table>  priority P.min + 1
 *   routes     default [via <gateway>] dev <if> table <table> proto 236, per family with an
 *              address; gateway from the config, else the main table's default via that
 *              interface, else the hint (a DHCP lease's router), else on-link
 *   ecmp       one multipath default across the live members of `routing.ecmp.interfaces`
 *   reconcile  desired (config + live interfaces) vs the kernel's (`ip -j rule`, `ip -j route
 *              show table all proto 236`): what is ours and not desired is deleted, what is
 *              desired and missing is added. Ours = our protocol AND (rules) a priority in the
 *              owned range: another daemon's rule is never touched, and every delete names the
 *              protocol, so the kernel itself refuses to delete a look-alike.
 *   dry run    reads happen; every change is logged ("would run ip ...") instead of made
 *
 * An interface is live when it has carrier (carrier, degraded, routable, configured,
 * activated); its link-local addresses get no rules.
 */
import { open, mkdir, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isIP } from 'node:net';
import type { Logger } from '@edgebox/runtime';
import type { NetevdConfig, RoutedInterfaceConfig } from './config.js';
import { TABLES_FILE } from './constants.js';
import { NetevdError, invalidArgument } from './errors.js';
import { ipJson, runIp } from './ip-command.js';
import type { IpRouteJson, IpRuleJson, IpRunner } from './ip-command.js';

/** What routing needs to know about an interface. */
export interface RoutingInterface {
  name: string;
  state: string;
  addresses: readonly string[];
}

/** One policy rule. */
export type PolicyRule = {
  family: 4 | 6;
  priority: number;
  selector: 'from' | 'to';
  address: string;
  table: number;
  interface: string | null;
};

/** One default route (a single next hop, or several for ECMP). */
export type PolicyRoute = {
  family: 4 | 6;
  table: number;
  metric: number | null;
  nexthops: { dev: string; gateway: string | null }[];
  interface: string | null;
};

/** The result of one reconcile. */
export type ReconcileResult = {
  at: string;
  dryRun: boolean;
  added: string[];
  removed: string[];
  errors: string[];
  rules: PolicyRule[];
  routes: PolicyRoute[];
};

/** Persisted table allocations. */
export interface TableStore {
  readonly file: string;
  /** Allocated numbers by interface name. */
  all(): Record<string, number>;
  /** The table of `name`, allocating (and persisting) one when it has none. */
  tableOf(name: string): Promise<number>;
}

const LIVE_STATES = new Set(['carrier', 'degraded', 'routable', 'configured', 'activated', 'enslaved']);

/**
 * Load (or create) the table allocation file. A file that does not parse is
 * NETEVD_STATE_FILE (never silently replaced: allocations would move).
 *
 * @example const store = await openTableStore('/var/lib/netevd', { min: 1000, max: 1999 });
 */
export async function openTableStore(dataDir: string, range: { min: number; max: number }): Promise<TableStore> {
  const file = join(dataDir, TABLES_FILE);
  let tables: Record<string, number> = {};
  try {
    const text = await readFile(file, 'utf8');
    const doc = JSON.parse(text) as { version?: unknown; tables?: unknown };
    if (doc.version !== 1 || typeof doc.tables !== 'object' || doc.tables === null) throw new Error('expected {"version":1,"tables":{name:number}}');
    for (const [k, v] of Object.entries(doc.tables as Record<string, unknown>)) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`table of ${k} is ${JSON.stringify(v)}, expected a positive integer`);
      tables[k] = v;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new NetevdError('NETEVD_STATE_FILE', `table file ${file} is unreadable: ${(err as Error).message}`, { cause: err, details: { file } });
    }
    tables = {};
  }
  let writing: Promise<void> = Promise.resolve();
  async function persist(): Promise<void> {
    const text = `${JSON.stringify({ version: 1, tables }, null, 2)}\n`;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o755 });
      const fh = await open(tmp, 'w', 0o644);
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
      const dir = await open(dirname(file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (err) {
      throw new NetevdError('NETEVD_STATE_FILE', `table file ${file} cannot be written: ${(err as Error).message}`, { cause: err, details: { file } });
    }
  }
  return {
    file,
    all: () => ({ ...tables }),
    async tableOf(name) {
      const have = tables[name];
      if (have !== undefined) return have;
      const used = new Set(Object.values(tables));
      let n = range.min;
      while (n <= range.max && (used.has(n) || n === 253 || n === 254 || n === 255)) n++;
      if (n > range.max) throw new NetevdError('NETEVD_TABLES_EXHAUSTED', `no free routing table in ${range.min}..${range.max} for ${name}: ${used.size} allocated`, { details: { name, ...range } });
      tables[name] = n;
      const w = writing.then(persist);
      writing = w.catch(() => undefined);
      await w;
      return n;
    },
  };
}

/** Family of an address (`10.0.0.2/24` → 4), 0 when it is none. */
function familyOf(address: string): 0 | 4 | 6 {
  return isIP(address.split('/')[0]!) as 0 | 4 | 6;
}

/**
 * Global addresses only: IPv4 link-local (169.254/16) and IPv6 fe80::/10 get no rules.
 *
 * @example isRoutableAddress('fe80::1/64'); // false
 */
export function isRoutableAddress(address: string): boolean {
  const ip = address.split('/')[0]!.toLowerCase();
  const f = isIP(ip);
  if (f === 4) return !ip.startsWith('169.254.') && !ip.startsWith('127.');
  if (f === 6) return !/^fe[89ab]/.test(ip) && ip !== '::1';
  return false;
}

/**
 * Normalise an IPv6 address as the kernel prints it.
 *
 * @example canonicalIp('fd00:0::1'); // 'fd00::1'
 */
export function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

const ruleKey = (r: PolicyRule): string => `${r.family}|${r.priority}|${r.selector}|${canonicalIp(r.address)}|${r.table}`;
// The kernel gives IPv6 routes metric 1024 and IPv4 routes 0 when none is asked for.
const metricOf = (r: PolicyRoute): number => r.metric ?? (r.family === 6 ? 1024 : 0);
const routeKey = (r: PolicyRoute): string => `${r.family}|${r.table}|${metricOf(r)}|${r.nexthops.map((n) => `${n.dev}>${n.gateway === null ? '' : canonicalIp(n.gateway)}`).sort().join(',')}`;

/** Options of createPolicyRouting. */
export interface PolicyRoutingInit {
  config: NetevdConfig;
  logger: Logger;
  store: TableStore;
  ip?: IpRunner;
  /** A gateway to use when the config names none and the main table has no default via the interface (a DHCP lease's router). */
  gatewayHint?: (name: string, family: 4 | 6) => string | null;
}

/** The routing manager. */
export interface PolicyRouting {
  /** Bring the kernel in line with the config and these interfaces (serialised). */
  reconcile(interfaces: readonly RoutingInterface[]): Promise<ReconcileResult>;
  /** Remove everything that is ours (stop with `routing.cleanupOnStop`, tests). */
  removeAll(): Promise<ReconcileResult>;
  reconfigure(config: NetevdConfig): void;
  /** The kernel's rules and routes that are ours now. */
  current(): Promise<{ rules: PolicyRule[]; routes: PolicyRoute[] }>;
  last(): ReconcileResult | null;
  tables(): Record<string, number>;
  stats(): { reconciles: number; errors: number; added: number; removed: number; rules: number; routes: number };
}

/**
 * Create the routing manager.
 *
 * @example
 * const routing = createPolicyRouting({ config, logger, store: await openTableStore(config.dataDir, config.routing.tables) });
 * await routing.reconcile([{ name: 'wan0', state: 'routable', addresses: ['192.0.2.10/24'] }]);
 */
export function createPolicyRouting(init: PolicyRoutingInit): PolicyRouting {
  const realIp = init.ip ?? runIp;
  const log = init.logger;
  let config = init.config;
  let lastResult: ReconcileResult | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  const counters = { reconciles: 0, errors: 0, added: 0, removed: 0, rules: 0, routes: 0 };

  const netns = (): { netns?: string } => (config.netns === undefined ? {} : { netns: config.netns });
  const read = <T>(args: string[]): Promise<T> => ipJson<T>(realIp, args, netns());

  async function change(args: string[], result: ReconcileResult, what: 'added' | 'removed', label: string): Promise<void> {
    if (config.dryRun) {
      log.info({ command: `ip ${args.join(' ')}` }, `dry run: would ${what === 'added' ? 'add' : 'remove'} ${label}`);
      result[what].push(label);
      return;
    }
    try {
      await realIp(args, netns());
      result[what].push(label);
      counters[what]++;
      log.info({ command: `ip ${args.join(' ')}` }, `policy routing: ${what} ${label}`);
    } catch (err) {
      counters.errors++;
      result.errors.push(`${label}: ${(err as Error).message}`);
      log.warn({ err }, `policy routing: could not ${what === 'added' ? 'add' : 'remove'} ${label}`);
    }
  }

  async function currentState(): Promise<{ rules: PolicyRule[]; routes: PolicyRoute[] }> {
    const proto = String(config.routing.protocol);
    const { min, max } = config.routing.priorities;
    const rules: PolicyRule[] = [];
    const routes: PolicyRoute[] = [];
    for (const family of [4, 6] as const) {
      const rs = await read<IpRuleJson[]>([`-${family}`, 'rule', 'show']);
      for (const r of rs) {
        if (r.protocol !== proto || r.priority < min || r.priority > max) continue;
        const table = Number(r.table);
        if (r.src !== undefined && r.src !== 'all' && r.dst === undefined) rules.push({ family, priority: r.priority, selector: 'from', address: r.src, table, interface: null });
        else if (r.dst !== undefined && (r.src === undefined || r.src === 'all')) rules.push({ family, priority: r.priority, selector: 'to', address: r.dst, table, interface: null });
        else rules.push({ family, priority: r.priority, selector: 'from', address: `${r.src ?? 'all'}>${r.dst ?? 'all'}`, table, interface: null }); // ours but not a shape we make: stale
      }
      const ts = await read<IpRouteJson[]>([`-${family}`, 'route', 'show', 'table', 'all', 'proto', proto]);
      for (const r of ts) {
        if (r.dst !== 'default') continue;
        const table = r.table === undefined || r.table === 'main' ? 254 : Number(r.table);
        const nexthops = r.nexthops !== undefined ? r.nexthops.map((n) => ({ dev: n.dev ?? '', gateway: n.gateway ?? null })) : [{ dev: r.dev ?? '', gateway: r.gateway ?? null }];
        routes.push({ family, table, metric: r.metric ?? null, nexthops, interface: null });
      }
    }
    return { rules, routes };
  }

  async function gatewayOf(ifc: RoutedInterfaceConfig, family: 4 | 6): Promise<string | null> {
    const fixed = family === 4 ? ifc.gateway4 : ifc.gateway6;
    if (fixed !== undefined) return fixed;
    try {
      const rs = await read<IpRouteJson[]>([`-${family}`, 'route', 'show', 'default', 'dev', ifc.name]);
      for (const r of rs) if (r.gateway !== undefined) return r.gateway;
    } catch {
      // The interface vanished between the event and now: on-link.
    }
    return init.gatewayHint?.(ifc.name, family) ?? null;
  }

  async function desiredState(interfaces: readonly RoutingInterface[]): Promise<{ rules: PolicyRule[]; routes: PolicyRoute[] }> {
    const byName = new Map(interfaces.map((i) => [i.name, i]));
    const rules: PolicyRule[] = [];
    const routes: PolicyRoute[] = [];
    const ecmpHops: Record<4 | 6, { dev: string; gateway: string | null }[]> = { 4: [], 6: [] };
    const { min } = config.routing.priorities;
    for (const ifc of config.routing.interfaces) {
      const live = byName.get(ifc.name);
      if (live === undefined || !LIVE_STATES.has(live.state)) continue;
      const addrs = live.addresses.filter(isRoutableAddress);
      if (addrs.length === 0) continue;
      const table = await init.store.tableOf(ifc.name);
      const families = new Set<4 | 6>();
      for (const a of addrs) {
        const family = familyOf(a) as 4 | 6;
        families.add(family);
        const ip = canonicalIp(a.split('/')[0]!);
        if (ifc.from) rules.push({ family, priority: min, selector: 'from', address: ip, table, interface: ifc.name });
        if (ifc.to) rules.push({ family, priority: min + 1, selector: 'to', address: ip, table, interface: ifc.name });
      }
      for (const family of families) {
        const gateway = await gatewayOf(ifc, family);
        if (ifc.defaultRoute) routes.push({ family, table, metric: null, nexthops: [{ dev: ifc.name, gateway }], interface: ifc.name });
        if (config.routing.ecmp?.interfaces.includes(ifc.name) === true) ecmpHops[family].push({ dev: ifc.name, gateway });
      }
    }
    const ecmp = config.routing.ecmp;
    if (ecmp !== undefined) {
      for (const family of [4, 6] as const) {
        if (ecmpHops[family].length > 0) routes.push({ family, table: ecmp.table, metric: ecmp.metric, nexthops: ecmpHops[family], interface: null });
      }
    }
    return { rules, routes };
  }

  function ruleArgs(op: 'add' | 'del', r: PolicyRule): string[] {
    return [`-${r.family}`, 'rule', op, r.selector, r.address, 'table', String(r.table), 'priority', String(r.priority), 'protocol', String(config.routing.protocol)];
  }

  function routeArgs(op: 'replace' | 'del', r: PolicyRoute): string[] {
    const base = [`-${r.family}`, 'route', op, 'default', 'table', String(r.table), 'proto', String(config.routing.protocol)];
    if (r.metric !== null) base.push('metric', String(r.metric));
    if (op === 'del') return base;
    if (r.nexthops.length === 1) {
      const h = r.nexthops[0]!;
      return [...base, ...(h.gateway === null ? [] : ['via', h.gateway]), 'dev', h.dev, ...(h.gateway === null ? ['scope', 'link'] : [])];
    }
    const hops: string[] = [];
    for (const h of r.nexthops) hops.push('nexthop', ...(h.gateway === null ? [] : ['via', h.gateway]), 'dev', h.dev, 'weight', '1');
    return [...base, ...hops];
  }

  const describeRule = (r: PolicyRule): string => `rule ${r.priority}: ${r.selector} ${r.address} lookup ${r.table}`;
  const describeRoute = (r: PolicyRoute): string => `route default table ${r.table}${r.metric === null ? '' : ` metric ${r.metric}`} ${r.nexthops.map((h) => `${h.gateway === null ? '' : `via ${h.gateway} `}dev ${h.dev}`).join(' + ')}`;

  async function apply(desired: { rules: PolicyRule[]; routes: PolicyRoute[] }): Promise<ReconcileResult> {
    const result: ReconcileResult = { at: new Date().toISOString(), dryRun: config.dryRun, added: [], removed: [], errors: [], rules: desired.rules, routes: desired.routes };
    let actual: { rules: PolicyRule[]; routes: PolicyRoute[] };
    try {
      actual = await currentState();
    } catch (err) {
      counters.errors++;
      result.errors.push(`reading rules and routes: ${(err as Error).message}`);
      return result;
    }
    const wantRules = new Set(desired.rules.map(ruleKey));
    const haveRules = new Set(actual.rules.map(ruleKey));
    const wantRoutes = new Map(desired.routes.map((r) => [routeKey(r), r]));
    const haveRoutes = new Set(actual.routes.map(routeKey));
    for (const r of actual.rules) {
      if (wantRules.has(ruleKey(r))) continue;
      if (r.address.includes('>')) {
        const [src, dst] = r.address.split('>') as [string, string];
        await change([`-${r.family}`, 'rule', 'del', 'from', src, 'to', dst, 'priority', String(r.priority), 'protocol', String(config.routing.protocol)], result, 'removed', describeRule(r));
      } else {
        await change(ruleArgs('del', r), result, 'removed', describeRule(r));
      }
    }
    // A stale route in a table we still want is replaced below, not deleted first (no gap).
    const wantedTables = new Set(desired.routes.map((r) => `${r.family}|${r.table}|${metricOf(r)}`));
    for (const r of actual.routes) {
      if (wantRoutes.has(routeKey(r)) || wantedTables.has(`${r.family}|${r.table}|${metricOf(r)}`)) continue;
      await change(routeArgs('del', r), result, 'removed', describeRoute(r));
    }
    for (const r of desired.routes) {
      if (!haveRoutes.has(routeKey(r))) await change(routeArgs('replace', r), result, 'added', describeRoute(r));
    }
    for (const r of desired.rules) {
      if (!haveRules.has(ruleKey(r))) await change(ruleArgs('add', r), result, 'added', describeRule(r));
    }
    counters.reconciles++;
    counters.rules = desired.rules.length;
    counters.routes = desired.routes.length;
    lastResult = result;
    return result;
  }

  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = chain.then(fn, fn);
    chain = p.catch(() => undefined);
    return p;
  }

  return {
    reconcile(interfaces) {
      return serial(async () => {
        let desired;
        try {
          desired = await desiredState(interfaces);
        } catch (err) {
          counters.errors++;
          const result: ReconcileResult = { at: new Date().toISOString(), dryRun: config.dryRun, added: [], removed: [], errors: [(err as Error).message], rules: [], routes: [] };
          lastResult = result;
          return result;
        }
        return apply(desired);
      });
    },
    removeAll() {
      return serial(() => apply({ rules: [], routes: [] }));
    },
    reconfigure(next) {
      config = next;
    },
    current: () => serial(currentState),
    last: () => lastResult,
    tables: () => init.store.all(),
    stats: () => ({ ...counters }),
  };
}

/**
 * Throws NETEVD_INVALID_ARGUMENT unless `n` is a usable table number.
 *
 * @example checkTable(1000); // 1000; checkTable(254) throws (main)
 */
export function checkTable(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1 || n > 0xffff_fffe || n === 253 || n === 254 || n === 255) throw invalidArgument('table', n, 'a table number 1..4294967294 other than 253, 254, 255');
  return n;
}
