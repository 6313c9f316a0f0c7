/**
 * The `netevd` config section (ARCHITECTURE.md rule 4): one zod schema, validated by
 * @edgebox/runtime so every error names the path, the value and the expectation. The daemon
 * reads `/etc/netevd/netevd.yaml` by default; the appliance file has the same section under
 * `netevd:`.
 *
 *   backends    which sources publish events: netlink, networkd, networkmanager, dhclient
 *   dhclient    lease files the dhclient source watches
 *   netns       run every `ip` command in this named namespace (labs and tests)
 *   dbus        the system bus address for the networkd / NetworkManager sources (default:
 *               DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket)
 *   interfaces  include / exclude globs (default: everything but lo)
 *   scripts     dir (`<dir>/<state>.d/`), timeout, retries with backoff, dead-letter bound,
 *               startup (run scripts for the startup snapshot), filter (an @edgebox/events
 *               condition an event must meet to run scripts)
 *   debounce    per-interface burst handling: waitMs, maxWaitMs, leading
 *   routing     per-interface policy routing: interfaces, table and priority ranges, protocol,
 *               ECMP default route
 *   api         REST API listen address; a token is required off loopback
 *   ops         the ops endpoint (/metrics /health /ready /status) of runService
 *   dataDir     where the table allocation file lives
 *   dryRun      log routing changes instead of making them (also `run --dry-run`)
 *
 * Cross-field rules (ranges ordered, a token off loopback, ECMP members among the routed
 * interfaces) are superRefine checks, so each issue still names its own path.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { compileFilter, compileGlob } from '@edgebox/events';
import { loadConfig, validateConfig } from '@edgebox/runtime';
import {
  API_HOST,
  API_PORT,
  DEAD_LETTER_MAX,
  DEBOUNCE_MAX_WAIT_MS,
  DEBOUNCE_WAIT_MS,
  DEFAULT_CONFIG_FILE,
  DEFAULT_DATA_DIR,
  DEFAULT_SCRIPTS_DIR,
  OPS_PORT,
  RETRY_BASE_DELAY_MS,
  ROUTE_PROTOCOL,
  RULE_PRIORITY_MAX,
  RULE_PRIORITY_MIN,
  SAFE_IFNAME,
  SCRIPT_KILL_GRACE_MS,
  SCRIPT_TIMEOUT_MS,
  TABLE_MAX,
  TABLE_MIN,
} from './constants.js';

/** Event sources netevd can run. */
export const BACKENDS = ['netlink', 'networkd', 'networkmanager', 'dhclient'] as const;
/** One of BACKENDS. */
export type Backend = (typeof BACKENDS)[number];

const ifname = z.string().regex(SAFE_IFNAME, { error: '1-15 of [A-Za-z0-9_.@:+-] (an interface name)' });
const ipv4 = z.string().refine((s) => isIP(s) === 4, { error: 'an IPv4 address' });
const ipv6 = z.string().refine((s) => isIP(s) === 6, { error: 'an IPv6 address' });
const glob = z.string().min(1).max(64).refine(
  (s) => {
    try {
      compileGlob(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'a glob of at most 64 characters (* any run, ? one character)' },
);
const ms = (min: number, max: number) => z.int({ error: `an integer number of ms, ${min}..${max}` }).min(min).max(max);
const tableNumber = z.int({ error: 'a routing table number 1..4294967295, not 253, 254 or 255' }).min(1).max(0xffff_fffe);
const priority = z.int({ error: 'a rule priority 1..32765' }).min(1).max(32765);
const condition = z.string().refine(
  (s) => {
    try {
      compileFilter(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'an @edgebox/events filter condition (states.new == routable and interface ~ eth*)' },
);

const ScriptsSchema = z.strictObject({
  dir: z.string().min(1).default(DEFAULT_SCRIPTS_DIR),
  timeoutMs: ms(10, 3_600_000).default(SCRIPT_TIMEOUT_MS),
  killGraceMs: ms(0, 60_000).default(SCRIPT_KILL_GRACE_MS),
  /** Extra attempts after a failure (0: none). */
  retries: z.int().min(0).max(10).default(0),
  retryBackoffMs: ms(1, 600_000).default(RETRY_BASE_DELAY_MS),
  deadLetterMax: z.int().min(1).max(10_000).default(DEAD_LETTER_MAX),
  /** Owner every script must have (root). Only tests change it. */
  ownerUid: z.int().min(0).default(0),
  /** Run scripts for the events synthesised from the state at start (networkd-dispatcher -T). */
  startup: z.boolean().default(true),
  /** Only events meeting this condition run scripts. */
  filter: condition.optional(),
});

const DebounceSchema = z.strictObject({
  waitMs: ms(0, 60_000).default(DEBOUNCE_WAIT_MS),
  maxWaitMs: ms(1, 600_000).default(DEBOUNCE_MAX_WAIT_MS),
  /** Dispatch the first change of a burst at once (low latency); the settled state follows. */
  leading: z.boolean().default(true),
});

const RoutedInterfaceSchema = z.strictObject({
  name: ifname,
  /** Next hop of the table's IPv4 default route (default: the main table's default via this interface, else on-link). */
  gateway4: ipv4.optional(),
  gateway6: ipv6.optional(),
  /** `from <ip> lookup <table>` per address (default true). */
  from: z.boolean().default(true),
  /** `to <ip> lookup <table>` per address (default true). */
  to: z.boolean().default(true),
  /** A default route in the interface's table (default true). */
  defaultRoute: z.boolean().default(true),
});

const RangeSchema = (min: z.ZodType<number>, max: z.ZodType<number>, dmin: number, dmax: number) => z.strictObject({ min: min.default(dmin), max: max.default(dmax) });

const RoutingSchema = z.strictObject({
  interfaces: z.array(RoutedInterfaceSchema).max(256).default([]),
  tables: RangeSchema(tableNumber, tableNumber, TABLE_MIN, TABLE_MAX).prefault({}),
  priorities: RangeSchema(priority, priority, RULE_PRIORITY_MIN, RULE_PRIORITY_MAX).prefault({}),
  /** Protocol number tagging our rules and routes. */
  protocol: z.int().min(5).max(255).default(ROUTE_PROTOCOL),
  /** One default route with a next hop per live member interface (multipath). */
  ecmp: z
    .strictObject({
      interfaces: z.array(ifname).min(1).max(32),
      /** Table of the multipath default (default: main, 254). */
      table: z.int().min(1).max(0xffff_fffe).default(254),
      metric: z.int().min(0).max(0xffff_ffff).default(1024),
    })
    .optional(),
});

const ListenSchema = (port: number) =>
  z.strictObject({
    enabled: z.boolean().default(true),
    host: z.string().refine((s) => isIP(s) !== 0 || s === 'localhost', { error: 'an IP address to listen on' }).default(API_HOST),
    port: z.int().min(0).max(65535).default(port),
    /** Bearer token; required when host is not loopback. */
    token: z.string().min(16, { error: 'at least 16 characters' }).optional(),
    /**
     * Accept POST /api/v1/events (simulate, replay). Off by default: it makes root's scripts
     * run for made-up states, and on loopback without a token any local user could ask.
     */
    simulate: z.boolean().default(false),
  });

/** The netevd config section. */
export const NetevdConfigSchema = z
  .strictObject({
    backends: z.array(z.enum(BACKENDS, { error: `one of ${BACKENDS.join(', ')}` })).min(1).default(['netlink']),
    netns: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: '1-64 of [A-Za-z0-9_.-] (an ip netns name)' }).optional(),
    dhclient: z
      .strictObject({ leaseFiles: z.array(z.string().min(1)).min(1).max(64).default(['/var/lib/dhcp/dhclient.leases']) })
      .prefault({}),
    dbus: z
      .strictObject({ address: z.string().regex(/^(unix|tcp):\S+$/, { error: 'a DBus address (unix:path=/run/dbus/system_bus_socket)' }).optional() })
      .prefault({}),
    interfaces: z
      .strictObject({
        include: z.array(glob).max(64).default(['*']),
        exclude: z.array(glob).max(64).default(['lo']),
      })
      .prefault({}),
    scripts: ScriptsSchema.prefault({}),
    debounce: DebounceSchema.prefault({}),
    routing: RoutingSchema.prefault({}),
    api: ListenSchema(API_PORT).prefault({}),
    ops: z.strictObject({ host: z.string().default(API_HOST), port: z.int().min(0).max(65535).default(OPS_PORT) }).prefault({}),
    dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
    dryRun: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.routing.tables.min > c.routing.tables.max) ctx.addIssue({ code: 'custom', path: ['routing', 'tables', 'min'], input: c.routing.tables.min, message: `at most routing.tables.max (${c.routing.tables.max})` });
    for (const t of [253, 254, 255]) {
      if (c.routing.tables.min <= t && t <= c.routing.tables.max) {
        ctx.addIssue({ code: 'custom', path: ['routing', 'tables'], input: `${c.routing.tables.min}..${c.routing.tables.max}`, message: 'a range that leaves out 253 (default), 254 (main) and 255 (local)' });
        break;
      }
    }
    if (c.routing.priorities.max - c.routing.priorities.min < 1) ctx.addIssue({ code: 'custom', path: ['routing', 'priorities', 'max'], input: c.routing.priorities.max, message: `at least routing.priorities.min + 1 (${c.routing.priorities.min + 1}): from and to rules need a priority each` });
    const seen = new Set<string>();
    c.routing.interfaces.forEach((i, n) => {
      if (seen.has(i.name)) ctx.addIssue({ code: 'custom', path: ['routing', 'interfaces', n, 'name'], input: i.name, message: 'a name not listed before' });
      seen.add(i.name);
    });
    c.routing.ecmp?.interfaces.forEach((name, n) => {
      if (!seen.has(name)) ctx.addIssue({ code: 'custom', path: ['routing', 'ecmp', 'interfaces', n], input: name, message: `one of routing.interfaces (${[...seen].join(', ') || 'none listed'})` });
    });
    if (c.api.enabled && !isLoopback(c.api.host) && c.api.token === undefined) {
      ctx.addIssue({ code: 'custom', path: ['api', 'token'], input: undefined, message: `a token (16+ characters): api.host ${c.api.host} is not loopback` });
    }
  });

/** The validated config. */
export type NetevdConfig = z.infer<typeof NetevdConfigSchema>;
/** The config as a file or IPC carries it (defaults not yet applied). */
export type NetevdConfigInput = z.input<typeof NetevdConfigSchema>;
/** One routed interface. */
export type RoutedInterfaceConfig = NetevdConfig['routing']['interfaces'][number];

/**
 * True for 127.0.0.0/8, ::1 and localhost.
 *
 * @example isLoopback('127.0.0.1'); // true
 */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * Read and validate a config file (default /etc/netevd/netevd.yaml): the `validate` command.
 * Throws the runtime's ConfigError (RUNTIME_CONFIG_*) naming the file, path, value and
 * expectation; `formatConfigError` renders it.
 *
 * @example
 * const config = await validate('/etc/netevd/netevd.yaml');
 * console.log(config.backends);
 */
export async function validate(file: string = DEFAULT_CONFIG_FILE, env: Readonly<Record<string, string | undefined>> = {}): Promise<NetevdConfig> {
  const loaded = await loadConfig({ schema: NetevdConfigSchema, file, env, section: 'netevd' });
  return loaded.config;
}

/**
 * Validate an in-memory document (IPC, tests).
 *
 * @example const c = await parseConfig({ backends: ['netlink'] });
 */
export function parseConfig(document: unknown): Promise<NetevdConfig> {
  return validateConfig(NetevdConfigSchema, document, { section: 'netevd' });
}
