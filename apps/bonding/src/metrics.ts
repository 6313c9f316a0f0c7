/**
 * Prometheus metrics of the bonding app, read at scrape time: every metric has a collect()
 * that copies the plane's plain-number counters (CONVENTIONS.md "Hot path": no metric call
 * per packet). Labels: `peer` (client: "server"; server: the client's name) and `link`.
 *
 *   per link    edgebox_bonding_link_{tx,rx}_{bytes,packets}_total, link_usable, link_state_info,
 *               link_rtt_seconds, link_jitter_seconds, link_loss_ratio, link_peer_loss_ratio,
 *               link_delivery_rate_bytes (bytes/s the peer reports receiving)
 *   per peer    edgebox_bonding_peer_{tx,rx}_{bytes,packets}_total, peer_drops_total{reason},
 *               peer_reorder_total{outcome}, peer_reorder_wait_seconds
 *   plane       edgebox_bonding_datagram_drops_total{reason}, handshakes_total{result},
 *               sessions_total{event}, peers (gauge), tun_{rx,tx}_packets_total
 */
import { LINK_STATES } from '@edgebox/links';
import { createCounter, createGauge } from '@edgebox/runtime';
import type { Counter, Gauge, Registry } from 'prom-client';
import type { Peer, PeerLink } from './peer.js';
import type { Plane } from './plane.js';
import { OPEN_CODE_NAMES } from './session.js';

type LinkLabels = 'peer' | 'link';

function eachLink(plane: Plane | null, fn: (peer: Peer, link: PeerLink) => void): void {
  if (plane === null) return;
  for (const peer of plane.peers()) for (const link of peer.links) fn(peer, link);
}

function eachPeer(plane: Plane | null, fn: (peer: Peer) => void): void {
  if (plane === null) return;
  for (const peer of plane.peers()) fn(peer);
}

/**
 * Register the bonding metrics on `registry`; `plane()` returns the running plane or null.
 *
 * @example registerBondingMetrics(registry, () => running?.plane ?? null);
 */
export function registerBondingMetrics(registry: Registry, plane: () => Plane | null): void {
  const linkCounter = (what: string, help: string, read: (l: PeerLink) => number): void => {
    createCounter<LinkLabels>(registry, {
      name: `edgebox_bonding_link_${what}_total`,
      help,
      labelNames: ['peer', 'link'],
      collect(this: Counter<LinkLabels>) {
        this.reset();
        eachLink(plane(), (p, l) => this.inc({ peer: p.name, link: l.id }, read(l)));
      },
    });
  };
  linkCounter('tx_bytes', 'Bytes sent on the link (sealed datagrams)', (l) => l.txBytes);
  linkCounter('rx_bytes', 'Bytes received on the link (authentic datagrams)', (l) => l.rxBytes);
  linkCounter('tx_packets', 'Datagrams sent on the link', (l) => l.txPackets);
  linkCounter('rx_packets', 'Authentic datagrams received on the link', (l) => l.rxPackets);
  linkCounter('lost_packets', 'Datagrams missing from the link sequence (receive side, final)', (l) => l.loss.lost);

  const linkGauge = (name: string, help: string, read: (l: PeerLink) => number): void => {
    createGauge<LinkLabels>(registry, {
      name,
      help,
      labelNames: ['peer', 'link'],
      collect(this: Gauge<LinkLabels>) {
        this.reset();
        eachLink(plane(), (p, l) => this.set({ peer: p.name, link: l.id }, read(l)));
      },
    });
  };
  linkGauge('edgebox_bonding_link_usable', 'Link state up or degraded (1) or not (0)', (l) => (l.state === 'up' || l.state === 'degraded' ? 1 : 0));
  linkGauge('edgebox_bonding_link_rtt_seconds', 'Smoothed RTT of the link', (l) => l.rtt.srttMs / 1000);
  linkGauge('edgebox_bonding_link_jitter_seconds', 'Interarrival jitter on the link (RFC 3550)', (l) => l.jitter.jitterMs / 1000);
  linkGauge('edgebox_bonding_link_loss_ratio', 'Loss of what arrives on the link (window of 1024)', (l) => l.loss.lossRatio);
  linkGauge('edgebox_bonding_link_peer_loss_ratio', 'Loss the peer reports on what we send on the link', (l) => l.peerLossRatio);
  linkGauge('edgebox_bonding_link_delivery_rate_bytes', 'Bytes per second the peer reports receiving on the link', (l) => l.txRate.rateBytesPerSec);

  createGauge<'peer' | 'link' | 'state'>(registry, {
    name: 'edgebox_bonding_link_state_info',
    help: 'Link state: 1 for the current state, 0 for the others',
    labelNames: ['peer', 'link', 'state'],
    collect(this: Gauge<'peer' | 'link' | 'state'>) {
      this.reset();
      eachLink(plane(), (p, l) => {
        for (const s of LINK_STATES) this.set({ peer: p.name, link: l.id, state: s }, l.state === s ? 1 : 0);
      });
    },
  });

  const peerCounter = (what: string, help: string, read: (p: Peer) => number): void => {
    createCounter<'peer'>(registry, {
      name: `edgebox_bonding_peer_${what}_total`,
      help,
      labelNames: ['peer'],
      collect(this: Counter<'peer'>) {
        this.reset();
        eachPeer(plane(), (p) => this.inc({ peer: p.name }, read(p)));
      },
    });
  };
  peerCounter('tx_packets', 'TUN packets sent to the peer (once each, whatever the copies)', (p) => p.counters.txPackets);
  peerCounter('tx_bytes', 'TUN bytes sent to the peer', (p) => p.counters.txBytes);
  peerCounter('rx_packets', 'Packets from the peer written to the TUN', (p) => p.counters.rxPackets);
  peerCounter('rx_bytes', 'Bytes from the peer written to the TUN', (p) => p.counters.rxBytes);

  createCounter<'peer' | 'reason'>(registry, {
    name: 'edgebox_bonding_peer_drops_total',
    help: 'Packets to or from the peer dropped, by reason',
    labelNames: ['peer', 'reason'],
    collect(this: Counter<'peer' | 'reason'>) {
      this.reset();
      eachPeer(plane(), (p) => {
        const c = p.counters;
        this.inc({ peer: p.name, reason: 'no_link' }, c.noLink);
        this.inc({ peer: p.name, reason: 'no_session' }, c.noSession);
        this.inc({ peer: p.name, reason: 'seal_refused' }, c.sealRefused);
        this.inc({ peer: p.name, reason: 'malformed' }, c.malformed);
        this.inc({ peer: p.name, reason: 'tun_dropped' }, c.tunDropped);
        this.inc({ peer: p.name, reason: 'reorder_duplicate' }, p.reorder.counters.duplicate);
        this.inc({ peer: p.name, reason: 'reorder_too_old' }, p.reorder.counters.tooOld);
        this.inc({ peer: p.name, reason: 'reorder_oversize' }, p.reorder.counters.oversize);
      });
    },
  });

  createCounter<'peer' | 'outcome'>(registry, {
    name: 'edgebox_bonding_peer_reorder_total',
    help: 'Reorder buffer outcomes: in_order, buffered, late, skipped (sequence numbers given up), timeouts, overflows',
    labelNames: ['peer', 'outcome'],
    collect(this: Counter<'peer' | 'outcome'>) {
      this.reset();
      eachPeer(plane(), (p) => {
        const c = p.reorder.counters;
        this.inc({ peer: p.name, outcome: 'in_order' }, c.inOrder);
        this.inc({ peer: p.name, outcome: 'buffered' }, c.buffered);
        this.inc({ peer: p.name, outcome: 'late' }, c.late);
        this.inc({ peer: p.name, outcome: 'skipped' }, c.skipped);
        this.inc({ peer: p.name, outcome: 'timeouts' }, c.timeouts);
        this.inc({ peer: p.name, outcome: 'overflows' }, c.overflows);
        this.inc({ peer: p.name, outcome: 'loss_skips' }, c.lossSkips);
        this.inc({ peer: p.name, outcome: 'deferred' }, c.deferred);
      });
    },
  });

  createCounter<'peer' | 'event'>(registry, {
    name: 'edgebox_bonding_peer_retransmit_total',
    help: 'Retransmission (bonding.md §4.1): NACKs sent and sequences asked (receiver); packets resent or missed (sender)',
    labelNames: ['peer', 'event'],
    collect(this: Counter<'peer' | 'event'>) {
      this.reset();
      eachPeer(plane(), (p) => {
        const c = p.counters;
        this.inc({ peer: p.name, event: 'nack_sent' }, c.nacksSent);
        this.inc({ peer: p.name, event: 'nacked_seq' }, c.nackedSeqs);
        this.inc({ peer: p.name, event: 'resent' }, c.retransmitted);
        this.inc({ peer: p.name, event: 'missed' }, c.retransmitMissed);
      });
    },
  });

  createGauge<'peer'>(registry, {
    name: 'edgebox_bonding_peer_reorder_wait_seconds',
    help: 'Current reorder gap wait (bonding.md §4)',
    labelNames: ['peer'],
    collect(this: Gauge<'peer'>) {
      this.reset();
      eachPeer(plane(), (p) => this.set({ peer: p.name }, p.reorder.maxWaitMs / 1000));
    },
  });

  createGauge(registry, {
    name: 'edgebox_bonding_peers',
    help: 'Peers with a session (client: 0 or 1; server: connected clients)',
    collect(this: Gauge) {
      let n = 0;
      eachPeer(plane(), (p) => {
        if (p.sealer !== null) n++;
      });
      this.set(n);
    },
  });

  createCounter<'reason'>(registry, {
    name: 'edgebox_bonding_datagram_drops_total',
    help: 'Datagrams dropped before reaching a peer: unknown type or session, and open() failures by reason',
    labelNames: ['reason'],
    collect(this: Counter<'reason'>) {
      this.reset();
      const p = plane();
      if (p === null) return;
      const c = p.counters;
      this.inc({ reason: 'unknownType' }, c.unknownType);
      this.inc({ reason: 'unknownSession' }, c.unknownSession);
      for (let code = 1; code < OPEN_CODE_NAMES.length; code++) this.inc({ reason: OPEN_CODE_NAMES[code]! }, c.openDrops[code]!);
      this.inc({ reason: 'tunOversize' }, c.oversize);
      this.inc({ reason: 'noRoute' }, c.noRoute);
    },
  });

  createCounter<'result'>(registry, {
    name: 'edgebox_bonding_handshakes_total',
    help: 'Handshake messages received, refused, and sessions established / rekeyed',
    labelNames: ['result'],
    collect(this: Counter<'result'>) {
      this.reset();
      const p = plane();
      if (p === null) return;
      const c = p.counters;
      this.inc({ result: 'messages' }, c.handshakeMessages);
      this.inc({ result: 'refused' }, c.handshakeRefused);
      this.inc({ result: 'established' }, c.sessionsEstablished);
      this.inc({ result: 'rekeyed' }, c.rekeys);
    },
  });

  createCounter(registry, {
    name: 'edgebox_bonding_mss_clamped_total',
    help: 'TCP SYNs whose MSS option was lowered to fit the TUN MTU',
    collect(this: Counter) {
      this.reset();
      this.inc(plane()?.counters.mssClamped ?? 0);
    },
  });

  const tunCounter = (name: string, help: string, read: (p: Plane) => number): void => {
    createCounter(registry, {
      name,
      help,
      collect(this: Counter) {
        this.reset();
        const p = plane();
        this.inc(p === null ? 0 : read(p));
      },
    });
  };
  tunCounter('edgebox_bonding_tun_rx_packets_total', 'Packets read from the TUN device', (p) => p.tun.stats.rxPackets);
  tunCounter('edgebox_bonding_tun_tx_packets_total', 'Packets written to the TUN device', (p) => p.tun.stats.txPackets);
  tunCounter('edgebox_bonding_tun_tx_dropped_total', 'TUN writes refused (queue full, device down, not IP)', (p) => p.tun.stats.txDropped + p.tun.stats.txInvalid);
}
