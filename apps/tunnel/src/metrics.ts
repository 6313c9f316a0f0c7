/**
 * Prometheus metrics of the tunnel, read at scrape time: every metric has a collect() that
 * copies the engine's plain-number counters and the live sessions' mux stats
 * (CONVENTIONS.md "Hot path": no metric call per frame). Label `role` is source or dest.
 *
 *   edgebox_tunnel_sessions                       sessions up now, by state (active, draining)
 *   edgebox_tunnel_sessions_established_total     sessions that finished a handshake
 *   edgebox_tunnel_streams_open                   streams open now (all sessions)
 *   edgebox_tunnel_streams_opened_total           streams opened (source) / accepted (dest)
 *   edgebox_tunnel_streams_refused_total{reason}  OPEN_ERR by code (dest) / failed streams (source)
 *   edgebox_tunnel_bytes_total{direction}         stream payload bytes, in / out
 *   edgebox_tunnel_handshakes_total{result}       ok, or the failure code (CRYPTO_*, refused-network, limit)
 *   edgebox_tunnel_reconnects_total               connect attempts after the first session
 *   edgebox_tunnel_recoveries_total{reason}       recovery signals by reason
 *   edgebox_tunnel_refreshes_total                blue-green swaps
 *   edgebox_tunnel_rekeys_total                   in-band key updates received
 *   edgebox_tunnel_rtt_seconds                    last heartbeat RTT
 *   edgebox_tunnel_clients_refused_total          local clients refused (limit, no session)
 *   edgebox_tunnel_udp_flows_total, udp_dropped_total
 */
import { createCounter, createGauge } from '@edgebox/runtime';
import type { Counter, Gauge, Registry } from 'prom-client';
import { totals, type EngineCounters } from './engine.js';
import type { Session } from './session.js';

/** What the metrics read: the running engine, or null. */
export interface MetricsSource {
  role: 'source' | 'dest';
  counters: EngineCounters;
  sessions: ReadonlySet<Session>;
}

/**
 * Registers the tunnel metrics on `registry`; `engine()` returns the running engine or null.
 *
 * @example registerTunnelMetrics(registry, () => engine);
 */
export function registerTunnelMetrics(registry: Registry, engine: () => MetricsSource | null): void {
  const counter = (what: string, help: string, read: (e: MetricsSource) => number): void => {
    createCounter<'role'>(registry, {
      name: `edgebox_tunnel_${what}_total`,
      help,
      labelNames: ['role'],
      collect(this: Counter<'role'>) {
        this.reset();
        const e = engine();
        if (e !== null) this.inc({ role: e.role }, read(e));
      },
    });
  };
  const byKey = (what: string, help: string, label: string, read: (e: MetricsSource) => Map<string, number>): void => {
    createCounter<string>(registry, {
      name: `edgebox_tunnel_${what}_total`,
      help,
      labelNames: ['role', label],
      collect(this: Counter<string>) {
        this.reset();
        const e = engine();
        if (e === null) return;
        for (const [k, v] of read(e)) this.inc({ role: e.role, [label]: k }, v);
      },
    });
  };
  counter('sessions_established', 'Sessions that finished a handshake', (e) => e.counters.sessionsEstablished);
  counter('streams_opened', 'Streams opened (source) or accepted (dest)', (e) => e.counters.streamsOpened);
  counter('reconnects', 'Connect attempts after the first session (source)', (e) => e.counters.reconnects);
  counter('refreshes', 'Blue-green session swaps (source)', (e) => e.counters.refreshes);
  counter('rekeys', 'In-band key updates received', (e) => totals(e.counters, e.sessions).rekeys);
  counter('clients_refused', 'Local clients refused: connection limit, no session in time (source)', (e) => e.counters.clientsRefused);
  counter('udp_flows', 'UDP datagram channels opened', (e) => e.counters.udpFlows);
  counter('udp_dropped', 'UDP datagrams dropped: no session, flow table full, socket error', (e) => e.counters.udpDropped);
  byKey('handshakes', 'Handshakes by result: ok, or the failure code (CRYPTO_*, TUNNEL_HANDSHAKE, refused-network, limit)', 'result', (e) => e.counters.handshakes);
  byKey('recoveries', 'Recovery signals by reason (heartbeat-timeout, connection-lost, peer-going-away, connect-failed, circuit-open, peer-certificate-expired)', 'reason', (e) => e.counters.recoveries);
  byKey('streams_refused', 'Streams refused by the dest (OPEN_ERR code) or failed at the source (reason)', 'reason', (e) => e.counters.streamsRefused);

  createCounter<'role' | 'direction'>(registry, {
    name: 'edgebox_tunnel_bytes_total',
    help: 'Stream payload bytes through the tunnel (in: received from the peer, out: sent to it)',
    labelNames: ['role', 'direction'],
    collect(this: Counter<'role' | 'direction'>) {
      this.reset();
      const e = engine();
      if (e === null) return;
      const t = totals(e.counters, e.sessions);
      this.inc({ role: e.role, direction: 'in' }, t.bytesIn);
      this.inc({ role: e.role, direction: 'out' }, t.bytesOut);
    },
  });

  createGauge<'role' | 'state'>(registry, {
    name: 'edgebox_tunnel_sessions',
    help: 'Sessions up now, by state (active, draining)',
    labelNames: ['role', 'state'],
    collect(this: Gauge<'role' | 'state'>) {
      this.reset();
      const e = engine();
      if (e === null) return;
      let active = 0;
      for (const s of e.sessions) if (s.state === 'active') active++;
      this.set({ role: e.role, state: 'active' }, active);
      this.set({ role: e.role, state: 'draining' }, e.sessions.size - active);
    },
  });

  createGauge<'role'>(registry, {
    name: 'edgebox_tunnel_streams_open',
    help: 'Streams open now over all sessions',
    labelNames: ['role'],
    collect(this: Gauge<'role'>) {
      this.reset();
      const e = engine();
      if (e !== null) this.set({ role: e.role }, totals(e.counters, e.sessions).openStreams);
    },
  });

  createGauge<'role'>(registry, {
    name: 'edgebox_tunnel_rtt_seconds',
    help: 'Round-trip time of the last heartbeat PING',
    labelNames: ['role'],
    collect(this: Gauge<'role'>) {
      this.reset();
      const e = engine();
      if (e !== null && e.counters.lastRttMs >= 0) this.set({ role: e.role }, e.counters.lastRttMs / 1000);
    },
  });
}
