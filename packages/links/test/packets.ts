// IPv4 packet helpers for the TUN tests: parse what the kernel hands us, build the echo reply
// it should accept. Plain and allocation-happy: test code.

/** The fields of an IPv4 packet the tests look at. */
export interface Ipv4Packet {
  version: number;
  protocol: number;
  source: string;
  destination: string;
  headerBytes: number;
  totalLength: number;
  payload: Buffer;
}

export function parseIpv4(packet: Buffer): Ipv4Packet {
  const headerBytes = (packet[0]! & 0x0f) * 4;
  return {
    version: packet[0]! >> 4,
    protocol: packet[9]!,
    source: [...packet.subarray(12, 16)].join('.'),
    destination: [...packet.subarray(16, 20)].join('.'),
    headerBytes,
    totalLength: packet.readUInt16BE(2),
    payload: packet.subarray(headerBytes),
  };
}

/** Internet checksum (RFC 1071) of `data`. */
export function checksum(data: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += data.readUInt16BE(i);
  if (data.length % 2 === 1) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The ICMP echo reply to an IPv4 ICMP echo request (a copy; the request is untouched). */
export function icmpEchoReply(request: Buffer): Buffer {
  const reply = Buffer.from(request);
  const ip = parseIpv4(reply);
  // swap addresses: the IPv4 header checksum is a sum, so it stays valid
  request.copy(reply, 12, 16, 20);
  request.copy(reply, 16, 12, 16);
  const icmp = reply.subarray(ip.headerBytes, ip.totalLength);
  icmp[0] = 0; // echo reply
  icmp.writeUInt16BE(0, 2);
  icmp.writeUInt16BE(checksum(icmp), 2);
  return reply;
}

/** UDP ports and payload of an IPv4 UDP packet. */
export function parseUdp(packet: Buffer): { sourcePort: number; destinationPort: number; payload: Buffer } {
  const ip = parseIpv4(packet);
  const udp = packet.subarray(ip.headerBytes, ip.totalLength);
  return { sourcePort: udp.readUInt16BE(0), destinationPort: udp.readUInt16BE(2), payload: udp.subarray(8, udp.readUInt16BE(4)) };
}
