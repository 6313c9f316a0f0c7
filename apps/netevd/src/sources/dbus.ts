/**
 * DBus plumbing shared by the networkd and NetworkManager sources: one connection kept alive
 * (connect, watchdog, reconnect with backoff), method calls with a deadline, match rules,
 * sd-bus object path labels, typed reads of variants, and the counters both sources report.
 *
 * Why calls carry their own deadline: dbus-next (0.10) leaves a pending call pending forever
 * when the socket closes under it, and does not surface the close as an event on the bus
 * object. Every call here races a timeout and the connection's abort signal, and a watchdog
 * `Ping` to the bus daemon turns a silent close into a reconnect.
 *
 * Everything arriving from the bus is untrusted: a value of the wrong DBus type is counted as
 * malformed and dropped with a clear log line, never thrown out of a message handler.
 */
import { Message, MessageType, sessionBus, type MessageBus } from 'dbus-next';
import { NetevdError } from '../errors.js';

/** The system bus when neither the caller nor DBUS_SYSTEM_BUS_ADDRESS names one. */
export const DEFAULT_SYSTEM_BUS_ADDRESS = 'unix:path=/run/dbus/system_bus_socket';
/** Deadline of one method call, ms. */
export const DBUS_CALL_TIMEOUT_MS = 5_000;
/** First reconnect delay; doubles per failed attempt up to DBUS_RECONNECT_MAX_MS. */
export const DBUS_RECONNECT_INITIAL_MS = 100;
export const DBUS_RECONNECT_MAX_MS = 5_000;
/** Interval of the liveness `Ping` to the bus daemon, ms. */
export const DBUS_WATCHDOG_MS = 5_000;

const DBUS_NAME = 'org.freedesktop.DBus';
const DBUS_PATH = '/org/freedesktop/DBus';
const PROPERTIES_IFACE = 'org.freedesktop.DBus.Properties';

/** What the sources log through (a pino Logger fits). */
export interface SourceLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (the default when the caller passes none). */
export const silentLogger: SourceLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** A source's health: `ok` when connected to its bus and in step with its backend. */
export interface SourceHealth {
  ok: boolean;
  detail: string;
}

/** Counters of one source (plain numbers read at scrape time). */
export interface SourceStats {
  /** Connected to the bus right now. */
  connected: boolean;
  /** Successful connections (the first one included). */
  connects: number;
  /** Connection attempts that failed, and connections lost. */
  disconnects: number;
  /** Events published on the event bus. */
  events: number;
  /** Messages or replies with data of the wrong type or shape, dropped. */
  malformed: number;
  /** Calls to the backend that failed (error reply, timeout). */
  callErrors: number;
  /** Changes dropped because one link or device had too many waiting (BATCH_MAX_PENDING). */
  dropped: number;
  /** The last problem, for `health().detail` and the API. */
  lastError: string | undefined;
}

/** The contract every DBus source implements (the service starts, stops and asks them). */
export interface NetworkSource {
  /** `networkd` or `networkmanager`. */
  readonly backend: string;
  /** Connect and publish the current state (startup triggers); resolves after the first attempt, connected or not. */
  start(): Promise<void>;
  /** Disconnect; pending calls are abandoned. Safe to call twice. */
  stop(): Promise<void>;
  health(): SourceHealth;
  stats(): SourceStats;
}

/** A fresh stats object. */
export function newSourceStats(): SourceStats {
  return { connected: false, connects: 0, disconnects: 0, events: 0, malformed: 0, callErrors: 0, dropped: 0, lastError: undefined };
}

/**
 * The bus address to use: the caller's, else DBUS_SYSTEM_BUS_ADDRESS, else the standard socket.
 *
 * @example systemBusAddress(undefined, {}); // 'unix:path=/run/dbus/system_bus_socket'
 */
export function systemBusAddress(address?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (address !== undefined && address !== '') return address;
  const fromEnv = env['DBUS_SYSTEM_BUS_ADDRESS'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_SYSTEM_BUS_ADDRESS;
}

// -- object path labels (sd-bus bus_label_escape) ------------------------------------------

/**
 * Encode a string as one object path element the way sd-bus does: `[A-Za-z0-9]` stay (a
 * leading digit does not), every other byte becomes `_xx` (lowercase hex); `''` is `_`.
 *
 * @example encodePathLabel('3'); // '_33'    encodePathLabel('50-nd'); // '_350_2dnd'
 */
export function encodePathLabel(value: string): string {
  if (value === '') return '_';
  let out = '';
  const bytes = Buffer.from(value, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const alpha = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    const digit = b >= 0x30 && b <= 0x39;
    if (alpha || (digit && i > 0)) out += String.fromCharCode(b);
    else out += `_${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/**
 * Decode one sd-bus object path element; undefined when it is not the canonical encoding of
 * anything (a `_` not followed by two hex digits, a character outside `[A-Za-z0-9_]`, an
 * unescaped leading digit, an escaped letter).
 *
 * @example decodePathLabel('_33'); // '3'    decodePathLabel('_312'); // '12'
 */
export function decodePathLabel(label: string): string | undefined {
  if (label === '_') return '';
  if (!/^[A-Za-z0-9_]+$/.test(label)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c !== 0x5f) {
      bytes.push(c);
      continue;
    }
    const hex = label.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  const text = Buffer.from(bytes).toString('utf8');
  // Only the one encoding sd-bus produces: `3` or `_61` are not names networkd would send.
  return encodePathLabel(text) === label ? text : undefined;
}

/** Largest ifindex the kernel hands out (a positive int). */
const MAX_IFINDEX = 0x7fff_ffff;

/**
 * The ifindex from a networkd link object path (`/org/freedesktop/network1/link/_33` → 3);
 * undefined for any other path or a label that is not a decimal ifindex.
 *
 * @example ifindexFromLinkPath('/org/freedesktop/network1/link/_312'); // 12
 */
export function ifindexFromLinkPath(path: string, prefix = '/org/freedesktop/network1/link/'): number | undefined {
  if (typeof path !== 'string' || !path.startsWith(prefix)) return undefined;
  const label = path.slice(prefix.length);
  if (label.includes('/')) return undefined;
  const text = decodePathLabel(label);
  if (text === undefined || !/^[1-9][0-9]{0,9}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_IFINDEX ? n : undefined;
}

/** True for a positive ifindex. */
export function isIfindex(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= MAX_IFINDEX;
}

// -- variants -----------------------------------------------------------------------------

interface VariantLike {
  signature: string;
  value: unknown;
}

function isVariant(value: unknown): value is VariantLike {
  return typeof value === 'object' && value !== null && typeof (value as VariantLike).signature === 'string' && 'value' in value;
}

/**
 * The value of a variant when it carries exactly `signature`; undefined otherwise (absent,
 * not a variant, another type).
 *
 * @example const state = variantValue(changed['OperationalState'], 's'); // string | undefined
 */
export function variantValue(variant: unknown, signature: string): unknown {
  if (!isVariant(variant) || variant.signature !== signature) return undefined;
  return variant.value;
}

/** A string variant's value, or undefined. */
export function variantString(variant: unknown): string | undefined {
  const v = variantValue(variant, 's');
  return typeof v === 'string' ? v : undefined;
}

/** An object path variant's value, or undefined. */
export function variantObjectPath(variant: unknown): string | undefined {
  const v = variantValue(variant, 'o');
  return typeof v === 'string' ? v : undefined;
}

/** A `u`/`i` variant's value as a number, or undefined. */
export function variantUint(variant: unknown): number | undefined {
  const v = variantValue(variant, 'u') ?? variantValue(variant, 'i');
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

/** True for a plain `{[name]: Variant}` dictionary (an `a{sv}` as dbus-next decodes it). */
export function isVariantDict(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// -- calls --------------------------------------------------------------------------------

/** One method call. */
export interface BusCall {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: unknown[];
}

/**
 * Call a method and return the reply's body. Rejects with NETEVD_SOURCE naming the method and
 * the DBus error (`details.dbusError`, e.g. `org.freedesktop.DBus.Error.ServiceUnknown`), or
 * the timeout, or the abort of `signal` (the connection went away).
 *
 * @example
 * const [links] = await callBus(bus, { destination: 'org.freedesktop.network1', path: '/org/freedesktop/network1',
 *   interface: 'org.freedesktop.network1.Manager', member: 'ListLinks' }, { timeoutMs: 5000 });
 */
export async function callBus(bus: MessageBus, call: BusCall, init: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<unknown[]> {
  const what = `${call.interface}.${call.member} on ${call.destination} ${call.path}`;
  init.signal?.throwIfAborted();
  const message = new Message({
    destination: call.destination,
    path: call.path,
    interface: call.interface,
    member: call.member,
    signature: call.signature ?? '',
    body: call.body ?? [],
  });
  const timeoutMs = init.timeoutMs ?? DBUS_CALL_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NetevdError('NETEVD_SOURCE', `DBus call ${what} timed out after ${timeoutMs} ms`, { details: { call: what, timeoutMs } })), timeoutMs);
    if (init.signal !== undefined) {
      onAbort = () => reject(new NetevdError('NETEVD_SOURCE', `DBus call ${what} abandoned: the connection closed`, { details: { call: what } }));
      init.signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    const reply = await Promise.race([
      bus.call(message).catch((err: unknown) => {
        const dbusError = typeof (err as { type?: unknown })?.type === 'string' ? (err as { type: string }).type : undefined;
        throw new NetevdError('NETEVD_SOURCE', `DBus call ${what} failed: ${dbusError ?? ''} ${(err as Error)?.message ?? String(err)}`.replace(/\s+/g, ' '), {
          cause: err,
          details: { call: what, dbusError },
        });
      }),
      deadline,
    ]);
    return Array.isArray(reply?.body) ? reply.body : [];
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) init.signal?.removeEventListener('abort', onAbort);
  }
}

/** `Properties.GetAll(iface)` on `path`: the `a{sv}` dictionary (malformed replies throw NETEVD_SOURCE). */
export async function getAllProperties(
  bus: MessageBus,
  destination: string,
  path: string,
  iface: string,
  init: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Record<string, unknown>> {
  const [props] = await callBus(bus, { destination, path, interface: PROPERTIES_IFACE, member: 'GetAll', signature: 's', body: [iface] }, init);
  if (!isVariantDict(props)) throw malformed(`GetAll(${iface}) on ${path} returned ${describe(props)}, expected a{sv}`);
  return props;
}

/** `Properties.Get(iface, name)` on `path`: the variant. */
export async function getProperty(
  bus: MessageBus,
  destination: string,
  path: string,
  iface: string,
  name: string,
  init: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<unknown> {
  const [value] = await callBus(bus, { destination, path, interface: PROPERTIES_IFACE, member: 'Get', signature: 'ss', body: [iface, name] }, init);
  return value;
}

/** Add a match rule on the bus daemon (signals are only routed to us once matched). */
export async function addMatch(bus: MessageBus, rule: string, init: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  await callBus(bus, { destination: DBUS_NAME, path: DBUS_PATH, interface: DBUS_NAME, member: 'AddMatch', signature: 's', body: [rule] }, init);
}

/** Whether `name` has an owner on the bus (the backend is running). */
export async function nameHasOwner(bus: MessageBus, name: string, init: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
  const [has] = await callBus(bus, { destination: DBUS_NAME, path: DBUS_PATH, interface: DBUS_NAME, member: 'NameHasOwner', signature: 's', body: [name] }, init);
  return has === true;
}

/** The match rule for NameOwnerChanged of one well-known name. */
export function nameOwnerChangedRule(name: string): string {
  return `type='signal',sender='${DBUS_NAME}',path='${DBUS_PATH}',interface='${DBUS_NAME}',member='NameOwnerChanged',arg0='${name}'`;
}

/**
 * The new owner when `msg` is NameOwnerChanged for `name` ('' when it left the bus);
 * undefined for any other message.
 */
export function nameOwnerChange(msg: Message, name: string): string | undefined {
  if (msg.type !== MessageType.SIGNAL || msg.interface !== DBUS_NAME || msg.member !== 'NameOwnerChanged' || msg.path !== DBUS_PATH) return undefined;
  const body = msg.body;
  if (!Array.isArray(body) || body[0] !== name || typeof body[2] !== 'string') return undefined;
  return body[2];
}

/** True for a signal message (dbus-next numbers SIGNAL at runtime; compare there, not with the .d.ts enum). */
export function isSignal(msg: Message): boolean {
  return msg.type === MessageType.SIGNAL;
}

/** A NETEVD_SOURCE error for data of the wrong type or shape from the bus. */
export function malformed(message: string, details: Record<string, unknown> = {}): NetevdError {
  return new NetevdError('NETEVD_SOURCE', `malformed DBus data: ${message}`, { details: { ...details, malformed: true } });
}

/** True for an error made by `malformed`. */
export function isMalformed(err: unknown): boolean {
  return err instanceof NetevdError && err.details?.['malformed'] === true;
}

/** A short rendering of an untrusted value for messages (cold path). */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (isVariant(value)) return `a variant of signature ${JSON.stringify(value.signature)}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** The message of any error, for logs and `lastError`. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// -- the connection -----------------------------------------------------------------------

/** Options of `createBusConnection`. */
export interface BusConnectionInit {
  /** DBus address (`unix:path=...`). */
  address: string;
  /** For log lines: `networkd`, `networkmanager`. */
  name: string;
  logger: SourceLogger;
  stats: SourceStats;
  /**
   * Runs after each (re)connection, before messages are handed to `onMessage`... in order:
   * add match rules, then read the backend's state. Rejecting drops the connection and
   * retries with backoff. `signal` aborts when this connection is lost.
   */
  onConnect(bus: MessageBus, signal: AbortSignal): Promise<void>;
  /** Every message received on a live connection (signals included). Must not throw. */
  onMessage(msg: Message, bus: MessageBus, signal: AbortSignal): void;
  /** The connection was lost or failed (not called on stop). */
  onDisconnect?(reason: string): void;
  callTimeoutMs?: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  watchdogMs?: number;
}

/** A self-healing DBus connection. */
export interface BusConnection {
  /** Connect (first attempt); later failures reconnect in the background. Resolves after the first attempt. */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: boolean;
}

interface Live {
  bus: MessageBus;
  controller: AbortController;
  watchdog: NodeJS.Timeout | undefined;
}

/** The socket end event lives on dbus-next's private connection object; reach it if it is there. */
function onConnectionEnd(bus: MessageBus, listener: () => void): void {
  const connection = (bus as unknown as { _connection?: { on?: (event: string, fn: () => void) => void } })._connection;
  if (typeof connection?.on === 'function') connection.on('end', listener);
}

/**
 * One DBus connection kept alive: connect, run `onConnect`, hand messages to `onMessage`,
 * ping the daemon every `watchdogMs`; on any loss reconnect after a backoff that doubles from
 * `reconnectInitialMs` to `reconnectMaxMs` (reset after a connection that got through
 * `onConnect`).
 *
 * @example
 * const conn = createBusConnection({ address, name: 'networkd', logger, stats,
 *   onConnect: async (bus, signal) => { await addMatch(bus, rule, { signal }); await sync(bus, signal); },
 *   onMessage: (msg) => handle(msg) });
 * await conn.start();
 */
export function createBusConnection(init: BusConnectionInit): BusConnection {
  const { logger, stats } = init;
  const callTimeoutMs = init.callTimeoutMs ?? DBUS_CALL_TIMEOUT_MS;
  const initialMs = init.reconnectInitialMs ?? DBUS_RECONNECT_INITIAL_MS;
  const maxMs = init.reconnectMaxMs ?? DBUS_RECONNECT_MAX_MS;
  const watchdogMs = init.watchdogMs ?? DBUS_WATCHDOG_MS;
  let live: Live | undefined;
  let stopped = true;
  let retryTimer: NodeJS.Timeout | undefined;
  let delayMs = initialMs;

  function drop(current: Live, reason: string): void {
    if (live !== current) return;
    live = undefined;
    stats.connected = false;
    if (!stopped) {
      // A stop is not a loss: no count, no error.
      stats.disconnects += 1;
      stats.lastError = `${init.name}: ${reason}`;
    }
    clearInterval(current.watchdog);
    current.controller.abort();
    current.bus.removeAllListeners('message');
    try {
      current.bus.disconnect();
    } catch {
      // The socket is already gone.
    }
    if (stopped) return;
    logger.warn({ source: init.name, reason, retryInMs: delayMs }, 'DBus connection lost; reconnecting');
    init.onDisconnect?.(reason);
    scheduleRetry();
  }

  function scheduleRetry(): void {
    if (stopped || retryTimer !== undefined) return;
    const wait = delayMs;
    delayMs = Math.min(maxMs, delayMs * 2);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void attempt();
    }, wait);
  }

  /** One connection attempt; never rejects. */
  async function attempt(): Promise<void> {
    if (stopped) return;
    let bus: MessageBus;
    try {
      bus = sessionBus({ busAddress: init.address });
    } catch (err) {
      stats.disconnects += 1;
      stats.lastError = `${init.name}: cannot connect to ${init.address}: ${errorMessage(err)}`;
      logger.warn({ source: init.name, address: init.address, err: errorMessage(err) }, 'DBus connect failed');
      scheduleRetry();
      return;
    }
    const current: Live = { bus, controller: new AbortController(), watchdog: undefined };
    live = current;
    // An 'error' without a listener would throw out of the EventEmitter: always listen.
    bus.on('error', (err: unknown) => drop(current, `bus error: ${errorMessage(err)}`));
    onConnectionEnd(bus, () => drop(current, 'the bus closed the connection'));
    const signal = current.controller.signal;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no Hello reply within ${callTimeoutMs} ms`)), callTimeoutMs);
        const done = (err?: Error): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          if (err === undefined) resolve();
          else reject(err);
        };
        const onAbort = (): void => done(new Error(stats.lastError ?? 'connection lost'));
        signal.addEventListener('abort', onAbort, { once: true });
        bus.once('connect', () => done());
      });
      bus.on('message', (msg: Message) => {
        if (live !== current) return;
        try {
          init.onMessage(msg, bus, signal);
        } catch (err) {
          // onMessage promises not to throw; if it does, count it and keep the connection.
          stats.malformed += 1;
          stats.lastError = `${init.name}: message handler failed: ${errorMessage(err)}`;
          logger.error({ source: init.name, err: errorMessage(err) }, 'DBus message handler threw');
        }
      });
      await init.onConnect(bus, signal);
    } catch (err) {
      if (live === current) {
        logger.warn({ source: init.name, address: init.address, err: errorMessage(err) }, 'DBus connection setup failed');
        drop(current, errorMessage(err));
      }
      return;
    }
    if (live !== current) return;
    stats.connected = true;
    stats.connects += 1;
    delayMs = initialMs;
    logger.info({ source: init.name, address: init.address }, 'DBus connected');
    current.watchdog = setInterval(() => {
      callBus(bus, { destination: DBUS_NAME, path: DBUS_PATH, interface: 'org.freedesktop.DBus.Peer', member: 'Ping' }, { timeoutMs: callTimeoutMs, signal }).catch(
        (err: unknown) => drop(current, `watchdog: ${errorMessage(err)}`),
      );
    }, watchdogMs);
    current.watchdog.unref();
  }

  return {
    get connected() {
      return live !== undefined && stats.connected;
    },
    async start() {
      if (!stopped) return;
      stopped = false;
      delayMs = initialMs;
      await attempt();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      if (live !== undefined) drop(live, 'stopped');
    },
  };
}

/**
 * Runs async jobs one after another per key (per link), so one link's events keep their
 * order while links proceed independently. A job's rejection is reported to `onError` and
 * does not stop the queue.
 */
export function createKeyedQueue<K>(onError: (err: unknown, key: K) => void): { push(key: K, job: () => Promise<void>): void; idle(): Promise<void> } {
  const tails = new Map<K, Promise<void>>();
  return {
    push(key, job) {
      const prev = tails.get(key) ?? Promise.resolve();
      const next = prev.then(job).catch((err: unknown) => onError(err, key));
      tails.set(key, next);
      void next.then(() => {
        if (tails.get(key) === next) tails.delete(key);
      });
    },
    async idle() {
      while (tails.size > 0) await Promise.all([...tails.values()]);
    },
  };
}

/** What `createBatchQueue` returns. */
export interface BatchQueue<K, I> {
  /** Add an item for `key`; over `maxPending` waiting items the oldest is dropped (counted). */
  push(key: K, item: I): void;
  /** Resolves when nothing is waiting or running. */
  idle(): Promise<void>;
  /** Items dropped because their key had `maxPending` waiting. */
  readonly dropped: number;
}

/** Items waiting per key before the oldest is dropped. */
export const BATCH_MAX_PENDING = 1024;

/**
 * Per key, one `run` at a time over every item that arrived meanwhile: a flapping link costs
 * one DescribeLink per batch, not one per change, and its items keep their order. Keys run
 * side by side. A rejected `run` goes to `onError` and the queue goes on.
 *
 * @example
 * const q = createBatchQueue<number, Transition>({ run: async (ifindex, items) => publishAll(ifindex, items), onError });
 * q.push(3, { old: 'degraded', new: 'routable' });
 */
export function createBatchQueue<K, I>(init: { run(key: K, items: I[]): Promise<void>; onError(err: unknown, key: K): void; maxPending?: number }): BatchQueue<K, I> {
  const maxPending = init.maxPending ?? BATCH_MAX_PENDING;
  const waiting = new Map<K, I[]>();
  const queue = createKeyedQueue<K>(init.onError);
  let dropped = 0;
  return {
    push(key, item) {
      const list = waiting.get(key);
      if (list !== undefined) {
        // A batch is already scheduled for this key and has not started: it takes this item too.
        if (list.length >= maxPending) {
          list.shift();
          dropped += 1;
        }
        list.push(item);
        return;
      }
      waiting.set(key, [item]);
      queue.push(key, () => {
        const items = waiting.get(key) ?? [];
        waiting.delete(key);
        return init.run(key, items);
      });
    },
    idle: () => queue.idle(),
    get dropped() {
      return dropped;
    },
  };
}
