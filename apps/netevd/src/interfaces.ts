/**
 * The daemon's view of every interface, kept from the events on the bus (any backend): what
 * `status`, `interfaces` and policy routing read. A `link.state` event sets an interface's
 * state and addresses; `removed` deletes it. Bounded: at most MAX_INTERFACES names (a flood of
 * made-up names from a broken source cannot grow it without limit; the overflow is counted).
 */
import type { EventV1, JsonObject } from '@edgebox/events';

/** At most this many interfaces are tracked. */
export const MAX_INTERFACES = 4096;

/** One interface as the daemon knows it. */
export type InterfaceView = {
  name: string;
  ifindex: number | null;
  /** Operational state (off, no-carrier, carrier, degraded, routable; NetworkManager's device states). */
  state: string;
  oldState: string | null;
  /** networkd's administrative state (configuring, configured, failed, ...), when that backend runs. */
  adminState: string | null;
  backend: string;
  addresses: string[];
  /** Time of the event that set the current state. */
  since: string;
  /** Events seen for this interface. */
  events: number;
  lastEventId: number;
  /** Backend-specific detail of the last event (networkd's DescribeLink, netlink flags). */
  data: JsonObject;
};

/** The interface table. */
export interface InterfaceTable {
  /** Apply an event; true when it changed the table. */
  apply(event: EventV1): boolean;
  get(name: string): InterfaceView | undefined;
  list(): InterfaceView[];
  readonly size: number;
  readonly overflow: number;
}

/**
 * Create an empty interface table.
 *
 * @example
 * const table = createInterfaceTable();
 * bus.listen(({ event }) => { table.apply(event); });
 */
export function createInterfaceTable(): InterfaceTable {
  const map = new Map<string, InterfaceView>();
  let overflow = 0;
  return {
    apply(event) {
      const name = event.interface;
      const state = event.states?.new;
      if (name === undefined || state === undefined || !event.kind.startsWith('link.')) return false;
      if (state === 'removed') return map.delete(name);
      const prev = map.get(name);
      if (event.data['stateType'] === 'administrative') {
        if (prev === undefined) return false; // the operational event of a new link comes with it
        prev.adminState = state;
        prev.events++;
        prev.lastEventId = event.id;
        return true;
      }
      if (prev === undefined && map.size >= MAX_INTERFACES) {
        overflow++;
        return false;
      }
      const data = event.data;
      const ifindex = typeof data['ifindex'] === 'number' ? data['ifindex'] : (prev?.ifindex ?? null);
      map.set(name, {
        name,
        ifindex,
        state,
        oldState: event.states?.old ?? prev?.state ?? null,
        adminState: prev?.adminState ?? null,
        backend: typeof data['backend'] === 'string' ? data['backend'] : event.source,
        addresses: event.addresses === undefined ? (prev?.addresses ?? []) : [...event.addresses],
        since: prev !== undefined && prev.state === state ? prev.since : event.time,
        events: (prev?.events ?? 0) + 1,
        lastEventId: event.id,
        data,
      });
      return true;
    },
    get: (name) => map.get(name),
    list: () => [...map.values()].sort((a, b) => (a.ifindex ?? 1e9) - (b.ifindex ?? 1e9) || (a.name < b.name ? -1 : 1)),
    get size() {
      return map.size;
    },
    get overflow() {
      return overflow;
    },
  };
}
