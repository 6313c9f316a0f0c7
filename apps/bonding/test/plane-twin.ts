// An in-memory twin of the data plane (CONVENTIONS.md "Tests": in-memory twins let two
// endpoints talk without root): two planes, each with one peer over N links, whose link
// "sockets" queue datagrams for the other side, and a TUN that records what is written.
// The stages under test (send.ts, receive.ts, timers.ts) are the production ones.
import type { TunDevice, UdpEndpoint, UdpLink } from '@edgebox/links';
import type { SchedulerKind } from '@edgebox/links';
import { requestRetransmits } from '../src/retransmit.js';
import { Peer, PeerLink } from '../src/peer.js';
import { createPlaneBuffers, createPlaneCounters } from '../src/plane.js';
import type { Plane, PlaneCounters } from '../src/plane.js';
import { onDatagram } from '../src/receive.js';
import { createSession } from '../src/session.js';
import type { BondingSession } from '../src/session.js';
import { resultPair } from './helpers.js';

/** A datagram on its way: to which side, on which link. */
interface InFlight {
  to: TwinPlane;
  link: number;
  data: Uint8Array;
}

/** One end of the twin. */
export class TwinPlane implements Plane {
  readonly mode: 'client' | 'server';
  readonly tunMtu = 1428;
  readonly ring;
  readonly pickOut;
  readonly report;
  readonly feedbackPayload;
  readonly nackPayload;
  readonly counters: PlaneCounters = createPlaneCounters();
  readonly socket = null;
  hitPeer: Peer | null = null;
  readonly peer: Peer;
  readonly written: Uint8Array[] = [];
  readonly tun: TunDevice;
  session: BondingSession;
  closed = 0;
  handshakes = 0;
  other!: TwinPlane;

  constructor(mode: 'client' | 'server', session: BondingSession, links: number, scheduler: SchedulerKind, wire: InFlight[], cut: Set<number>, retransmitPackets = 256) {
    this.mode = mode;
    const b = createPlaneBuffers(this.tunMtu);
    this.ring = b.ring;
    this.pickOut = b.pickOut;
    this.report = b.report;
    this.feedbackPayload = b.feedbackPayload;
    this.nackPayload = b.nackPayload;
    this.session = session;
    const written = this.written;
    this.tun = { write: (p: Uint8Array) => (written.push(Uint8Array.from(p)), true), stats: { rxPackets: 0, txPackets: 0, txDropped: 0 } } as unknown as TunDevice;
    this.peer = new Peer({ name: mode === 'client' ? 'server' : 'site-a', scheduler, reorderCapacity: 64, slotBytes: this.tunMtu, minWaitMs: 1, retransmitPackets, deliver: (p) => this.tun.write(p) });
    if (this.peer.retransmit !== null) this.peer.reorder.onTimeout = (seq, now) => requestRetransmits(this, this.peer, seq, now);
    this.peer.sealer = session;
    for (let i = 0; i < links; i++) {
      const link = new PeerLink({ name: `l${i}`, linkId: i, nowMs: 0 });
      link.udp = {
        send: (data: Uint8Array, offset = 0, length = data.length - offset) => {
          if (!cut.has(i)) wire.push({ to: this.other, link: i, data: Uint8Array.from(data.subarray(offset, offset + length)) });
          return true;
        },
        stats: { sendErrors: 0 },
      } as unknown as UdpLink;
      this.peer.addLink(link);
    }
  }

  resolve(index: number): BondingSession | undefined {
    this.hitPeer = this.peer;
    return index === this.session.localIndex ? this.session : undefined;
  }
  route(): Peer | undefined {
    return this.peer;
  }
  linkFor(peer: Peer, linkId: number): PeerLink | undefined {
    return peer.byLinkId[linkId];
  }
  onAuthentic(): void {}
  onHandshake(): void {
    this.handshakes++;
  }
  onClose(): void {
    this.closed++;
  }
  peers(): Iterable<Peer> {
    return [this.peer];
  }
  onTick(): void {}
}

/** Two twin planes joined by `links` lossless links (cut ones drop everything). */
export interface Twin {
  client: TwinPlane;
  server: TwinPlane;
  /** Datagrams sent and not yet delivered. */
  wire: InFlight[];
  cut: Set<number>;
  /** Deliver everything in flight (in `order`: default FIFO) at `nowMs`; returns how many. */
  flush(nowMs: number, order?: (a: InFlight[]) => InFlight[]): number;
}

const FROM: UdpEndpoint = { address: '192.0.2.1', port: 4000 };

/**
 * @example
 * const twin = createTwin({ links: 3 });
 * sendData(twin.client, twin.client.peer, packet, 0);
 * twin.flush(1);
 * expect(twin.server.written).toEqual([packet]);
 */
export function createTwin(init: { links?: number; scheduler?: SchedulerKind; retransmitPackets?: number } = {}): Twin {
  const wire: InFlight[] = [];
  const cut = new Set<number>();
  const pair = resultPair();
  const client = new TwinPlane('client', createSession(pair.client, { nowMs: 0 }), init.links ?? 3, init.scheduler ?? 'aggregate', wire, cut, init.retransmitPackets);
  const server = new TwinPlane('server', createSession(pair.server, { nowMs: 0 }), init.links ?? 3, init.scheduler ?? 'aggregate', wire, cut, init.retransmitPackets);
  client.other = server;
  server.other = client;
  return {
    client,
    server,
    wire,
    cut,
    flush(nowMs, order) {
      let n = 0;
      while (wire.length > 0) {
        const batch = order === undefined ? wire.splice(0) : order(wire.splice(0));
        for (const d of batch) {
          onDatagram(d.to, d.data, FROM, nowMs);
          n++;
        }
      }
      return n;
    },
  };
}

/** An IPv4 packet of `length` bytes whose identification field is `id` (enough for the TUN twin). */
export function ipv4Packet(id: number, length = 100): Uint8Array {
  const p = new Uint8Array(length);
  p[0] = 0x45;
  p[2] = length >> 8;
  p[3] = length & 0xff;
  p[4] = id >> 8;
  p[5] = id & 0xff;
  p[8] = 64;
  p[9] = 17;
  return p;
}
