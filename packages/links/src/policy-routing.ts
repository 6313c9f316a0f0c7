/**
 * Source-based policy routing for uplinks: packets from an uplink's address leave by that
 * uplink, whatever the main table says. Per uplink and address family:
 *
 *   ip rule add from <source> table <N> priority <P> protocol 235
 *   ip route replace default [via <gateway>] dev <device> table <N> proto 235
 *
 * A UDP socket bound to <source> then has its packets routed by table N (Node's dgram has no
 * SO_BINDTODEVICE, so the source address is the only handle the kernel gets).
 *
 * Ours and nobody else's: every rule and route we add carries protocol {@link
 * POLICY_ROUTE_PROTOCOL}, rule priorities stay inside {@link POLICY_RULE_PRIORITY_MIN}..{@link
 * POLICY_RULE_PRIORITY_MAX}, and every delete names that protocol, so the kernel itself refuses
 * to delete a rule or route someone else installed. Install is idempotent (an identical rule
 * is kept, the route is replaced); a table whose default route belongs to someone else is a
 * LINKS_ROUTE_CONFLICT, never overwritten.
 */
import { isIP } from 'node:net';
import { LinksError } from './errors.js';
import { checkNetns, runIp, runIpJson } from './ip-command.js';

/** Routing protocol number tagging our rules and routes (`proto 235`; unassigned in rt_protos). */
export const POLICY_ROUTE_PROTOCOL = 235;
/** Lowest rule priority we use (below main's 32766, clear of the common 0-1000 range). */
export const POLICY_RULE_PRIORITY_MIN = 20000;
/** Highest rule priority we use. */
export const POLICY_RULE_PRIORITY_MAX = 20999;

const IFNAME_PATTERN = /^[A-Za-z0-9_.:@-]{1,15}$/;
const RESERVED_TABLES = new Set([0, 253, 254, 255]);

/** What {@link installSourceRoute} installs: one uplink address, its table and rule priority. */
export interface SourceRouteInit {
  /** The uplink's local address (IPv4 or IPv6, no prefix); the rule matches exactly it. */
  source: string;
  /** Routing table number: 1..2^32-1, not 253 (default), 254 (main) or 255 (local). */
  table: number;
  /** Next hop of the default route; omit for a point-to-point or on-link uplink. */
  gateway?: string | undefined;
  /** The uplink interface. */
  device: string;
  /** Rule priority in POLICY_RULE_PRIORITY_MIN..MAX (lower wins). */
  priority: number;
  /** Named network namespace (`ip -n`). */
  netns?: string | undefined;
}

/** A source route installed by {@link installSourceRoute}. */
export interface SourceRoute {
  readonly init: Readonly<SourceRouteInit>;
  readonly family: 4 | 6;
  /** Whether the rule was added by this call (false: an identical rule of ours was there). */
  readonly ruleAdded: boolean;
  /** Removes our rule and our default route in the table. Safe to call twice. */
  remove(): Promise<void>;
}

/** One of our rules, as {@link listSourceRoutes} reports it. */
export interface SourceRuleInfo {
  family: 4 | 6;
  source: string;
  table: number;
  priority: number;
}

interface RuleJson {
  priority?: number;
  src?: string;
  srclen?: number;
  table?: string;
  protocol?: string;
}
interface RouteJson {
  dst?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
}

const PROTO = String(POLICY_ROUTE_PROTOCOL);

/**
 * Installs the rule and default route that make packets from `source` leave by `device`.
 * Idempotent; rejects with LINKS_ROUTE_CONFLICT when table N's default route is not ours and
 * LINKS_COMMAND_FAILED when `ip` refuses (e.g. the gateway is not reachable on the device).
 *
 * @example
 * const route = await installSourceRoute({ source: '192.0.2.10', table: 101, gateway: '192.0.2.1', device: 'wan0', priority: 20001 });
 * // ... a UDP socket bound to 192.0.2.10 now leaves by wan0 ...
 * await route.remove();
 */
export async function installSourceRoute(init: SourceRouteInit): Promise<SourceRoute> {
  const family = checkSourceRoute(init);
  const fam = family === 4 ? '-4' : '-6';
  const { netns } = init;
  const existing = await defaultRoutes(family, init.table, netns);
  const foreign = existing.find((r) => r.protocol !== PROTO);
  if (foreign !== undefined) {
    throw new LinksError(
      'LINKS_ROUTE_CONFLICT',
      `table ${init.table} already has a default route (${describeRoute(foreign)}) that is not ours (proto ${foreign.protocol ?? 'boot'}): choose another table`,
      { details: { table: init.table, route: foreign } },
    );
  }
  const route = ['route', 'replace', 'default'];
  if (init.gateway !== undefined) route.push('via', init.gateway);
  route.push('dev', init.device, 'table', String(init.table), 'proto', PROTO);
  await runIp([fam, ...route], { netns });

  let ruleAdded = false;
  if (!(await hasRule(family, init, netns))) {
    await runIp([fam, 'rule', 'add', ...ruleSelector(init)], { netns });
    ruleAdded = true;
  }
  let removed = false;
  return {
    init: { ...init },
    family,
    ruleAdded,
    async remove() {
      if (removed) return;
      removed = true;
      await removeSourceRoute(init);
    },
  };
}

/**
 * Removes our rule for `source` (table, priority) and our default route in the table, if there;
 * anything not tagged with our protocol is left alone. For cleanup after a crash too.
 *
 * @example
 * await removeSourceRoute({ source: '192.0.2.10', table: 101, device: 'wan0', priority: 20001 });
 */
export async function removeSourceRoute(init: SourceRouteInit): Promise<void> {
  const family = checkSourceRoute(init);
  const fam = family === 4 ? '-4' : '-6';
  const { netns } = init;
  if (await hasRule(family, init, netns)) await runIp([fam, 'rule', 'del', ...ruleSelector(init)], { netns });
  const ours = (await defaultRoutes(family, init.table, netns)).filter((r) => r.protocol === PROTO);
  if (ours.length > 0) await runIp([fam, 'route', 'del', 'default', 'table', String(init.table), 'proto', PROTO], { netns });
}

/**
 * Lists the rules we installed (protocol 235) in both families.
 *
 * @example
 * for (const rule of await listSourceRoutes()) console.log(rule.source, '->', rule.table);
 */
export async function listSourceRoutes(options: { netns?: string } = {}): Promise<SourceRuleInfo[]> {
  checkNetns(options.netns);
  const out: SourceRuleInfo[] = [];
  for (const family of [4, 6] as const) {
    for (const rule of await runIpJson<RuleJson[]>([family === 4 ? '-4' : '-6', 'rule', 'show'], { netns: options.netns })) {
      if (rule.protocol !== PROTO || rule.src === undefined) continue;
      out.push({ family, source: rule.src, table: Number(rule.table), priority: rule.priority ?? 0 });
    }
  }
  return out;
}

function ruleSelector(init: SourceRouteInit): string[] {
  return ['from', init.source, 'table', String(init.table), 'priority', String(init.priority), 'protocol', PROTO];
}

async function hasRule(family: 4 | 6, init: SourceRouteInit, netns: string | undefined): Promise<boolean> {
  const rules = await runIpJson<RuleJson[]>([family === 4 ? '-4' : '-6', 'rule', 'show'], { netns });
  const full = family === 4 ? 32 : 128;
  return rules.some(
    (r) =>
      r.protocol === PROTO &&
      r.priority === init.priority &&
      r.table === String(init.table) &&
      r.src !== undefined &&
      sameAddress(r.src, init.source) &&
      (r.srclen === undefined || r.srclen === full),
  );
}

async function defaultRoutes(family: 4 | 6, table: number, netns: string | undefined): Promise<RouteJson[]> {
  try {
    return (await runIpJson<RouteJson[]>([family === 4 ? '-4' : '-6', 'route', 'show', 'table', String(table), 'default'], { netns })).filter(
      (r) => r.dst === 'default' || r.dst === '::/0' || r.dst === '0.0.0.0/0',
    );
  } catch (error) {
    // A table with no routes at all does not exist yet: nothing there.
    if (error instanceof LinksError && /FIB table does not exist/.test(String(error.details?.stderr))) return [];
    throw error;
  }
}

function sameAddress(a: string, b: string): boolean {
  return canonicalAddress(a) === canonicalAddress(b);
}

/**
 * The canonical text of an IP address (IPv6 compressed and lower-case, as `ip` prints it).
 *
 * @example
 * canonicalAddress('FD00:0:0::0002'); // 'fd00::2'
 */
export function canonicalAddress(address: string): string {
  if (isIP(address) !== 6 || address.includes('%')) return address.toLowerCase();
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

function describeRoute(r: RouteJson): string {
  return `default${r.gateway === undefined ? '' : ` via ${r.gateway}`}${r.dev === undefined ? '' : ` dev ${r.dev}`}`;
}

function checkSourceRoute(init: SourceRouteInit): 4 | 6 {
  const family = isIP(init.source);
  if (family === 0) invalid('source', init.source, 'an IPv4 or IPv6 address without prefix');
  if (!Number.isInteger(init.table) || init.table < 1 || init.table > 0xffffffff || RESERVED_TABLES.has(init.table)) {
    invalid('table', init.table, 'an integer 1..4294967295 other than 253, 254, 255 (default, main, local)');
  }
  if (init.gateway !== undefined && isIP(init.gateway) !== family) invalid('gateway', init.gateway, `an IPv${family} address like the source`);
  if (typeof init.device !== 'string' || !IFNAME_PATTERN.test(init.device)) invalid('device', init.device, 'an interface name (1-15 characters)');
  if (!Number.isInteger(init.priority) || init.priority < POLICY_RULE_PRIORITY_MIN || init.priority > POLICY_RULE_PRIORITY_MAX) {
    invalid('priority', init.priority, `an integer ${POLICY_RULE_PRIORITY_MIN}..${POLICY_RULE_PRIORITY_MAX} (our rule range)`);
  }
  checkNetns(init.netns);
  return family as 4 | 6;
}

function invalid(field: string, value: unknown, expected: string): never {
  throw new LinksError('LINKS_INVALID_ARGUMENT', `source route ${field} ${JSON.stringify(value)} is not valid: expected ${expected}`, { details: { field, value, expected } });
}
