/**
 * The NetworkManager source: device state changes from `org.freedesktop.NetworkManager` on
 * the system bus, published as `link.state` events.
 *
 * 1. connect (dbus.ts keeps the connection alive, reconnecting with backoff)
 * 2. match `Device.StateChanged` from NetworkManager and its NameOwnerChanged
 * 3. sync: `GetDevices`, each device's `Interface`, `State`, `Ip4Config`/`Ip6Config`; the
 *    first sync publishes every device's current state (startup triggers), later ones only
 *    what changed while we were away
 * 4. on `StateChanged (new, old, reason)`: read the device's addresses (`AddressData` of its
 *    IP4Config and IP6Config) and publish, in order per device
 *
 * Event: kind `link.state`, `interface`/`subject` the device's interface, `states {old?, new}`
 * as NetworkManager names them (NMDeviceState: unknown, unmanaged, unavailable, disconnected,
 * prepare, config, need-auth, ip-config, ip-check, secondaries, activated, deactivating,
 * failed), `addresses`, and `data` with `backend: 'networkmanager'`, `stateType: 'device'`,
 * `trigger`, `startup` (true for startup triggers), `device` (object path), `stateCode`, `oldStateCode`, `reasonCode`.
 */
import type { Message, MessageBus } from 'dbus-next';
import { createEventFactory, isAddress, type EventBus, type EventFactory, type JsonObject, type Severity } from '@edgebox/events';
import {
  addMatch,
  callBus,
  DBUS_RECONNECT_INITIAL_MS,
  DBUS_RECONNECT_MAX_MS,
  createBatchQueue,
  createBusConnection,
  createKeyedQueue,
  describe,
  errorMessage,
  getAllProperties,
  getProperty,
  isMalformed,
  isSignal,
  malformed,
  nameHasOwner,
  nameOwnerChange,
  nameOwnerChangedRule,
  newSourceStats,
  silentLogger,
  systemBusAddress,
  variantObjectPath,
  variantString,
  variantUint,
  variantValue,
  type NetworkSource,
  type SourceHealth,
  type SourceLogger,
  type SourceStats,
} from './dbus.js';

/** NetworkManager's well-known name, manager path and interfaces. */
export const NM_BUS_NAME = 'org.freedesktop.NetworkManager';
export const NM_MANAGER_PATH = '/org/freedesktop/NetworkManager';
export const NM_DEVICE_IFACE = 'org.freedesktop.NetworkManager.Device';
const NM_DEVICE_PATH_PREFIX = '/org/freedesktop/NetworkManager/Devices/';

/** NMDeviceState numbers and their names (NetworkManager's nm-dbus-interface.h). */
export const NM_DEVICE_STATES: Readonly<Record<number, string>> = {
  0: 'unknown',
  10: 'unmanaged',
  20: 'unavailable',
  30: 'disconnected',
  40: 'prepare',
  50: 'config',
  60: 'need-auth',
  70: 'ip-config',
  80: 'ip-check',
  90: 'secondaries',
  100: 'activated',
  110: 'deactivating',
  120: 'failed',
};

/** Why an event was published. */
export type NetworkManagerTrigger = 'startup' | 'change' | 'resync';

/** Options of `createNetworkManagerSource`. */
export interface NetworkManagerSourceInit {
  bus: EventBus;
  /** System bus address (default: DBUS_SYSTEM_BUS_ADDRESS, else unix:path=/run/dbus/system_bus_socket). */
  busAddress?: string;
  logger?: SourceLogger;
  /** The daemon's shared event factory (source `netevd`); default: one of its own. */
  events?: EventFactory;
  /** Interface filter (the config's include/exclude globs): devices it refuses publish nothing. Default: all. */
  accept?: (name: string) => boolean;
  /** Publish the current state at start (startup triggers); default true. */
  startupEvents?: boolean;
  callTimeoutMs?: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  watchdogMs?: number;
}

interface DeviceRecord {
  path: string;
  name: string | undefined;
  state: number | undefined;
}

/** One state change of a device, waiting for its addresses to be read. */
interface PendingChange {
  record: DeviceRecord;
  old: number | undefined;
  next: number;
  reason: number | undefined;
  trigger: NetworkManagerTrigger;
  /** DeviceRemoved: published as state `removed` (the interface table forgets the device). */
  removed?: boolean;
  bus: MessageBus;
  signal: AbortSignal;
}

/**
 * The name of an NMDeviceState number; undefined for a number NetworkManager does not define.
 *
 * @example nmDeviceStateName(100); // 'activated'
 */
export function nmDeviceStateName(state: number): string | undefined {
  return NM_DEVICE_STATES[state];
}

/**
 * A NetworkManager source: publishes `link.state` events from NetworkManager over DBus.
 *
 * @example
 * const source = createNetworkManagerSource({ bus, events, logger });
 * await source.start();   // one startup event per device is on the bus now
 * await source.stop();
 */
export function createNetworkManagerSource(init: NetworkManagerSourceInit): NetworkSource {
  const logger = init.logger ?? silentLogger;
  const events = init.events ?? createEventFactory({ source: 'netevd' });
  const address = systemBusAddress(init.busAddress);
  const accept = init.accept ?? ((): boolean => true);
  const stats: SourceStats = newSourceStats();
  const devices = new Map<string, DeviceRecord>();
  let backendPresent = false;
  let synced = false;
  let startedOnce = false;
  // While a sync runs, a device's signals count only once the sync has read that device
  // (earlier ones are in what it reads); devices that signalled before being read are read again.
  let syncing = false;
  const readInSync = new Set<string>();
  const dirtyInSync = new Set<string>();
  function beginSync(): void {
    syncing = true;
    synced = false;
    readInSync.clear();
    dirtyInSync.clear();
  }
  // Syncs run one at a time; each device's changes wait in a batch queue for one address read.
  const syncs = createKeyedQueue<string>((err) => fail(err, {}));
  const pending = createBatchQueue<string, PendingChange>({ run: (path, batch) => publish(path, batch), onError: (err, path) => fail(err, { device: path }) });
  const callInit = (signal: AbortSignal): { timeoutMs: number | undefined; signal: AbortSignal } => ({ timeoutMs: init.callTimeoutMs, signal });

  function fail(err: unknown, context: Record<string, unknown>): void {
    if (isMalformed(err)) stats.malformed += 1;
    else stats.callErrors += 1;
    stats.lastError = `networkmanager: ${errorMessage(err)}`;
    logger.warn({ source: 'networkmanager', ...context, err: errorMessage(err) }, isMalformed(err) ? 'dropped malformed NetworkManager data' : 'NetworkManager call failed');
  }

  const connection = createBusConnection({
    address,
    name: 'networkmanager',
    logger,
    stats,
    callTimeoutMs: init.callTimeoutMs,
    reconnectInitialMs: init.reconnectInitialMs,
    reconnectMaxMs: init.reconnectMaxMs,
    watchdogMs: init.watchdogMs,
    async onConnect(bus, signal) {
      await addMatch(bus, `type='signal',sender='${NM_BUS_NAME}',interface='${NM_DEVICE_IFACE}',member='StateChanged'`, { signal });
      await addMatch(bus, `type='signal',sender='${NM_BUS_NAME}',path='${NM_MANAGER_PATH}',interface='${NM_BUS_NAME}'`, { signal });
      await addMatch(bus, nameOwnerChangedRule(NM_BUS_NAME), { signal });
      backendPresent = await nameHasOwner(bus, NM_BUS_NAME, { signal });
      if (!backendPresent) {
        logger.warn({ source: 'networkmanager' }, `${NM_BUS_NAME} is not on the bus; waiting for it`);
        return;
      }
      // Through the sync queue: one after another, a second sync only publishes changes.
      await new Promise<void>((resolve, reject) => syncs.push('sync', () => sync(bus, signal).then(resolve, reject)));
      await pending.idle();
    },
    onMessage(msg, bus, signal) {
      if (!isSignal(msg)) return;
      const owner = nameOwnerChange(msg, NM_BUS_NAME);
      if (owner !== undefined) {
        backendPresent = owner !== '';
        synced = false;
        syncing = false;
        logger.info({ source: 'networkmanager', present: backendPresent }, backendPresent ? 'NetworkManager appeared on the bus' : 'NetworkManager left the bus');
        if (backendPresent) {
          scheduleSync(bus, signal, 0);
        }
        return;
      }
      if (msg.interface === NM_DEVICE_IFACE && msg.member === 'StateChanged') onStateChanged(msg, bus, signal);
      else if (msg.interface === NM_BUS_NAME && msg.path === NM_MANAGER_PATH && (msg.member === 'DeviceAdded' || msg.member === 'DeviceRemoved')) onDeviceListChanged(msg, bus, signal);
    },
    onDisconnect() {
      synced = false;
      syncing = false;
    },
  });

  async function readDevice(bus: MessageBus, signal: AbortSignal, path: string): Promise<{ name: string; state: number }> {
    const props = await getAllProperties(bus, NM_BUS_NAME, path, NM_DEVICE_IFACE, callInit(signal));
    const name = variantString(props['Interface']);
    const state = variantUint(props['State']);
    if (name === undefined || name === '') throw malformed(`device ${path}: Interface is ${describe(props['Interface'])}, expected a non-empty string variant`);
    if (state === undefined) throw malformed(`device ${path}: State is ${describe(props['State'])}, expected a uint32 variant`);
    return { name, state };
  }

  /** Every address of the device's IP4Config and IP6Config (`AddressData: aa{sv}` of {address, prefix}). */
  async function addressesOf(bus: MessageBus, signal: AbortSignal, path: string): Promise<string[]> {
    const out: string[] = [];
    for (const [prop, iface] of [
      ['Ip4Config', 'org.freedesktop.NetworkManager.IP4Config'],
      ['Ip6Config', 'org.freedesktop.NetworkManager.IP6Config'],
    ] as const) {
      const configPath = variantObjectPath(await getProperty(bus, NM_BUS_NAME, path, NM_DEVICE_IFACE, prop, callInit(signal)));
      if (configPath === undefined || configPath === '/') continue;
      const data = variantValue(await getProperty(bus, NM_BUS_NAME, configPath, iface, 'AddressData', callInit(signal)), 'aa{sv}');
      if (!Array.isArray(data)) {
        fail(malformed(`${configPath}: AddressData is not aa{sv}`), { device: path });
        continue;
      }
      for (const entry of data) {
        const ip = typeof entry === 'object' && entry !== null ? variantString((entry as Record<string, unknown>)['address']) : undefined;
        const prefix = typeof entry === 'object' && entry !== null ? variantUint((entry as Record<string, unknown>)['prefix']) : undefined;
        const text = ip === undefined ? undefined : prefix === undefined ? ip : `${ip}/${prefix}`;
        if (text === undefined || !isAddress(text)) {
          fail(malformed(`${configPath}: address entry ${describe(entry)} is not {address: s, prefix: u}`), { device: path });
          continue;
        }
        if (out.length < 64 && !out.includes(text)) out.push(text);
      }
    }
    return out;
  }

  /**
   * A sync after the backend (re)appeared on a live connection. A failed one is retried with
   * backoff (on connect, a failure drops the connection instead, which retries too).
   */
  function scheduleSync(bus: MessageBus, signal: AbortSignal, lastDelayMs: number): void {
    syncs.push('sync', async () => {
      if (signal.aborted || !backendPresent) return;
      try {
        await sync(bus, signal);
      } catch (err) {
        syncing = false;
        if (signal.aborted) return;
        fail(err, {});
        const delayMs = Math.min(init.reconnectMaxMs ?? DBUS_RECONNECT_MAX_MS, Math.max(init.reconnectInitialMs ?? DBUS_RECONNECT_INITIAL_MS, lastDelayMs * 2));
        const timer = setTimeout(() => scheduleSync(bus, signal, delayMs), delayMs);
        signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
      }
    });
  }

  async function sync(bus: MessageBus, signal: AbortSignal): Promise<void> {
    beginSync();
    const trigger: NetworkManagerTrigger = startedOnce ? 'resync' : 'startup';
    const [paths] = await callBus(bus, { destination: NM_BUS_NAME, path: NM_MANAGER_PATH, interface: NM_BUS_NAME, member: 'GetDevices' }, callInit(signal));
    if (!Array.isArray(paths)) throw malformed(`GetDevices returned ${describe(paths)}, expected ao`);
    const seen = new Set<string>();
    for (const path of paths) {
      if (typeof path !== 'string' || !path.startsWith('/')) {
        fail(malformed(`GetDevices entry ${describe(path)}, expected an object path`), {});
        continue;
      }
      seen.add(path);
      await syncDevice(bus, signal, path, trigger);
    }
    for (const [path, record] of devices) {
      if (seen.has(path)) continue;
      // Gone while we were away (or NetworkManager restarted without it): `removed`.
      devices.delete(path);
      pending.push(path, { record, old: record.state, next: record.state ?? 0, reason: undefined, trigger, removed: true, bus, signal });
    }
    syncing = false;
    // Devices that signalled before the sync read them (new ones included): read once more.
    for (const path of dirtyInSync) await syncDevice(bus, signal, path, 'change');
    dirtyInSync.clear();
    startedOnce = true;
    synced = true;
  }

  /** Read one device into its record; queue its event (startup: always; else when the state moved). */
  async function syncDevice(bus: MessageBus, signal: AbortSignal, path: string, trigger: NetworkManagerTrigger): Promise<void> {
    let device: { name: string; state: number };
    try {
      device = await readDevice(bus, signal, path);
    } catch (err) {
      if (signal.aborted) throw err;
      fail(err, { device: path });
      return;
    }
    readInSync.add(path);
    const record = devices.get(path) ?? { path, name: undefined, state: undefined };
    const old = record.state;
    record.name = device.name;
    record.state = device.state;
    devices.set(path, record);
    if (trigger === 'startup') {
      if (init.startupEvents !== false) pending.push(path, { record, old: undefined, next: device.state, reason: undefined, trigger, bus, signal });
    } else if (old !== device.state) pending.push(path, { record, old, next: device.state, reason: undefined, trigger, bus, signal });
  }

  function onStateChanged(msg: Message, bus: MessageBus, signal: AbortSignal): void {
    const path = msg.path;
    const body = msg.body;
    if (typeof path !== 'string' || !path.startsWith(NM_DEVICE_PATH_PREFIX)) {
      fail(malformed(`StateChanged on ${describe(path)}: not a device path`), {});
      return;
    }
    if (msg.signature !== 'uuu' || !Array.isArray(body) || !body.every((v) => Number.isInteger(v))) {
      fail(malformed(`StateChanged on ${path}: signature ${describe(msg.signature)} body ${describe(body)}, expected (uuu) new, old, reason`), { device: path });
      return;
    }
    const [next, old, reason] = body as [number, number, number];
    if (nmDeviceStateName(next) === undefined || nmDeviceStateName(old) === undefined) {
      fail(malformed(`StateChanged on ${path}: state ${old} -> ${next} is not an NMDeviceState`), { device: path });
      return;
    }
    if (syncing && !readInSync.has(path)) {
      dirtyInSync.add(path); // what it says is read by the sync, or right after it
      return;
    }
    if (!synced && !syncing) return;
    const record = devices.get(path) ?? { path, name: undefined, state: undefined };
    devices.set(path, record);
    record.state = next;
    pending.push(path, { record, old, next, reason, trigger: 'change', bus, signal });
  }

  /** Publish a device's waiting changes: one read of its addresses for the batch, each change in order. */
  async function publish(path: string, batch: PendingChange[]): Promise<void> {
    const { record, bus, signal } = batch.at(-1)!; // the newest connection
    const gone = batch.at(-1)!.removed === true;
    if (record.name === undefined) {
      if (gone) return; // removed before we ever learned its name: nothing to tell
      record.name = (await readDevice(bus, signal, record.path)).name;
    }
    if (!accept(record.name)) return;
    let addresses: string[] = [];
    try {
      // A removed device has no addresses to read.
      if (!gone) addresses = await addressesOf(bus, signal, path);
    } catch (err) {
      if (signal.aborted) throw err;
      fail(err, { device: path }); // publish the state changes without addresses
    }
    for (const change of batch) emit(record, change, change.removed === true ? [] : addresses);
  }

  /** DeviceAdded (o): read and publish the new device; DeviceRemoved (o): publish `removed`. */
  function onDeviceListChanged(msg: Message, bus: MessageBus, signal: AbortSignal): void {
    const path = Array.isArray(msg.body) ? msg.body[0] : undefined;
    if (msg.signature !== 'o' || typeof path !== 'string' || !path.startsWith(NM_DEVICE_PATH_PREFIX)) {
      fail(malformed(`${msg.member}: signature ${describe(msg.signature)} body ${describe(msg.body)}, expected (o) a device path`), {});
      return;
    }
    if (syncing && !readInSync.has(path)) {
      dirtyInSync.add(path);
      return;
    }
    if (!synced && !syncing) return;
    if (msg.member === 'DeviceAdded') {
      syncs.push('sync', async () => {
        if (!signal.aborted) await syncDevice(bus, signal, path, 'change');
      });
      return;
    }
    const record = devices.get(path);
    if (record === undefined) return;
    devices.delete(path);
    pending.push(path, { record, old: record.state, next: record.state ?? 0, reason: undefined, trigger: 'change', removed: true, bus, signal });
  }

  function emit(record: DeviceRecord, { old, next, reason, trigger, removed }: PendingChange, addresses: string[]): void {
    // Signals were checked on arrival; a State property read at sync may still be unknown.
    const newName = removed === true ? 'removed' : nmDeviceStateName(next);
    const oldName = old === undefined ? undefined : nmDeviceStateName(old);
    if (newName === undefined || (old !== undefined && oldName === undefined)) {
      fail(malformed(`device ${record.path}: state ${old ?? '-'} -> ${next} is not an NMDeviceState`), { device: record.path });
      return;
    }
    const data: JsonObject = { backend: 'networkmanager', stateType: 'device', trigger, startup: trigger === 'startup', device: record.path, stateCode: next };
    if (old !== undefined) data['oldStateCode'] = old;
    if (removed === true) {
      data['removed'] = true;
      delete data['stateCode'];
    }
    if (reason !== undefined) data['reasonCode'] = reason;
    try {
      const event = events.create({
        kind: 'link.state',
        severity: severityOf(newName),
        subject: record.name,
        interface: record.name,
        states: oldName === undefined ? { new: newName } : { old: oldName, new: newName },
        addresses,
        data,
      });
      init.bus.publish(event);
      stats.events += 1;
    } catch (err) {
      stats.malformed += 1;
      stats.lastError = `networkmanager: event for ${record.path} refused: ${errorMessage(err)}`;
      logger.warn({ source: 'networkmanager', device: record.path, err: errorMessage(err) }, 'NetworkManager event refused by the event schema');
    }
  }

  return {
    backend: 'networkmanager',
    async start() {
      await connection.start();
    },
    async stop() {
      await connection.stop();
      await syncs.idle();
      await pending.idle();
    },
    health(): SourceHealth {
      if (!connection.connected) return { ok: false, detail: `networkmanager: not connected to ${address}${stats.lastError === undefined ? '' : ` (${stats.lastError})`}` };
      if (!backendPresent) return { ok: false, detail: `networkmanager: ${NM_BUS_NAME} is not on the bus` };
      if (!synced) return { ok: false, detail: `networkmanager: reading device states${stats.lastError === undefined ? '' : ` (last error: ${stats.lastError})`}` };
      return { ok: true, detail: `networkmanager: ${devices.size} devices` };
    },
    stats() {
      return { ...stats, dropped: pending.dropped };
    },
  };
}

function severityOf(state: string): Severity {
  return state === 'failed' ? 'error' : state === 'disconnected' || state === 'unavailable' || state === 'deactivating' ? 'warning' : 'info';
}
