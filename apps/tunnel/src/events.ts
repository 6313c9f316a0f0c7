/**
 * Status as events (@edgebox/events, schema v1): the kinds the tunnel publishes. Every event
 * has `source: "tunnel"`; app specifics are in `data`, checked by each kind's zod schema.
 *
 *   kind                 subject          severity                 data
 *   session.established  session/<id>     info                     {role, session, peer, remote, detail}
 *   session.draining     session/<id>     info                     (same)
 *   session.closed       session/<id>     info                     (same)
 *   recovery             session/<id>|-   warning                  {role, reason, session, code, detail, retryInMs}
 *   handshake.failed     <remote>         warning                  {role, remote, code, message}
 *   circuit.state        circuit          warning when open        {from, to, reason}
 *
 * Cold path only: one event per session change, failed handshake or breaker transition.
 */
import { z } from 'zod';
import { createEventBus, createEventFactory, defineEventKind } from '@edgebox/events';
import type { EventBus, EventFactory, EventV1 } from '@edgebox/events';
import type { RecoverySignal } from './session.js';

const role = z.enum(['source', 'dest']);
const sessionData = z.object({ role, session: z.int(), peer: z.string(), remote: z.string(), detail: z.string() });

/** A session finished its handshake. */
export const TunnelSessionEstablishedEvent = defineEventKind('session.established', sessionData);
/** A session takes no new streams (GOAWAY, blue-green swap, stop) and drains. */
export const TunnelSessionDrainingEvent = defineEventKind('session.draining', sessionData);
/** A session ended. */
export const TunnelSessionClosedEvent = defineEventKind('session.closed', sessionData);
/** A typed recovery signal: heartbeat-timeout, connection-lost, peer-going-away, connect-failed, circuit-open, peer-certificate-expired. */
export const TunnelRecoveryEvent = defineEventKind(
  'recovery',
  z.object({
    role,
    reason: z.enum(['heartbeat-timeout', 'connection-lost', 'peer-going-away', 'connect-failed', 'circuit-open', 'peer-certificate-expired']),
    session: z.int().nullable(),
    code: z.string().nullable(),
    detail: z.string(),
    retryInMs: z.number().nullable(),
  }),
);
/** A handshake failed or a connection was refused before it (refused-network, limit). */
export const TunnelHandshakeFailedEvent = defineEventKind('handshake.failed', z.object({ role, remote: z.string(), code: z.string(), message: z.string() }));
/** The source's circuit breaker changed state. */
export const TunnelCircuitStateEvent = defineEventKind('circuit.state', z.object({ from: z.string(), to: z.string(), reason: z.string() }));

/** Every kind the tunnel publishes. */
export const TUNNEL_EVENT_KINDS = [
  TunnelSessionEstablishedEvent,
  TunnelSessionDrainingEvent,
  TunnelSessionClosedEvent,
  TunnelRecoveryEvent,
  TunnelHandshakeFailedEvent,
  TunnelCircuitStateEvent,
] as const;

/** Publishes tunnel status changes on an event bus. */
export interface TunnelEventPublisher {
  readonly bus: EventBus;
  session(role: 'source' | 'dest', event: 'established' | 'draining' | 'closed', data: { session: number; peer: string; remote: string; detail: string }): EventV1;
  recovery(role: 'source' | 'dest', signal: RecoverySignal): EventV1;
  handshakeFailed(role: 'source' | 'dest', remote: string, code: string, message: string): EventV1;
  circuit(from: string, to: string, reason: string): EventV1;
}

const SESSION_KINDS = {
  established: TunnelSessionEstablishedEvent,
  draining: TunnelSessionDrainingEvent,
  closed: TunnelSessionClosedEvent,
} as const;

/**
 * A publisher of tunnel events on `bus` (or a bus of its own keeping the last 256).
 *
 * @example
 * const events = createTunnelEventPublisher();
 * events.bus.listen((entry) => console.log(entry.event.kind, entry.event.subject));
 */
export function createTunnelEventPublisher(init: { bus?: EventBus; factory?: EventFactory } = {}): TunnelEventPublisher {
  const bus = init.bus ?? createEventBus({ historySize: 256 });
  const factory = init.factory ?? createEventFactory({ source: 'tunnel' });
  const publish = (event: EventV1): EventV1 => {
    bus.publish(event);
    return event;
  };
  return {
    bus,
    session(role, event, data) {
      return publish(SESSION_KINDS[event].create(factory, { subject: `session/${data.session}`, data: { role, ...data } }));
    },
    recovery(role, s) {
      return publish(
        TunnelRecoveryEvent.create(factory, {
          severity: 'warning',
          subject: s.session === null ? 'connect' : `session/${s.session}`,
          data: { role, reason: s.reason, session: s.session, code: s.code, detail: s.detail, retryInMs: s.retryInMs },
        }),
      );
    },
    handshakeFailed(role, remote, code, message) {
      return publish(TunnelHandshakeFailedEvent.create(factory, { severity: 'warning', subject: remote, data: { role, remote, code, message } }));
    },
    circuit(from, to, reason) {
      return publish(TunnelCircuitStateEvent.create(factory, { severity: to === 'open' ? 'warning' : 'info', subject: 'circuit', states: { old: from, new: to }, data: { from, to, reason } }));
    },
  };
}
