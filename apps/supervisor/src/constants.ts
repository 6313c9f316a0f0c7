/** Tunables of the supervisor, units in names. */

/** The apps the appliance hosts, in start order. */
export const APP_NAMES = ['netevd', 'tunnel', 'bonding', 'p2p'] as const;
/** One of APP_NAMES. */
export type AppName = (typeof APP_NAMES)[number];

/**
 * Node flags of each hosted app's process, the same its own CLI's shebang sets: bonding and
 * netevd run with a 1 MiB young generation (their RSS stays near a third lower, no throughput
 * loss measured); the tunnel and p2p keep V8's default (bulk transfers allocate fast enough
 * that more scavenges cost throughput).
 */
export const APP_NODE_FLAGS: Readonly<Record<AppName, readonly string[]>> = {
  netevd: ['--max-semi-space-size=1'],
  tunnel: [],
  bonding: ['--max-semi-space-size=1'],
  p2p: [],
};

/** Admin API defaults: loopback only. */
export const API_HOST = '127.0.0.1';
export const API_PORT = 9400;
/** Where keys, the audit log and generated files live when not configured (and not root). */
export const DATA_DIR_ROOT = '/var/lib/edgebox';
/** The config file the CLI reads when --config is not given and it exists. */
export const CONFIG_FILE = '/etc/edgebox/edgebox.yaml';

/** Restart backoff after a crash: first delay, cap, and the crash-loop rule. */
export const RESTART_MIN_MS = 500;
export const RESTART_MAX_MS = 30_000;
/** More than CRASH_LOOP_MAX crashes within CRASH_LOOP_WINDOW_MS: the app stays down (state crash-loop). */
export const CRASH_LOOP_MAX = 5;
export const CRASH_LOOP_WINDOW_MS = 60_000;
/** A child that ran this long without crashing resets its backoff. */
export const STABLE_AFTER_MS = 30_000;

/** IPC request timeouts. */
export const IPC_TIMEOUT_MS = 10_000;
export const IPC_START_TIMEOUT_MS = 60_000;
/** Graceful stop of all apps on SIGTERM (each child gets this as its Service stop deadline). */
export const STOP_DEADLINE_MS = 10_000;
/** Extra time after the stop deadline before a child is SIGKILLed. */
export const KILL_GRACE_MS = 2_000;

/** Events kept for SSE resume (Last-Event-ID). */
export const EVENT_HISTORY_SIZE = 2048;
/** Events a child buffers before its parent link is up; more are dropped (counted). */
export const CHILD_EVENT_QUEUE_MAX = 1024;
