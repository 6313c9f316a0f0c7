/**
 * The systemd-networkd source: link state changes from `org.freedesktop.network1` on the
 * system bus, published as `link.state` events.
 *
 * 1. connect (dbus.ts keeps the connection alive, reconnecting with backoff)
 * 2. match `PropertiesChanged` under `/org/freedesktop/network1/link/` and networkd's
 *    NameOwnerChanged (a restarted networkd is read again from scratch)
 * 3. sync: `ListLinks`, each link's properties (`GetAll`) and `DescribeLink` (addresses, the
 *    JSON payload); the first sync publishes the current state of every link (startup
 *    triggers, networkd-dispatcher's `-T`), later ones only what changed while we were away
 * 4. on `PropertiesChanged`: decode the ifindex from the escaped path (`_33` is 3), fold the
 *    changed state properties in, and when the operational or the administrative state moved,
 *    `DescribeLink` and publish one event per moved state, in order per link
 *
 * Event (docs/protocols/events.md §2): kind `link.state`, `interface`/`subject` the link name,
 * `states {old?, new}` of one axis (operational: off, no-carrier, dormant, carrier, degraded,
 * routable, ...; administrative: pending, configuring, configured, failed, ...), `addresses`
 * from DescribeLink, and `data` with `backend: 'networkd'`, `stateType`, `trigger` (startup,
 * change, resync), `startup` (true for startup triggers, as the netlink source marks them), `ifindex`, every state property, and `link`: DescribeLink's JSON (without
 * `Routes` when it would not fit the 16 KiB data bound).
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
  encodePathLabel,
  errorMessage,
  getAllProperties,
  ifindexFromLinkPath,
  isIfindex,
  isMalformed,
  isSignal,
  isVariantDict,
  malformed,
  nameHasOwner,
  nameOwnerChange,
  nameOwnerChangedRule,
  newSourceStats,
  silentLogger,
  systemBusAddress,
  variantString,
  type NetworkSource,
  type SourceHealth,
  type SourceLogger,
  type SourceStats,
} from './dbus.js';

/** networkd's well-known name, manager path and interfaces. */
export const NETWORKD_BUS_NAME = 'org.freedesktop.network1';
export const NETWORKD_MANAGER_PATH = '/org/freedesktop/network1';
export const NETWORKD_LINK_PATH_PREFIX = '/org/freedesktop/network1/link/';
const MANAGER_IFACE = 'org.freedesktop.network1.Manager';
const LINK_IFACE = 'org.freedesktop.network1.Link';

/** Largest DescribeLink JSON carried in `data.link` (the event's data bound is 16 KiB). */
const MAX_LINK_JSON_BYTES = 12 * 1024;

/** The link state properties we track, as networkd names them, and their `data` keys. */
const STATE_PROPERTIES = {
  OperationalState: 'operationalState',
  CarrierState: 'carrierState',
  AddressState: 'addressState',
  IPv4AddressState: 'ipv4AddressState',
  IPv6AddressState: 'ipv6AddressState',
  AdministrativeState: 'administrativeState',
  OnlineState: 'onlineState',
} as const;
type StateProperty = keyof typeof STATE_PROPERTIES;
const STATE_PROPERTY_NAMES = Object.keys(STATE_PROPERTIES) as StateProperty[];

/** Which state an event moves: the two that networkd-dispatcher runs scripts for. */
export type NetworkdStateType = 'operational' | 'administrative';
/** Why an event was published. */
export type NetworkdTrigger = 'startup' | 'change' | 'resync';

/** Options of `createNetworkdSource`. */
export interface NetworkdSourceInit {
  /** Where events are published. */
  bus: EventBus;
  /** System bus address (default: DBUS_SYSTEM_BUS_ADDRESS, else unix:path=/run/dbus/system_bus_socket). */
  busAddress?: string;
  logger?: SourceLogger;
  /**
   * The daemon's event factory (source `netevd`): share one between sources so event ids stay
   * strictly increasing per source (events.md §5). Default: a factory of its own.
   */
  events?: EventFactory;
  /** Interface filter (the config's include/exclude globs): links it refuses publish nothing. Default: all. */
  accept?: (name: string) => boolean;
  /** Publish the current state at start (startup triggers); default true. */
  startupEvents?: boolean;
  callTimeoutMs?: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  watchdogMs?: number;
}

/** What the source knows of one link. */
interface LinkRecord {
  ifindex: number;
  name: string | undefined;
  props: Partial<Record<StateProperty, string>>;
}

/** Changes of one link seen together (one signal or one read), waiting for DescribeLink. */
interface PendingChange {
  record: LinkRecord;
  transitions: Transition[];
  trigger: NetworkdTrigger;
  /** The link's state properties right after these changes (data of their events). */
  props: Partial<Record<StateProperty, string>>;
  /** The link is gone (AdministrativeState linger): no DescribeLink, no addresses. */
  gone?: boolean;
  bus: MessageBus;
  signal: AbortSignal;
}

/** One move of one state axis. */
interface Transition {
  stateType: NetworkdStateType;
  old: string | undefined;
  new: string;
}

/**
 * A networkd source: publishes `link.state` events from systemd-networkd over DBus.
 *
 * @example
 * const source = createNetworkdSource({ bus, events, logger });
 * await source.start();            // startup events for every link are on the bus now
 * source.health();                 // { ok: true, detail: 'networkd: 3 links' }
 * await source.stop();
 */
export function createNetworkdSource(init: NetworkdSourceInit): NetworkSource {
  const logger = init.logger ?? silentLogger;
  const events = init.events ?? createEventFactory({ source: 'netevd' });
  const address = systemBusAddress(init.busAddress);
  const accept = init.accept ?? ((): boolean => true);
  const stats: SourceStats = newSourceStats();
  const links = new Map<number, LinkRecord>();
  let backendPresent = false;
  let synced = false;
  let startedOnce = false;
  // While a sync runs, a link's signals count only once the sync has read that link (earlier
  // ones are in what it reads); links that signalled before being read are read again after.
  let syncing = false;
  const readInSync = new Set<number>();
  const dirtyInSync = new Set<number>();
  function beginSync(): void {
    syncing = true;
    synced = false;
    readInSync.clear();
    dirtyInSync.clear();
  }
  // Syncs run one at a time; each link's changes wait in a batch queue for one DescribeLink.
  const syncs = createKeyedQueue<string>((err) => fail(err, {}));
  const pending = createBatchQueue<number, PendingChange>({ run: (ifindex, batch) => publish(ifindex, batch), onError: (err, ifindex) => fail(err, { ifindex }) });

  function fail(err: unknown, context: Record<string, unknown>): void {
    if (isMalformed(err)) stats.malformed += 1;
    else stats.callErrors += 1;
    stats.lastError = `networkd: ${errorMessage(err)}`;
    logger.warn({ source: 'networkd', ...context, err: errorMessage(err) }, isMalformed(err) ? 'dropped malformed networkd data' : 'networkd call failed');
  }

  const connection = createBusConnection({
    address,
    name: 'networkd',
    logger,
    stats,
    callTimeoutMs: init.callTimeoutMs,
    reconnectInitialMs: init.reconnectInitialMs,
    reconnectMaxMs: init.reconnectMaxMs,
    watchdogMs: init.watchdogMs,
    async onConnect(bus, signal) {
      await addMatch(bus, `type='signal',sender='${NETWORKD_BUS_NAME}',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',path_namespace='/org/freedesktop/network1/link'`, { signal });
      await addMatch(bus, nameOwnerChangedRule(NETWORKD_BUS_NAME), { signal });
      backendPresent = await nameHasOwner(bus, NETWORKD_BUS_NAME, { signal });
      if (!backendPresent) {
        logger.warn({ source: 'networkd' }, `${NETWORKD_BUS_NAME} is not on the bus; waiting for it`);
        return;
      }
      // Through the sync queue: a NameOwnerChanged sync may be queued already (networkd
      // taking its name as we connect); one after the other, the second only publishes changes.
      await new Promise<void>((resolve, reject) => syncs.push('sync', () => sync(bus, signal).then(resolve, reject)));
      // start() resolves with the startup events already on the bus.
      await pending.idle();
    },
    onMessage(msg, bus, signal) {
      if (!isSignal(msg)) return;
      const owner = nameOwnerChange(msg, NETWORKD_BUS_NAME);
      if (owner !== undefined) {
        backendPresent = owner !== '';
        synced = false;
        syncing = false;
        logger.info({ source: 'networkd', present: backendPresent }, backendPresent ? 'networkd appeared on the bus' : 'networkd left the bus');
        if (backendPresent) {
          // A new networkd instance: read everything again (published as resync differences).
          scheduleSync(bus, signal, 0);
        }
        return;
      }
      if (msg.member === 'PropertiesChanged' && typeof msg.path === 'string' && msg.path.startsWith(NETWORKD_LINK_PATH_PREFIX)) {
        onPropertiesChanged(msg, bus, signal);
      }
    },
    onDisconnect() {
      synced = false;
      syncing = false;
    },
  });

  async function listLinks(bus: MessageBus, signal: AbortSignal): Promise<Array<{ ifindex: number; name: string }>> {
    const [list] = await callBus(bus, { destination: NETWORKD_BUS_NAME, path: NETWORKD_MANAGER_PATH, interface: MANAGER_IFACE, member: 'ListLinks' }, { timeoutMs: init.callTimeoutMs, signal });
    if (!Array.isArray(list)) throw malformed(`ListLinks returned ${describe(list)}, expected a(iso)`);
    const out: Array<{ ifindex: number; name: string }> = [];
    for (const entry of list) {
      if (!Array.isArray(entry) || !isIfindex(entry[0]) || typeof entry[1] !== 'string') {
        fail(malformed(`ListLinks entry ${describe(entry)}, expected (iso)`), {});
        continue;
      }
      out.push({ ifindex: entry[0], name: entry[1] });
    }
    return out;
  }

  function readStateProps(dict: Record<string, unknown>, context: string): Partial<Record<StateProperty, string>> {
    const props: Partial<Record<StateProperty, string>> = {};
    for (const key of STATE_PROPERTY_NAMES) {
      if (!(key in dict)) continue;
      const value = variantString(dict[key]);
      if (value === undefined || value.length > 64) {
        fail(malformed(`${context}: ${key} is ${describe(dict[key])}, expected a string variant`), {});
        continue;
      }
      props[key] = value;
    }
    return props;
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

  /** Read every link; publish startup events the first time, differences after that. */
  async function sync(bus: MessageBus, signal: AbortSignal): Promise<void> {
    beginSync();
    const trigger: NetworkdTrigger = startedOnce ? 'resync' : 'startup';
    const list = await listLinks(bus, signal);
    const seen = new Set<number>();
    for (const { ifindex, name } of list) {
      seen.add(ifindex);
      await readLink(bus, signal, ifindex, name, trigger);
    }
    for (const [ifindex, record] of links) {
      if (seen.has(ifindex)) continue;
      // Gone while we were away (or networkd restarted without it): `removed`.
      const transitions: Transition[] = [];
      forget(record, transitions);
      if (record.name !== undefined) pending.push(ifindex, { record, transitions, trigger, props: { ...record.props }, gone: true, bus, signal });
    }
    syncing = false;
    // Links that signalled before the sync read them (new ones included): read once more.
    for (const ifindex of dirtyInSync) await readLink(bus, signal, ifindex, undefined, 'change');
    dirtyInSync.clear();
    startedOnce = true;
    synced = true;
  }

  /** GetAll of one link, folded into its record; its transitions queued for publishing. */
  async function readLink(bus: MessageBus, signal: AbortSignal, ifindex: number, name: string | undefined, trigger: NetworkdTrigger): Promise<void> {
    let props: Partial<Record<StateProperty, string>>;
    try {
      props = readStateProps(await getAllProperties(bus, NETWORKD_BUS_NAME, `${NETWORKD_LINK_PATH_PREFIX}${encodeIfindex(ifindex)}`, LINK_IFACE, { timeoutMs: init.callTimeoutMs, signal }), `link ${ifindex}`);
    } catch (err) {
      if (signal.aborted) throw err;
      fail(err, { ifindex });
      return;
    }
    readInSync.add(ifindex);
    const record = links.get(ifindex) ?? { ifindex, name, props: {} };
    if (name !== undefined) record.name = name;
    const transitions = fold(record, props, trigger === 'startup');
    links.set(ifindex, record);
    const quiet = trigger === 'startup' && init.startupEvents === false;
    if (transitions.length > 0 && !quiet) pending.push(ifindex, { record, transitions, trigger, props: { ...record.props }, bus, signal });
  }

  /**
   * Fold new property values into the record; the transitions of the two script axes. With
   * `all`, every known axis is a transition (startup: no old state).
   */
  function fold(record: LinkRecord, props: Partial<Record<StateProperty, string>>, all: boolean): Transition[] {
    const transitions: Transition[] = [];
    const axes: Array<[StateProperty, NetworkdStateType]> = [
      ['OperationalState', 'operational'],
      ['AdministrativeState', 'administrative'],
    ];
    for (const [key, stateType] of axes) {
      const next = props[key];
      const prev = record.props[key];
      if (next === undefined || next === '') continue;
      if (all) transitions.push({ stateType, old: undefined, new: next });
      else if (next !== prev) transitions.push({ stateType, old: prev, new: next });
    }
    Object.assign(record.props, props);
    return transitions;
  }

  /** A link that is gone: its operational state becomes `removed` (a transition), its record is dropped. */
  function forget(record: LinkRecord, transitions: Transition[]): void {
    transitions.push({ stateType: 'operational', old: record.props.OperationalState, new: 'removed' });
    record.props.OperationalState = 'removed';
    links.delete(record.ifindex);
  }

  function onPropertiesChanged(msg: Message, bus: MessageBus, signal: AbortSignal): void {
    const ifindex = ifindexFromLinkPath(msg.path, NETWORKD_LINK_PATH_PREFIX);
    const body = msg.body;
    if (ifindex === undefined) {
      fail(malformed(`PropertiesChanged on ${describe(msg.path)}: not a link path with an escaped ifindex`), {});
      return;
    }
    if (!Array.isArray(body) || typeof body[0] !== 'string' || !isVariantDict(body[1])) {
      fail(malformed(`PropertiesChanged on ${msg.path}: body ${describe(body)}, expected (sa{sv}as)`), { ifindex });
      return;
    }
    if (body[0] !== LINK_IFACE) return;
    if (syncing && !readInSync.has(ifindex)) {
      dirtyInSync.add(ifindex); // what it says is read by the sync, or right after it
      return;
    }
    if (!synced && !syncing) return;
    const props = readStateProps(body[1], `PropertiesChanged on link ${ifindex}`);
    const known = links.get(ifindex);
    const record = known ?? { ifindex, name: undefined, props: {} };
    if (known === undefined) links.set(ifindex, record);
    const transitions = fold(record, props, false);
    if (transitions.length === 0) return;
    // networkd keeps a deleted link's object for a moment as AdministrativeState `linger`: the
    // link is gone. Say so on the operational axis with `removed` (the netlink source's word),
    // so the interface table forgets it, and forget it here too.
    const gone = transitions.some((t) => t.stateType === 'administrative' && t.new === 'linger');
    if (gone) {
      forget(record, transitions);
    }
    pending.push(ifindex, { record, transitions, trigger: 'change', props: { ...record.props }, gone, bus, signal });
  }

  async function describeLink(bus: MessageBus, signal: AbortSignal, ifindex: number): Promise<JsonObject | undefined> {
    let text: unknown;
    try {
      [text] = await callBus(bus, { destination: NETWORKD_BUS_NAME, path: NETWORKD_MANAGER_PATH, interface: MANAGER_IFACE, member: 'DescribeLink', signature: 'i', body: [ifindex] }, { timeoutMs: init.callTimeoutMs, signal });
    } catch (err) {
      if (signal.aborted) throw err;
      fail(err, { ifindex }); // a link that just went away: publish what we know
      return undefined;
    }
    if (typeof text !== 'string') {
      fail(malformed(`DescribeLink(${ifindex}) returned ${describe(text)}, expected a JSON string`), { ifindex });
      return undefined;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${describe(parsed)} is not an object`);
      return parsed as JsonObject;
    } catch (err) {
      fail(malformed(`DescribeLink(${ifindex}) JSON is invalid: ${errorMessage(err)}`), { ifindex });
      return undefined;
    }
  }

  /** Publish a link's waiting changes: one DescribeLink for the batch, then each change in order. */
  async function publish(ifindex: number, batch: PendingChange[]): Promise<void> {
    const record = links.get(ifindex) ?? batch[0]!.record;
    const { bus, signal } = batch.at(-1)!; // the newest connection
    const gone = batch.at(-1)!.gone === true;
    const link = gone ? undefined : await describeLink(bus, signal, record.ifindex);
    if (link !== undefined && typeof link['Name'] === 'string') record.name = link['Name'];
    if (record.name === undefined) {
      const listed = (await listLinks(bus, signal)).find((l) => l.ifindex === record.ifindex);
      record.name = listed?.name;
    }
    const name = record.name;
    if (name === undefined) {
      fail(malformed(`link ${record.ifindex} has no name (not in ListLinks, no DescribeLink)`), { ifindex: record.ifindex });
      return;
    }
    if (!accept(name)) return;
    const addresses = link === undefined ? [] : addressesOf(link, (why) => fail(malformed(`DescribeLink(${record.ifindex}): ${why}`), { ifindex: record.ifindex }));
    const linkJson = link === undefined ? undefined : boundedLinkJson(link);
    for (const { transitions, trigger, props } of batch) {
      const data: JsonObject = { backend: 'networkd', stateType: 'operational', trigger, startup: trigger === 'startup', ifindex: record.ifindex };
      for (const key of STATE_PROPERTY_NAMES) {
        const v = props[key];
        if (v !== undefined) data[STATE_PROPERTIES[key]] = v;
      }
      if (linkJson !== undefined) data['link'] = linkJson;
      for (const t of transitions) emit(record.ifindex, name, t, addresses, data);
    }
  }

  function emit(ifindex: number, name: string, t: Transition, addresses: string[], data: JsonObject): void {
    try {
      const event = events.create({
        kind: 'link.state',
        severity: severityOf(t.new),
        subject: name,
        interface: name,
        states: t.old === undefined ? { new: t.new } : { old: t.old, new: t.new },
        addresses,
        data: { ...data, stateType: t.stateType },
      });
      init.bus.publish(event);
      stats.events += 1;
    } catch (err) {
      // A name or state the event schema refuses (control characters, too long): drop it.
      stats.malformed += 1;
      stats.lastError = `networkd: event for link ${ifindex} refused: ${errorMessage(err)}`;
      logger.warn({ source: 'networkd', ifindex, err: errorMessage(err) }, 'networkd event refused by the event schema');
    }
  }

  return {
    backend: 'networkd',
    async start() {
      await connection.start();
    },
    async stop() {
      await connection.stop();
      await syncs.idle();
      await pending.idle();
    },
    health(): SourceHealth {
      if (!connection.connected) return { ok: false, detail: `networkd: not connected to ${address}${stats.lastError === undefined ? '' : ` (${stats.lastError})`}` };
      if (!backendPresent) return { ok: false, detail: `networkd: ${NETWORKD_BUS_NAME} is not on the bus` };
      if (!synced) return { ok: false, detail: `networkd: reading link states${stats.lastError === undefined ? '' : ` (last error: ${stats.lastError})`}` };
      return { ok: true, detail: `networkd: ${links.size} links` };
    },
    stats() {
      return { ...stats, dropped: pending.dropped };
    },
  };
}

/** The ifindex as networkd's object path label (`3` → `_33`). */
function encodeIfindex(ifindex: number): string {
  return encodePathLabel(String(ifindex));
}

/** Severity of a state: losing the link or its carrier is a warning. */
function severityOf(state: string): Severity {
  return state === 'no-carrier' || state === 'off' || state === 'failed' ? 'warning' : 'info';
}

/**
 * The link's addresses from DescribeLink JSON (`Addresses: [{Family, Address: [bytes], PrefixLength}]`)
 * as `ip/prefix` strings; entries of the wrong shape are reported and skipped.
 *
 * @example addressesOf({ Addresses: [{ Family: 2, Address: [10, 0, 0, 1], PrefixLength: 24 }] }, console.warn); // ['10.0.0.1/24']
 */
export function addressesOf(link: JsonObject, onBad: (why: string) => void): string[] {
  const list = link['Addresses'];
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    onBad(`Addresses is ${describe(list)}, expected an array`);
    return [];
  }
  const out: string[] = [];
  for (const entry of list) {
    const text = addressText(entry);
    if (text === undefined) {
      onBad(`address entry ${JSON.stringify(entry)?.slice(0, 120)} is not {Family: 2|10, Address: [4|16 bytes], PrefixLength}`);
      continue;
    }
    if (out.length < 64 && !out.includes(text)) out.push(text);
  }
  return out;
}

function addressText(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { Family: family, Address: bytes, PrefixLength: prefix } = entry as Record<string, unknown>;
  if (!Array.isArray(bytes) || !bytes.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255)) return undefined;
  let ip: string;
  if (family === 2 && bytes.length === 4) ip = bytes.join('.');
  else if (family === 10 && bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
    ip = compressIpv6(groups);
  } else return undefined;
  const text = typeof prefix === 'number' ? `${ip}/${prefix}` : ip;
  return isAddress(text) ? text : undefined;
}

/** RFC 5952 §4.2: the longest run (≥ 2) of zero groups becomes `::`. */
function compressIpv6(groups: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** DescribeLink JSON within MAX_LINK_JSON_BYTES: whole, else without Routes, else nothing. */
function boundedLinkJson(link: JsonObject): JsonObject | undefined {
  if (Buffer.byteLength(JSON.stringify(link)) <= MAX_LINK_JSON_BYTES) return link;
  const rest = { ...link };
  delete rest['Routes'];
  if (Buffer.byteLength(JSON.stringify(rest)) <= MAX_LINK_JSON_BYTES) return rest;
  return undefined;
}
