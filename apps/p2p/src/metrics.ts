/**
 * Prometheus metrics of the p2p app (`edgebox_p2p_*`), read at scrape time from the network's
 * counters: nothing is touched per message beyond the plain counters themselves.
 */
import { createCounter, createGauge } from '@edgebox/runtime';
import type { Counter, Gauge, Registry } from 'prom-client';
import { CONNECTION_STATES } from '@edgebox/peers';
import type { P2pNetwork } from './network.js';

/**
 * Register the p2p metrics on `registry`; `network()` returns the running network or null.
 *
 * @example registerP2pMetrics(registry, () => running?.network ?? null);
 */
export function registerP2pMetrics(registry: Registry, network: () => P2pNetwork | null): void {
  const total = (name: string, help: string, read: (n: P2pNetwork) => number): void => {
    createCounter(registry, {
      name: `edgebox_p2p_${name}_total`,
      help,
      collect(this: Counter) {
        this.reset();
        const n = network();
        if (n !== null) this.inc(read(n));
      },
    });
  };
  total('handshakes', 'Handshakes completed', (n) => n.counters().handshakes);
  total('handshake_failures', 'Handshakes failed (timeout, malformed, identity mismatch)', (n) => n.counters().handshakeFailures);
  total('identity_mismatches', 'Handshakes refused: the handshake identity was not the Noise peer id', (n) => n.counters().identityMismatches);
  total('messages_received', 'Messages delivered from named streams', (n) => n.counters().messagesIn);
  total('messages_sent', 'Messages sealed and sent on named streams', (n) => n.counters().messagesOut);
  total('received_bytes', 'Plaintext bytes delivered', (n) => n.counters().bytesIn);
  total('sent_bytes', 'Plaintext bytes sent', (n) => n.counters().bytesOut);
  total('feed_dropped_messages', 'Messages dropped because a feed subscriber fell behind', (n) => n.counters().feedDropped);
  total('resumed_handshakes', 'Handshakes resumed from a ticket (PSK + fresh X25519)', (n) => n.counters().resumed);
  total('resumption_fallbacks', 'Our tickets the responder refused (a full handshake followed)', (n) => n.counters().resumeRejected);
  total('tickets_issued', 'Resumption tickets issued as responder', (n) => n.counters().ticketsIssued);
  total('tickets_accepted', 'Resumption tickets accepted as responder', (n) => n.counters().ticketsAccepted);
  total('acks_sent', 'ACK frames sent for ack-requested messages', (n) => n.counters().acksSent);
  total('acks_received', 'ACKs received for our acknowledged sends', (n) => n.counters().acksReceived);
  total('ack_retries', 'Acknowledged sends sent again after an ACK timeout', (n) => n.counters().ackRetries);
  total('ack_timeouts', 'Acknowledged sends that failed with P2P_ACK_TIMEOUT', (n) => n.counters().ackTimeouts);
  total('duplicate_messages', 'Ack-requested messages received again (retries) and not delivered twice', (n) => n.counters().duplicates);
  total('send_queued_messages', 'Sends that waited in a priority queue under back-pressure', (n) => n.counters().sendQueued);
  total('send_queue_full', 'Sends refused because their priority queue was full (P2P_LIMIT)', (n) => n.counters().sendQueueFull);

  createCounter<'reason'>(registry, {
    name: 'edgebox_p2p_tickets_rejected_total',
    help: 'Resumption tickets presented to us and refused, by reason (a full handshake followed)',
    labelNames: ['reason'],
    collect(this: Counter<'reason'>) {
      this.reset();
      const n = network();
      if (n === null) return;
      for (const [reason, count] of Object.entries(n.counters().ticketsRejected)) this.inc({ reason }, count);
    },
  });

  createCounter<'reason'>(registry, {
    name: 'edgebox_p2p_dropped_messages_total',
    help: 'Received frames dropped, by reason (bad-auth, replayed, malformed, rate-limited, framing, no-session)',
    labelNames: ['reason'],
    collect(this: Counter<'reason'>) {
      this.reset();
      const n = network();
      if (n === null) return;
      for (const [reason, count] of Object.entries(n.counters().dropped)) this.inc({ reason }, count);
    },
  });

  createGauge<'state'>(registry, {
    name: 'edgebox_p2p_peers',
    help: 'Known peers by connection state',
    labelNames: ['state'],
    collect(this: Gauge<'state'>) {
      this.reset();
      const n = network();
      const counts = new Map<string, number>(CONNECTION_STATES.map((s) => [s, 0]));
      if (n !== null) for (const p of n.peers()) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
      for (const [state, count] of counts) this.set({ state }, count);
    },
  });
}
