/**
 * Defaults and fixed numbers of netevd. Tunables have config keys (config.ts); these are their
 * defaults, units in the names.
 */

/** Default config file. */
export const DEFAULT_CONFIG_FILE = '/etc/netevd/netevd.yaml';
/** Default scripts root: `<dir>/<state>.d/`. */
export const DEFAULT_SCRIPTS_DIR = '/etc/netevd';
/** Default data dir: the table allocation file lives here. */
export const DEFAULT_DATA_DIR = '/var/lib/netevd';
/** The table allocation file's name inside the data dir. */
export const TABLES_FILE = 'tables.json';

/** Script folders, one per state (plus routes.d for route changes). */
export const SCRIPT_STATES = ['carrier', 'no-carrier', 'off', 'configured', 'degraded', 'routable', 'activated', 'disconnected', 'routes'] as const;

/** Per-script timeout, ms. */
export const SCRIPT_TIMEOUT_MS = 30_000;
/** Between SIGTERM to a timed-out script's process group and SIGKILL, ms. */
export const SCRIPT_KILL_GRACE_MS = 2_000;
/** Bytes of stdout and of stderr kept per script run (the rest is counted and dropped). */
export const SCRIPT_OUTPUT_MAX_BYTES = 64 * 1024;
/** Dead-letter entries kept (oldest dropped first). */
export const DEAD_LETTER_MAX = 100;
/** First retry delay; doubles per attempt up to RETRY_MAX_DELAY_MS. */
export const RETRY_BASE_DELAY_MS = 1_000;
export const RETRY_MAX_DELAY_MS = 60_000;

/** Quiet time that ends an interface's burst of changes, ms. */
export const DEBOUNCE_WAIT_MS = 200;
/** Longest a flapping interface's settled state waits, ms. */
export const DEBOUNCE_MAX_WAIT_MS = 2_000;

/**
 * Routing protocol number tagging every rule and route netevd installs (`protocol 236`,
 * unassigned in rt_protos; @edgebox/links uses 235). A rule or route is ours only when it
 * carries this protocol AND (rules) its priority lies in the owned range.
 */
export const ROUTE_PROTOCOL = 236;
/** Owned rule priority range (below main's 32766). `from` rules use the first, `to` rules the second. */
export const RULE_PRIORITY_MIN = 30_000;
export const RULE_PRIORITY_MAX = 30_999;
/** Table numbers allocated per interface name. */
export const TABLE_MIN = 1_000;
export const TABLE_MAX = 1_999;

/** REST API default listen address (loopback: no token needed). */
export const API_HOST = '127.0.0.1';
export const API_PORT = 9480;
/** Ops endpoint of runService (/metrics /health /ready /status). */
export const OPS_PORT = 9481;

/** Events kept for /api/v1/events and SSE resume. */
export const HISTORY_SIZE = 1_000;
/** Timeout of one `ip` command, ms. */
export const IP_COMMAND_TIMEOUT_MS = 10_000;

/** Interface names we pass to scripts and to `ip`: what the kernel allows minus shell and control characters. */
export const SAFE_IFNAME = /^[A-Za-z0-9_.@:+-]{1,15}$/;
/** Kernel interface-name rule (IFNAMSIZ, no '/', no whitespace): names we can at least look up. */
export const KERNEL_IFNAME = /^[^/\s]{1,15}$/;
