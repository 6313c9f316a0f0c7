/**
 * Reads the UDP datagrams of a classic pcap file (what `tcpdump -w` writes): Ethernet
 * (linktype 1) or Linux cooked (113) frames, IPv4, unfragmented UDP. Enough for the bonding
 * e2e to look for plaintext on the wire and to replay captured datagrams.
 */
import { readFile } from 'node:fs/promises';

/** One captured UDP datagram. */
export interface CapturedUdp {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

const PCAP_MAGIC_LE = 0xa1b2c3d4;
const PCAP_MAGIC_NS_LE = 0xa1b23c4d;

/**
 * Every IPv4 UDP datagram in `file`, in capture order.
 *
 * @example const udp = await readPcapUdp('/tmp/wire.pcap');
 */
export async function readPcapUdp(file: string): Promise<CapturedUdp[]> {
  const buf = await readFile(file);
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  if (magic !== PCAP_MAGIC_LE && magic !== PCAP_MAGIC_NS_LE) throw new Error(`${file}: not a little-endian pcap file (magic 0x${magic.toString(16)})`);
  const linktype = buf.readUInt32LE(20);
  const linkHeader = linktype === 1 ? 14 : linktype === 113 ? 16 : -1;
  if (linkHeader < 0) throw new Error(`${file}: linktype ${linktype} not supported`);
  const out: CapturedUdp[] = [];
  for (let o = 24; o + 16 <= buf.length; ) {
    const captured = buf.readUInt32LE(o + 8);
    const frame = buf.subarray(o + 16, o + 16 + captured);
    o += 16 + captured;
    const etherType = frame.readUInt16BE(linkHeader - 2);
    if (etherType !== 0x0800 || frame.length < linkHeader + 28) continue;
    const ip = frame.subarray(linkHeader);
    const ihl = (ip[0]! & 0x0f) * 4;
    if (ip[9] !== 17) continue;
    const total = ip.readUInt16BE(2);
    const udp = ip.subarray(ihl, total);
    out.push({
      src: [...ip.subarray(12, 16)].join('.'),
      dst: [...ip.subarray(16, 20)].join('.'),
      srcPort: udp.readUInt16BE(0),
      dstPort: udp.readUInt16BE(2),
      payload: Buffer.from(udp.subarray(8)),
    });
  }
  return out;
}
