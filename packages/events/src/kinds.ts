/**
 * Typed event kinds: an app declares each kind it publishes with a zod schema for its `data`
 * (ARCHITECTURE.md rule 2: an app exports its event types). Publishers get checked, typed
 * `create`; receivers get `is` (a type guard) and `parse` (coded errors naming `data.*` paths).
 */
import type { z } from 'zod';
import type { JsonObject } from './json.js';
import { describeValue, invalidArgument } from './errors.js';
import { invalidEvent, issuesFromZod, type EventFactory, type EventInit, type EventV1 } from './schema.js';

/** An event of one declared kind. */
export type KindEvent<K extends string, D extends JsonObject> = EventV1<D> & { readonly kind: K };

/** A declared event kind. */
export interface EventKind<K extends string, D extends JsonObject> {
  readonly kind: K;
  readonly data: z.ZodType<D>;
  /** The next event of this kind from a source's factory; `data` is checked against the schema. */
  create(factory: EventFactory, init: Omit<EventInit<D>, 'id' | 'source' | 'kind'> & { data: D }): KindEvent<K, D>;
  /** True when the event has this kind and its data matches the schema. */
  is(event: EventV1): event is KindEvent<K, D>;
  /** The event typed as this kind, or EVENTS_INVALID_EVENT naming the kind or the data path. */
  parse(event: EventV1): KindEvent<K, D>;
}

const KIND_RE = /^[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)*$/;

/**
 * Declare an event kind with the schema of its data.
 *
 * @example
 * export const LinkState = defineEventKind('link.state', z.object({ ifindex: z.int(), operstate: z.string() }));
 * bus.publish(LinkState.create(events, { subject: 'eth0', states: { new: 'up' }, data: { ifindex: 3, operstate: 'up' } }));
 * if (LinkState.is(entry.event)) entry.event.data.ifindex; // typed
 */
export function defineEventKind<K extends string, D extends JsonObject>(kind: K, data: z.ZodType<D>): EventKind<K, D> {
  if (typeof kind !== 'string' || !KIND_RE.test(kind)) throw invalidArgument('kind', kind, 'a dotted lowercase kind (link.state)');
  if (typeof data?.safeParse !== 'function') throw invalidArgument('data schema', data, 'a zod schema');

  function checkData(value: unknown): D {
    const r = data.safeParse(value);
    if (!r.success) throw invalidEvent(issuesFromZod(value, r.error.issues, ['data']), false);
    return r.data;
  }

  return {
    kind,
    data,
    create(factory, init) {
      const checked = checkData(init.data);
      return factory.create<D>({ ...init, kind, data: checked }) as KindEvent<K, D>;
    },
    is(event): event is KindEvent<K, D> {
      return event.kind === kind && data.safeParse(event.data).success;
    },
    parse(event) {
      if (event?.kind !== kind) {
        throw invalidEvent([{ path: 'kind', value: describeValue(event?.kind), expected: `the kind ${describeValue(kind)}` }], false);
      }
      checkData(event.data);
      return event as KindEvent<K, D>;
    },
  };
}
