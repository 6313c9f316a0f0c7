/**
 * Status as events (@edgebox/events, schema v1): the kinds p2p publishes on the bus. Every
 * event has `source: "p2p"`; specifics are in `data`, checked by each kind's zod schema. These
 * are also the audit log: connection attempts and state changes, handshakes, access-list and
 * address-book changes.
 *
 *   kind                 subject   states      severity                          data
 *   peer.state           <peer>    old → new   warning when → cooldown, else info {peer, from, to, reason}
 *   handshake.completed  <peer>    –           info                              {peer, role, suite, handshakeMs, resumed}
 *   handshake.failed     <peer>    –           warning                           {peer, code, message}
 *   access.changed       <value>   –           info                              {target, value, action, change, reason}
 *   peers.changed        <peer>    –           info                              {peer, change}
 *
 * Cold path only: nothing is published per message (drops are counters and the callback).
 */
import { z } from 'zod';
import { createEventBus, createEventFactory, defineEventKind } from '@edgebox/events';
import type { EventBus, EventFactory, EventV1 } from '@edgebox/events';
import { CONNECTION_STATES, type AccessChange, type ConnectionState } from '@edgebox/peers';

const states = z.enum(CONNECTION_STATES);

/** A peer's connection state changed. */
export const P2pPeerStateEvent = defineEventKind('peer.state', z.object({ peer: z.string(), from: states, to: states, reason: z.string() }));
/** A handshake completed: the peer is established. */
export const P2pHandshakeCompletedEvent = defineEventKind(
  'handshake.completed',
  z.object({ peer: z.string(), role: z.enum(['initiator', 'responder']), suite: z.string(), handshakeMs: z.number().nonnegative(), resumed: z.boolean().optional() }),
);
/** A handshake failed (P2P_HANDSHAKE, P2P_IDENTITY_MISMATCH). */
export const P2pHandshakeFailedEvent = defineEventKind('handshake.failed', z.object({ peer: z.string(), code: z.string(), message: z.string() }));
/** An allow / block rule was added, replaced, removed or expired. */
export const P2pAccessChangedEvent = defineEventKind(
  'access.changed',
  z.object({ target: z.enum(['peer', 'cidr']), value: z.string(), action: z.enum(['allow', 'block']), change: z.enum(['added', 'replaced', 'removed', 'expired']), reason: z.string() }),
);
/** A peer was added to, updated in or removed from the address book. */
export const P2pPeersChangedEvent = defineEventKind('peers.changed', z.object({ peer: z.string(), change: z.enum(['added', 'updated', 'removed']) }));

/** Every kind p2p publishes. */
export const P2P_EVENT_KINDS = [P2pPeerStateEvent, P2pHandshakeCompletedEvent, P2pHandshakeFailedEvent, P2pAccessChangedEvent, P2pPeersChangedEvent] as const;

/** Publishes p2p's status changes on an event bus. */
export interface P2pEventPublisher {
  readonly bus: EventBus;
  peerState(peer: string, from: ConnectionState, to: ConnectionState, reason: string): EventV1;
  handshakeCompleted(peer: string, role: 'initiator' | 'responder', suite: string, handshakeMs: number, resumed?: boolean): EventV1;
  handshakeFailed(peer: string, code: string, message: string): EventV1;
  accessChanged(change: AccessChange): EventV1;
  peersChanged(peer: string, change: 'added' | 'updated' | 'removed'): EventV1;
}

/**
 * A publisher of p2p events on `bus` (or a bus of its own keeping the last 256).
 *
 * @example
 * const events = createP2pEventPublisher();
 * events.bus.listen((entry) => console.log(entry.event.kind, entry.event.subject));
 */
export function createP2pEventPublisher(init: { bus?: EventBus; factory?: EventFactory } = {}): P2pEventPublisher {
  const bus = init.bus ?? createEventBus({ historySize: 256 });
  const factory = init.factory ?? createEventFactory({ source: 'p2p' });
  const publish = (event: EventV1): EventV1 => {
    bus.publish(event);
    return event;
  };
  return {
    bus,
    peerState(peer, from, to, reason) {
      return publish(
        P2pPeerStateEvent.create(factory, { severity: to === 'cooldown' ? 'warning' : 'info', subject: peer, states: { old: from, new: to }, data: { peer, from, to, reason } }),
      );
    },
    handshakeCompleted(peer, role, suite, handshakeMs, resumed = false) {
      return publish(P2pHandshakeCompletedEvent.create(factory, { subject: peer, data: { peer, role, suite, handshakeMs, resumed } }));
    },
    handshakeFailed(peer, code, message) {
      return publish(P2pHandshakeFailedEvent.create(factory, { severity: 'warning', subject: peer, data: { peer, code, message } }));
    },
    accessChanged(change) {
      const e = change.entry;
      return publish(
        P2pAccessChangedEvent.create(factory, { subject: e.value, data: { target: e.target, value: e.value, action: e.action, change: change.type, reason: e.reason } }),
      );
    },
    peersChanged(peer, change) {
      return publish(P2pPeersChangedEvent.create(factory, { subject: peer, data: { peer, change } }));
    },
  };
}
