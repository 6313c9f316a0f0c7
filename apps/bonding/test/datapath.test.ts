// The send and receive paths and the tick, end to end between two in-memory planes
// (plane-twin.ts): scheduling, sealing, opening, reordering, duplicates, probes, feedback,
// failure detection and drops, all without sockets or root.
import { describe, expect, it } from 'vitest';
import { TYPE_DATA } from '../src/constants.js';
import { OPEN_BAD_AUTH, OPEN_REPLAYED } from '../src/session.js';
import { onDatagram } from '../src/receive.js';
import { onTunPackets, sendData, sendProbe, transmit } from '../src/send.js';
import { feedbackStalled, onTick } from '../src/timers.js';
import { createTwin, ipv4Packet } from './plane-twin.js';
import type { Twin } from './plane-twin.js';

const idOf = (p: Uint8Array): number => (p[4]! << 8) | p[5]!;
const FROM = { address: '192.0.2.9', port: 9 };

/** Ticks both planes every `step` ms from `from` to `to`, delivering what is in flight each time. */
function run(twin: Twin, from: number, to: number, step = 10, each?: (t: number) => void): void {
  for (let t = from; t <= to; t += step) {
    each?.(t);
    onTick(twin.client, t);
    onTick(twin.server, t);
    twin.flush(t);
  }
}

describe('data path between two planes', () => {
  it('DATA from the client reaches the server TUN once each, in order, spread over every link', () => {
    const twin = createTwin({ links: 3 });
    for (let i = 0; i < 30; i++) sendData(twin.client, twin.client.peer, ipv4Packet(i), 1);
    expect(twin.wire).toHaveLength(30);
    twin.flush(2);
    expect(twin.server.written.map(idOf)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(twin.client.peer.links.map((l) => l.txPackets)).toEqual([10, 10, 10]);
    expect(twin.server.peer.links.map((l) => l.rxPackets)).toEqual([10, 10, 10]);
    expect(twin.client.peer.counters.txPackets).toBe(30);
    expect(twin.server.peer.counters.rxPackets).toBe(0); // the twin's deliver writes straight to its TUN
  });

  it('packets reordered across links are put back in order by the reorder buffer', () => {
    const twin = createTwin({ links: 2 });
    sendData(twin.client, twin.client.peer, ipv4Packet(0), 1);
    twin.flush(1);
    for (let i = 1; i <= 10; i++) sendData(twin.client, twin.client.peer, ipv4Packet(i), 2);
    twin.flush(3, (batch) => [...batch.filter((d) => d.link === 1), ...batch.filter((d) => d.link === 0)]); // each link stays FIFO
    expect(twin.server.written.map(idOf)).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(twin.server.peer.reorder.counters.buffered).toBeGreaterThan(0);
  });

  it('a gap is skipped once the held packet waited maxWait, and the straggler is delivered late', () => {
    const twin = createTwin({ links: 2 });
    sendData(twin.client, twin.client.peer, ipv4Packet(0), 0);
    twin.flush(0);
    sendData(twin.client, twin.client.peer, ipv4Packet(1), 0);
    sendData(twin.client, twin.client.peer, ipv4Packet(2), 0);
    const straggler = twin.wire.shift()!;
    twin.flush(0);
    expect(twin.server.written.map(idOf)).toEqual([0]);
    run(twin, 10, 300, 10);
    expect(twin.server.written.map(idOf)).toEqual([0, 2]);
    twin.wire.push(straggler);
    twin.flush(310);
    expect(twin.server.written.map(idOf)).toEqual([0, 2, 1]);
    expect(twin.server.peer.reorder.counters.late).toBe(1);
  });

  it('without retransmission, a loss every busy link has passed is skipped at once, not after the wait', () => {
    const twin = createTwin({ links: 2, retransmitPackets: 0 });
    let id = 0;
    run(twin, 0, 500, 10, (t) => sendData(twin.client, twin.client.peer, ipv4Packet(id++), t));
    expect(twin.server.peer.links.map((l) => l.state)).toEqual(['up', 'up']);
    twin.server.peer.reorder.maxWaitMs = 200;
    for (let k = 0; k < 6; k++) sendData(twin.client, twin.client.peer, ipv4Packet(1000 + k), 600);
    const lost = twin.wire.findIndex((d) => d.link === 0);
    twin.wire.splice(lost, 1); // one packet lost on link 0; both links carry later ones
    twin.flush(600);
    const last = twin.server.written.map(idOf).slice(-5);
    expect(last).toEqual([...last].sort((a, b) => a - b));
    expect(last.every((x) => x >= 1000)).toBe(true);
    expect(twin.server.peer.reorder.counters.lossSkips).toBe(1);
    expect(twin.server.peer.reorder.held).toBe(0);
  });

  it('with retransmission, a proven loss is asked for, resent on another link and delivered in order', () => {
    const twin = createTwin({ links: 2 });
    let id = 0;
    run(twin, 0, 500, 10, (t) => sendData(twin.client, twin.client.peer, ipv4Packet(id++), t));
    const server = twin.server.peer;
    const client = twin.client.peer;
    server.reorder.maxWaitMs = 200;
    for (let k = 0; k < 6; k++) sendData(twin.client, client, ipv4Packet(1000 + k), 600);
    const lostAt = twin.wire.findIndex((d) => d.link === 0);
    twin.wire.splice(lostAt, 1);
    const resentOn: number[] = [];
    twin.flush(600, (batch) => {
      for (const d of batch) if (d.to === twin.server && client.counters.retransmitted > 0 && resentOn.length === 0) resentOn.push(d.link);
      return batch;
    });
    expect(twin.server.written.map(idOf).slice(-6)).toEqual([1000, 1001, 1002, 1003, 1004, 1005]);
    expect(server.counters).toMatchObject({ nacksSent: 1, nackedSeqs: 1 });
    expect(client.counters).toMatchObject({ retransmitted: 1, retransmitMissed: 0 });
    expect(resentOn).toEqual([1]); // not on link 0, where it was lost
    expect(server.reorder.counters.lossSkips).toBe(0);
    expect(server.reorder.held).toBe(0);
  });

  it('with retransmission, a gap no link can prove lost is asked for when its wait runs out', () => {
    const twin = createTwin({ links: 2 });
    let id = 0;
    run(twin, 0, 500, 10, (t) => sendData(twin.client, twin.client.peer, ipv4Packet(id++), t));
    const server = twin.server.peer;
    server.reorder.maxWaitMs = 5;
    for (let k = 0; k < 8; k++) sendData(twin.client, twin.client.peer, ipv4Packet(3000 + k), 600);
    // drop the last DATA of the link that does not carry the last one: that link never passes it
    const isData = (d: { data: Uint8Array }): boolean => d.data[1] === TYPE_DATA;
    const lastData = twin.wire.findLastIndex(isData);
    const other = 1 - twin.wire[lastData]!.link;
    const drop = twin.wire.findLastIndex((d) => d.link === other && isData(d));
    expect(drop).toBeGreaterThanOrEqual(0);
    twin.wire.splice(drop, 1);
    twin.flush(600);
    expect(server.reorder.held).toBeGreaterThan(0);
    expect(server.counters.nacksSent).toBe(0);
    server.reorder.poll(606); // the wait ran out: NACK instead of skipping
    expect(server.counters.nacksSent).toBe(1);
    twin.flush(607);
    expect(twin.server.written.map(idOf).slice(-8)).toEqual([3000, 3001, 3002, 3003, 3004, 3005, 3006, 3007]);
    expect(server.reorder.counters).toMatchObject({ timeouts: 0, lossSkips: 0 });
    expect(server.reorder.held).toBe(0);
  });

  it('with retransmission, a gap whose answer never comes is skipped at its deadline, and asked for once', () => {
    const twin = createTwin({ links: 2 });
    let id = 0;
    run(twin, 0, 500, 10, (t) => sendData(twin.client, twin.client.peer, ipv4Packet(id++), t));
    const server = twin.server.peer;
    server.reorder.maxWaitMs = 200;
    for (let k = 0; k < 6; k++) sendData(twin.client, twin.client.peer, ipv4Packet(1000 + k), 600);
    twin.wire.splice(twin.wire.findIndex((d) => d.link === 0), 1);
    // every NACK the server sends is lost: nothing is resent
    twin.flush(600, (batch) => batch.filter((d) => d.to !== twin.client));
    expect(server.counters.nacksSent).toBe(1);
    expect(server.reorder.held).toBeGreaterThan(0); // held for the answer, not skipped
    const deadline = server.reorder.nextDeadlineMs();
    expect(deadline).toBeGreaterThan(600);
    expect(deadline).toBeLessThanOrEqual(600 + 200);
    server.reorder.poll(deadline);
    expect(server.reorder.held).toBe(0);
    expect(server.reorder.counters.lossSkips).toBe(1);
    const got = twin.server.written.map(idOf).filter((x) => x >= 1000);
    expect(got).toHaveLength(5); // all but the lost one, in order
    expect(got).toEqual([...got].sort((a, b) => a - b));
    expect(server.counters.nacksSent).toBe(1);
  });

  it('a link that carried no data for a whole wait does not hold back the proof of a loss', () => {
    // a lossy or backup link the scheduler starves must not stall every gap for the full wait
    const twin = createTwin({ links: 3, retransmitPackets: 0 });
    let id = 0;
    run(twin, 0, 300, 10, (t) => sendData(twin.client, twin.client.peer, ipv4Packet(id++), t));
    const server = twin.server.peer;
    expect(server.links.map((l) => l.state)).toEqual(['up', 'up', 'up']);
    server.reorder.maxWaitMs = 200;
    // at 700 ms link 2 last carried data at ~300 ms: idle for more than the wait. Links 0 and 1
    // carry the next packets (as a scheduler that starves link 2 would), and one is lost.
    const client = twin.client.peer;
    for (let k = 0; k < 6; k++) {
      const seq = client.dataSeq;
      client.dataSeq = (seq + 1) >>> 0;
      transmit(twin.client, client, client.sealer!, client.links[k % 2]!, TYPE_DATA, seq, ipv4Packet(2000 + k), 700);
    }
    twin.wire.splice(twin.wire.findIndex((d) => d.link === 0), 1);
    twin.flush(700);
    expect(server.links[2]!.state).not.toBe('down');
    expect(server.reorder.counters.lossSkips).toBe(1);
    expect(server.reorder.held).toBe(0);
    expect(twin.server.written.map(idOf).slice(-5)).toEqual([2001, 2002, 2003, 2004, 2005]);
  });

  it('loss in one direction only: FEEDBACK reports it at once (the sender sees it as peerLossRatio, the receiver in its window)', () => {
    const twin = createTwin({ links: 2 });
    let id = 0;
    let seen = 0;
    // every 10th datagram from the client on link 1 is lost; the server's sends are all delivered
    const lossyUp = (batch: { to: unknown; link: number }[]) => batch.filter((d) => !(d.to === twin.server && d.link === 1 && ++seen % 10 === 0));
    for (let t = 0; t <= 2000; t += 10) {
      for (let k = 0; k < 4; k++) sendData(twin.client, twin.client.peer, ipv4Packet(id++), t);
      onTick(twin.client, t);
      onTick(twin.server, t);
      twin.flush(t, lossyUp as never);
    }
    const up = twin.client.peer.links[1]!;
    expect(up.loss.lossRatio).toBe(0); // nothing is lost towards the client
    // the server's reports say ~10% (an EWMA over 100 ms reports: it wanders around that)
    expect(up.peerLossRatio).toBeGreaterThan(0.04);
    expect(twin.server.peer.links[1]!.loss.lossRatio).toBeGreaterThan(0.05);
  });

  it('redundant: every packet goes on every link and is written once', () => {
    const twin = createTwin({ links: 3, scheduler: 'redundant' });
    for (let i = 0; i < 10; i++) sendData(twin.client, twin.client.peer, ipv4Packet(i), 1);
    expect(twin.wire).toHaveLength(30);
    twin.flush(2);
    expect(twin.server.written.map(idOf)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(twin.server.peer.reorder.counters.duplicate).toBe(20);
  });

  it('a PROBE is answered with a PROBE_ACK whose echo gives an RTT sample', () => {
    const twin = createTwin({ links: 1 });
    const link = twin.client.peer.links[0]!;
    sendProbe(twin.client, twin.client.peer, twin.client.session, link, 100);
    twin.flush(103); // the probe reaches the server, its ack goes back
    expect(link.rtt.sampleCount).toBe(1);
    expect(link.rtt.srttMs).toBe(3);
    expect(link.probes.probesSent).toBe(1);
  });

  it('links come up, FEEDBACK feeds the delivery rate, and a cut busy link goes down within a few hundred ms', () => {
    const twin = createTwin({ links: 3 });
    let id = 0;
    const traffic = (t: number): void => {
      for (let k = 0; k < 6; k++) sendData(twin.client, twin.client.peer, ipv4Packet(id++ & 0xffff, 1000), t);
    };
    run(twin, 0, 1000, 10, traffic);
    const links = twin.client.peer.links;
    expect(links.map((l) => l.state)).toEqual(['up', 'up', 'up']);
    expect(links.every((l) => l.txRate.rateBytesPerSec > 0)).toBe(true);
    expect(twin.server.written.length).toBe(id);
    twin.cut.add(1);
    let downAt = -1;
    run(twin, 1010, 2000, 10, (t) => {
      traffic(t);
      if (downAt < 0 && links[1]!.state === 'down') downAt = t;
    });
    expect(downAt).toBeGreaterThan(1010);
    expect(downAt - 1010).toBeLessThanOrEqual(400);
    // after the link went down nothing more is lost: the last 500 ms of packets all arrived
    const written = new Set(twin.server.written.map(idOf));
    const sentLate = Array.from({ length: 6 * 50 }, (_, k) => (id - 1 - k) & 0xffff);
    expect(sentLate.every((x) => written.has(x))).toBe(true);
  });

  it('a feedback stall needs recent reports and packets sent since the last progress', () => {
    const twin = createTwin({ links: 1 });
    const peer = twin.client.peer;
    const link = peer.links[0]!;
    expect(feedbackStalled(peer, link, 1000)).toBe(false); // no report ever
    peer.lastFeedbackMs = 990;
    expect(feedbackStalled(peer, link, 1000)).toBe(false); // nothing sent since
    link.txPackets = 20;
    expect(feedbackStalled(peer, link, 1000)).toBe(true);
    link.fbProgressMs = 900;
    expect(feedbackStalled(peer, link, 1000)).toBe(false); // progress 100 ms ago
  });

  it('a peer whose data sequence jumped (a restart) resets the reorder buffer instead of dropping as too old', () => {
    const twin = createTwin({ links: 1 });
    for (let i = 0; i < 5; i++) sendData(twin.client, twin.client.peer, ipv4Packet(i), 1);
    twin.flush(1);
    twin.client.peer.dataSeq = (twin.client.peer.dataSeq + 0x4000_0000) >>> 0;
    twin.server.peer.checkSeqJump = true; // what a new session sets
    sendData(twin.client, twin.client.peer, ipv4Packet(99), 2);
    twin.flush(2);
    expect(twin.server.written.map(idOf)).toEqual([0, 1, 2, 3, 4, 99]);
    expect(twin.server.peer.reorder.counters.tooOld).toBe(0);
  });

  /**
   * 40 DATA packets over one link, then the client's link sequence moved by `jump` (mod 2^16)
   * and 40 more: what the server's loss window made of it.
   */
  function jumpLinkSeq(jump: number) {
    const twin = createTwin({ links: 1 });
    for (let i = 0; i < 40; i++) sendData(twin.client, twin.client.peer, ipv4Packet(i), 1);
    twin.flush(1);
    const link = twin.server.peer.links[0]!;
    const receivedBefore = link.loss.received;
    const tx = twin.client.peer.links[0]!.tx;
    tx.linkSeq = (tx.linkSeq + jump) & 0xffff;
    for (let i = 40; i < 80; i++) sendData(twin.client, twin.client.peer, ipv4Packet(i), 2);
    twin.flush(2);
    return { loss: link.loss, receivedBefore, written: twin.server.written.length };
  }

  it('a peer that restarted its link numbering gets a fresh loss window after a run of old numbers', () => {
    // as if it restarted: its numbers now lie 20,000 behind (mod 2^16), far outside the window
    const { loss, receivedBefore, written } = jumpLinkSeq(-20_000);
    expect(loss.old).toBeLessThan(40);
    expect(loss.received).toBeLessThan(receivedBefore + 40);
    expect(loss.lossRatio).toBe(0);
    expect(written).toBe(80);
  });

  it('a peer whose restarted numbering lands far ahead (mod 2^16) gets a fresh loss window, not 30,000 losses', () => {
    const { loss, written } = jumpLinkSeq(30_000);
    expect(loss.lost).toBe(0);
    expect(loss.lossRatio).toBe(0);
    expect(loss.missing).toBe(0);
    expect(written).toBe(80);
  });

  it('a real gap on a link is loss: 10 datagrams that never arrive are counted missing', () => {
    const { loss } = jumpLinkSeq(10);
    expect(loss.missing).toBe(10);
    expect(loss.lossRatio).toBeGreaterThan(0);
  });

  it('wire input is counted, never thrown: unknown type, unknown session, forged and replayed datagrams, handshakes', () => {
    const twin = createTwin({ links: 1 });
    const server = twin.server;
    onDatagram(server, Uint8Array.of(1), FROM, 0);
    onDatagram(server, Uint8Array.of(1, 0x99, 0, 0), FROM, 0);
    expect(server.counters.unknownType).toBe(2);
    onDatagram(server, Uint8Array.of(1, 0x01), FROM, 0);
    expect(server.handshakes).toBe(1);
    sendData(twin.client, twin.client.peer, ipv4Packet(1), 0);
    const good = twin.wire.shift()!.data;
    const otherIndex = Uint8Array.from(good);
    otherIndex[7]! ^= 1;
    onDatagram(server, otherIndex, FROM, 0);
    expect(server.counters.unknownSession).toBe(1);
    const forged = Uint8Array.from(good);
    forged[forged.length - 1]! ^= 1;
    onDatagram(server, forged, FROM, 0);
    expect(server.counters.openDrops[OPEN_BAD_AUTH]).toBe(1);
    onDatagram(server, good, FROM, 0);
    onDatagram(server, good, FROM, 0);
    expect(server.counters.openDrops[OPEN_REPLAYED]).toBe(1);
    expect(server.written.map(idOf)).toEqual([1]);
    onDatagram(server, good.subarray(0, 40), FROM, 0);
    expect(server.counters.openDrops[1]).toBe(1); // too short
    expect(good[1]).toBe(TYPE_DATA);
  });

  it('TUN batches: oversize packets are dropped, SYNs get their MSS clamped, the rest is sent', () => {
    const twin = createTwin({ links: 1 });
    const syn = new Uint8Array(44);
    syn.set([0x45, 0, 0, 44, 0, 7, 0, 0, 64, 6], 0); // IPv4, TCP
    syn[32] = 0x60; // data offset 6 words
    syn[33] = 0x02; // SYN
    syn.set([2, 4, 0x05, 0xb4], 40); // MSS 1460
    const big = ipv4Packet(2, 1500);
    const buffers = [Buffer.from(syn), Buffer.from(big), Buffer.from(ipv4Packet(3))];
    onTunPackets(twin.client, buffers, Uint16Array.of(44, 1500, 100), 3);
    expect(twin.client.counters.mssClamped).toBe(1);
    expect(twin.client.counters.oversize).toBe(1);
    twin.flush(1);
    expect(twin.server.written.map(idOf)).toEqual([7, 3]);
    expect((twin.server.written[0]![42]! << 8) | twin.server.written[0]![43]!).toBe(1428 - 40);
  });

  it('without a session, packets are dropped and counted', () => {
    const twin = createTwin({ links: 1 });
    twin.client.peer.sealer = null;
    sendData(twin.client, twin.client.peer, ipv4Packet(1), 0);
    expect(twin.client.peer.counters.noSession).toBe(1);
    expect(twin.wire).toHaveLength(0);
  });
});
