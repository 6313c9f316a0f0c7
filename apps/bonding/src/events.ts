/**
 * Status as events (@edgebox/events, schema v1): the kinds bonding publishes and the publisher
 * the service feeds from its plane hooks. Every event has `source: "bonding"`; app specifics are
 * in `data`, checked by each kind's zod schema.
 *
 *   kind                  subject        states          severity   data
 *   link.state            <peer>/<link>  old → new       warning when new is down, else info
 *                                                                   {peer, link, linkId, from, to, reason}
 *   session.established   <peer>         –               info       {peer, event, detail}
 *   session.rekeyed       <peer>         –               info       (same)
 *   session.closed        <peer>         –               info       (same)
 *   session.expired       <peer>         –               warning    (same)
 *   handshake.failed      <peer>         –               warning    {peer, code, message}
 *   mtu.changed           tun            old → new MTU   info       {from, to, reason}
 *
 * Cold path only: a link transition, a session change, a refused handshake, an MTU change.
 */
import { z } from 'zod';
import { createEventBus, createEventFactory, defineEventKind } from '@edgebox/events';
import type { EventBus, EventFactory, EventV1 } from '@edgebox/events';

const linkStates = z.enum(['probing', 'up', 'degraded', 'down', 'disabled']);

/** A link changed state. */
export const BondingLinkStateEvent = defineEventKind(
  'link.state',
  z.object({ peer: z.string(), link: z.string(), linkId: z.int().min(0), from: linkStates, to: linkStates, reason: z.string() }),
);

const sessionData = z.object({ peer: z.string(), event: z.enum(['established', 'rekeyed', 'closed', 'expired']), detail: z.string() });
/** A client session came up (handshake done). */
export const BondingSessionEstablishedEvent = defineEventKind('session.established', sessionData);
/** A session's keys were replaced without dropping traffic. */
export const BondingSessionRekeyedEvent = defineEventKind('session.rekeyed', sessionData);
/** A session ended: CLOSE from the peer, removed from the config, or idle. */
export const BondingSessionClosedEvent = defineEventKind('session.closed', sessionData);
/** A session reached its hard lifetime before a rekey finished. */
export const BondingSessionExpiredEvent = defineEventKind('session.expired', sessionData);
/** A handshake was refused (crypto code, or unknown-client / server-full / index-collision). */
export const BondingHandshakeFailedEvent = defineEventKind('handshake.failed', z.object({ peer: z.string(), code: z.string(), message: z.string() }));
/** The TUN MTU changed (client, tun.mtu auto). */
export const BondingMtuChangedEvent = defineEventKind('mtu.changed', z.object({ from: z.int(), to: z.int(), reason: z.string() }));

/** Every kind bonding publishes. */
export const BONDING_EVENT_KINDS = [
  BondingLinkStateEvent,
  BondingSessionEstablishedEvent,
  BondingSessionRekeyedEvent,
  BondingSessionClosedEvent,
  BondingSessionExpiredEvent,
  BondingHandshakeFailedEvent,
  BondingMtuChangedEvent,
] as const;

type LinkStateName = z.infer<typeof linkStates>;
type SessionEvent = z.infer<typeof sessionData>['event'];

/** Publishes bonding's status changes on an event bus. */
export interface BondingEventPublisher {
  readonly bus: EventBus;
  linkState(peer: string, link: string, linkId: number, from: LinkStateName, to: LinkStateName, reason: string): EventV1;
  session(peer: string, event: SessionEvent, detail: string): EventV1;
  handshakeFailed(peer: string, code: string, message: string): EventV1;
  mtu(from: number, to: number, reason: string): EventV1;
}

/** Options of createBondingEventPublisher(). */
export interface BondingEventPublisherInit {
  /** The bus to publish on (default: a new one keeping the last 256 events). */
  bus?: EventBus;
  /** Event ids and times (default: source "bonding", ids from 1, the wall clock). */
  factory?: EventFactory;
}

const SESSION_KINDS = {
  established: BondingSessionEstablishedEvent,
  rekeyed: BondingSessionRekeyedEvent,
  closed: BondingSessionClosedEvent,
  expired: BondingSessionExpiredEvent,
} as const;

/**
 * A publisher of bonding events on `bus` (or a bus of its own).
 *
 * @example
 * const events = createBondingEventPublisher();
 * events.bus.listen((entry) => console.log(entry.event.kind, entry.event.subject));
 * events.linkState('server', 'wan0', 0, 'up', 'down', 'silence');
 */
export function createBondingEventPublisher(init: BondingEventPublisherInit = {}): BondingEventPublisher {
  const bus = init.bus ?? createEventBus({ historySize: 256 });
  const factory = init.factory ?? createEventFactory({ source: 'bonding' });
  const publish = (event: EventV1): EventV1 => {
    bus.publish(event);
    return event;
  };
  return {
    bus,
    linkState(peer, link, linkId, from, to, reason) {
      return publish(
        BondingLinkStateEvent.create(factory, {
          severity: to === 'down' ? 'warning' : 'info',
          subject: `${peer}/${link}`,
          states: { old: from, new: to },
          data: { peer, link, linkId, from, to, reason },
        }),
      );
    },
    session(peer, event, detail) {
      return publish(SESSION_KINDS[event].create(factory, { severity: event === 'expired' ? 'warning' : 'info', subject: peer, data: { peer, event, detail } }));
    },
    handshakeFailed(peer, code, message) {
      return publish(BondingHandshakeFailedEvent.create(factory, { severity: 'warning', subject: peer, data: { peer, code, message } }));
    },
    mtu(from, to, reason) {
      return publish(BondingMtuChangedEvent.create(factory, { subject: 'tun', states: { old: String(from), new: String(to) }, data: { from, to, reason } }));
    },
  };
}
