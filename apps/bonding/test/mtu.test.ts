// MTU arithmetic and the TCP MSS clamp (bonding.md §7), on hand-built IPv4 and IPv6 packets
// whose checksums are computed here from scratch (full sum over pseudo-header and segment),
// so the clamp's incremental RFC 1624 update is checked against an independent computation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checksumReplace, clampTcpMss, tcpMssFor, tunMtuFor, tunnelOverheadBytes, type IpFamily } from '../src/mtu.js';

// -- packet building ---------------------------------------------------------------------------

function sum16(bytes: Uint8Array, initial = 0): number {
  let s = initial;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Pseudo-header sum (RFC 793 / RFC 8200 §8.1) for a TCP segment of `length` bytes. */
function pseudoSum(packet: Uint8Array, length: number): number {
  if (packet[0]! >> 4 === 4) {
    const ph = new Uint8Array(12);
    ph.set(packet.subarray(12, 20), 0);
    ph[9] = 6;
    ph[10] = length >> 8;
    ph[11] = length & 0xff;
    return sum16(ph);
  }
  const ph = new Uint8Array(40);
  ph.set(packet.subarray(8, 40), 0);
  ph[34] = length >> 8;
  ph[35] = length & 0xff;
  ph[39] = 6;
  return sum16(ph);
}

/** True when the TCP checksum of the segment at `tcp` verifies (sum folds to 0xffff). */
function tcpChecksumOk(packet: Uint8Array, tcp: number): boolean {
  const seg = packet.subarray(tcp);
  return sum16(seg, pseudoSum(packet, seg.length)) === 0xffff;
}

function tcpSegment(options: number[], flags: number, payload = 0): Uint8Array {
  const padded = [...options];
  while (padded.length % 4 !== 0) padded.push(0); // END then padding
  const seg = new Uint8Array(20 + padded.length + payload);
  seg.set([0x30, 0x39, 0x00, 0x50, 1, 2, 3, 4, 0, 0, 0, 0], 0); // ports 12345 -> 80, seq, ack
  seg[12] = ((20 + padded.length) / 4) << 4;
  seg[13] = flags;
  seg[14] = 0xff;
  seg[15] = 0xff; // window
  seg.set(padded, 20);
  for (let i = 0; i < payload; i++) seg[20 + padded.length + i] = i * 7;
  return seg;
}

function finishTcp(packet: Uint8Array, tcp: number): Uint8Array {
  packet[tcp + 16] = 0;
  packet[tcp + 17] = 0;
  const seg = packet.subarray(tcp);
  const c = ~sum16(seg, pseudoSum(packet, seg.length)) & 0xffff;
  packet[tcp + 16] = c >> 8;
  packet[tcp + 17] = c & 0xff;
  expect(tcpChecksumOk(packet, tcp)).toBe(true);
  return packet;
}

function ipv4(seg: Uint8Array, ipOptions: number[] = [], fragment = 0): Uint8Array {
  const ihl = 20 + ipOptions.length;
  const p = new Uint8Array(ihl + seg.length);
  p[0] = 0x40 | (ihl / 4);
  p[2] = p.length >> 8;
  p[3] = p.length & 0xff;
  p[6] = fragment >> 8;
  p[7] = fragment & 0xff;
  p[8] = 64;
  p[9] = 6;
  p.set([10, 0, 0, 1, 192, 0, 2, 7], 12);
  p.set(ipOptions, 20);
  const h = ~sum16(p.subarray(0, ihl)) & 0xffff;
  p[10] = h >> 8;
  p[11] = h & 0xff;
  p.set(seg, ihl);
  return finishTcp(p, ihl);
}

/** IPv6 with optional extension headers, each given as [nextHeaderCodeOfThisHeader, bytes]. */
function ipv6(seg: Uint8Array, ext: { type: number; body: number[] }[] = []): Uint8Array {
  const extBytes: number[] = [];
  ext.forEach((e, i) => {
    const next = i + 1 < ext.length ? ext[i + 1]!.type : 6;
    extBytes.push(next, ...e.body.slice(1));
  });
  const p = new Uint8Array(40 + extBytes.length + seg.length);
  p[0] = 0x60;
  const payloadLength = extBytes.length + seg.length;
  p[4] = payloadLength >> 8;
  p[5] = payloadLength & 0xff;
  p[6] = ext.length > 0 ? ext[0]!.type : 6;
  p[7] = 64;
  p.set([0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1], 8);
  p.set([0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 2], 24);
  p.set(extBytes, 40);
  p.set(seg, 40 + extBytes.length);
  return finishTcp(p, 40 + extBytes.length);
}

const SYN = 0x02;
const SYN_ACK = 0x12;
const ACK = 0x10;
const mssOption = (mss: number) => [2, 4, mss >> 8, mss & 0xff];
/** The MSS value of the first MSS option found in the segment at `tcp`. */
function readMss(p: Uint8Array, tcp: number): number {
  const end = tcp + (p[tcp + 12]! >> 4) * 4;
  for (let o = tcp + 20; o < end; ) {
    if (p[o] === 1) o++;
    else if (p[o] === 2) return (p[o + 2]! << 8) | p[o + 3]!;
    else if (p[o] === 0) break;
    else o += p[o + 1]!;
  }
  return -1;
}

// -- tests -------------------------------------------------------------------------------------

describe('MTU arithmetic', () => {
  it('overhead is IP + UDP 8 + outer 16 + inner 12 + tag 16', () => {
    expect(tunnelOverheadBytes(4)).toBe(72);
    expect(tunnelOverheadBytes(6)).toBe(92);
    expect(() => tunnelOverheadBytes(5 as IpFamily)).toThrow(/IP family 5/);
  });

  it('TUN MTU = smallest path MTU minus that link overhead', () => {
    expect(tunMtuFor([{ mtu: 1500, family: 4 }])).toBe(1428);
    expect(tunMtuFor([{ mtu: 1500, family: 4 }, { mtu: 1500, family: 6 }])).toBe(1408);
    expect(tunMtuFor([{ mtu: 1492, family: 4 }, { mtu: 9000, family: 4 }])).toBe(1420);
    expect(() => tunMtuFor([])).toThrow(/at least one link/);
    expect(() => tunMtuFor([{ mtu: 575, family: 4 }])).toThrow(/links\[0\].mtu 575/);
    expect(() => tunMtuFor([{ mtu: 65_536, family: 4 }])).toThrow(/65536/);
  });

  it('MSS = TUN MTU - inner IP header - 20', () => {
    expect(tcpMssFor(1428, 4)).toBe(1388);
    expect(tcpMssFor(1428, 6)).toBe(1368);
    expect(() => tcpMssFor(100, 4)).toThrow(/tunMtu 100/);
  });

  it('checksumReplace follows RFC 1624 eqn. 3 (its §4 example)', () => {
    // RFC 1624 §4: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000
    expect(checksumReplace(0xdd2f, 0x5555, 0x3285)).toBe(0x0000);
  });
});

describe('TCP MSS clamp', () => {
  it('lowers an IPv4 SYN MSS 1460 to TUN MTU - 40 and keeps the checksum valid', () => {
    const p = ipv4(tcpSegment([...mssOption(1460), 1, 3, 3, 7, 4, 2], SYN));
    const ipBefore = p.slice(0, 20);
    expect(clampTcpMss(p, 1416)).toBe(true);
    expect(readMss(p, 20)).toBe(1376);
    expect(tcpChecksumOk(p, 20)).toBe(true);
    expect(p.subarray(0, 20)).toEqual(ipBefore); // IP header (and its checksum) untouched
  });

  it('clamps a SYN-ACK, an IPv4 packet with IP options, and carries data after the options', () => {
    const p = ipv4(tcpSegment(mssOption(8960), SYN_ACK, 33), [1, 1, 1, 0]);
    expect(clampTcpMss(p, 1400)).toBe(true);
    expect(readMss(p, 24)).toBe(1360);
    expect(tcpChecksumOk(p, 24)).toBe(true);
  });

  it('handles an MSS at an odd offset (behind one NOP)', () => {
    const p = ipv4(tcpSegment([1, ...mssOption(1460)], SYN));
    expect(clampTcpMss(p, 1416)).toBe(true);
    expect(readMss(p, 20)).toBe(1376);
    expect(tcpChecksumOk(p, 20)).toBe(true);
  });

  it('lowers an IPv6 SYN MSS to TUN MTU - 60, also behind extension headers', () => {
    const plain = ipv6(tcpSegment(mssOption(1440), SYN));
    expect(clampTcpMss(plain, 1416)).toBe(true);
    expect(readMss(plain, 40)).toBe(1356);
    expect(tcpChecksumOk(plain, 40)).toBe(true);
    const hopByHop = { type: 0, body: [0, 0, 1, 4, 0, 0, 0, 0] };
    const dest = { type: 60, body: [0, 1, ...Array(14).fill(0)] };
    const firstFragment = { type: 44, body: [0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef] }; // offset 0, M=1
    const ah = { type: 51, body: [0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd] };
    const p = ipv6(tcpSegment([1, 1, ...mssOption(1440)], SYN), [hopByHop, dest, firstFragment, ah]);
    const tcp = 40 + 8 + 16 + 8 + 16;
    expect(clampTcpMss(p, 1416)).toBe(true);
    expect(readMss(p, tcp)).toBe(1356);
    expect(tcpChecksumOk(p, tcp)).toBe(true);
  });

  it('leaves alone: MSS already small, non-SYN, no MSS option, UDP, later fragments, unknown headers', () => {
    const cases: [string, Uint8Array][] = [
      ['small MSS', ipv4(tcpSegment(mssOption(1200), SYN))],
      ['exactly the limit', ipv4(tcpSegment(mssOption(1376), SYN))],
      ['plain ACK', ipv4(tcpSegment(mssOption(1460), ACK))],
      ['no options', ipv4(tcpSegment([], SYN))],
      ['only window scale', ipv4(tcpSegment([1, 3, 3, 7], SYN))],
      ['MSS after END', ipv4(tcpSegment([0, 0, 0, 0, ...mssOption(1460)], SYN))],
      ['later IPv4 fragment', ipv4(tcpSegment(mssOption(1460), SYN), [], 0x2001)],
      ['later IPv6 fragment', ipv6(tcpSegment(mssOption(1440), SYN), [{ type: 44, body: [0, 0, 0, 8, 0, 0, 0, 1] }])],
      ['IPv6 ESP', ipv6(tcpSegment(mssOption(1440), SYN), [{ type: 50, body: [0, 0, 0, 0, 0, 0, 0, 0] }])],
    ];
    const udp = ipv4(tcpSegment(mssOption(1460), SYN));
    udp[9] = 17;
    cases.push(['UDP', udp]);
    cases.push(['IPv5', Uint8Array.from([0x50, ...Array(59).fill(0)])]);
    cases.push(['empty', new Uint8Array(0)]);
    for (const [name, p] of cases) {
      const before = p.slice();
      expect(clampTcpMss(p, 1416), name).toBe(false);
      expect(p, name).toEqual(before);
    }
  });

  it('refuses truncated or inconsistent packets without reading past them', () => {
    const good = ipv4(tcpSegment(mssOption(1460), SYN));
    for (let n = 0; n < good.length; n++) {
      const cut = good.slice(0, n);
      expect(clampTcpMss(cut, 1416)).toBe(false);
    }
    const badLength = good.slice();
    badLength[3] = 0xff; // total length past the end of the buffer
    expect(clampTcpMss(badLength, 1416)).toBe(false);
    const badOption = ipv4(tcpSegment([2, 3, 5, 0xb4], SYN)); // MSS with length 3
    expect(clampTcpMss(badOption, 1416)).toBe(false);
    const zeroLength = ipv4(tcpSegment([8, 0, 0, 0, ...mssOption(1460)], SYN));
    expect(clampTcpMss(zeroLength, 1416)).toBe(false);
    const v6 = ipv6(tcpSegment(mssOption(1440), SYN));
    for (let n = 0; n < v6.length; n++) expect(clampTcpMss(v6.slice(0, n), 1416)).toBe(false);
  });

  it('refuses a bad tunMtu', () => {
    expect(() => clampTcpMss(new Uint8Array(60), 100)).toThrow(/tunMtu 100/);
  });

  it('on random option layouts: clamps exactly when MSS > limit and the checksum always verifies', () => {
    const option = fc.oneof(
      fc.constant([1]),
      fc.constant([4, 2]),
      fc.constant([3, 3, 7]),
      fc.constant([8, 10, 0, 0, 0, 1, 0, 0, 0, 2]),
      fc.uint8Array({ minLength: 0, maxLength: 6 }).map((b) => [30, b.length + 2, ...b]),
    );
    fc.assert(
      fc.property(
        fc.array(option, { maxLength: 4 }),
        fc.array(option, { maxLength: 2 }),
        fc.integer({ min: 536, max: 65_535 }),
        fc.constantFrom<IpFamily>(4, 6),
        fc.integer({ min: 1280, max: 9000 }),
        fc.nat({ max: 50 }),
        (before, after, mss, family, tunMtu, payload) => {
          const opts = [...before.flat(), ...mssOption(mss), ...after.flat()];
          if (opts.length > 40) return;
          const seg = tcpSegment(opts, SYN, payload);
          const p = family === 4 ? ipv4(seg) : ipv6(seg);
          const tcp = family === 4 ? 20 : 40;
          const limit = tcpMssFor(tunMtu, family);
          const copy = p.slice();
          expect(clampTcpMss(p, tunMtu)).toBe(mss > limit);
          expect(readMss(p, tcp)).toBe(Math.min(mss, limit));
          expect(tcpChecksumOk(p, tcp)).toBe(true);
          let changed = 0;
          for (let i = 0; i < p.length; i++) if (p[i] !== copy[i]) changed++;
          expect(changed).toBeLessThanOrEqual(4); // the MSS value and the checksum only
        },
      ),
    );
  });

  it('never throws or writes on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(0x45, 0x46, 0x60), (bytes, first) => {
        if (bytes.length > 0) bytes[0] = first;
        if (bytes.length > 9 && first !== 0x60) bytes[9] = 6;
        if (bytes.length > 6 && first === 0x60) bytes[6] = 6;
        const copy = bytes.slice();
        const changed = clampTcpMss(bytes, 1280);
        if (!changed) expect(bytes).toEqual(copy);
      }),
    );
  });
});
