// Batched I/O for real, as root: DF on a batch socket makes a datagram over a lowered-MTU veth
// fail with EMSGSIZE (and the path MTU reads back) instead of fragmenting; a full send buffer on
// a slow link ends a sendmmsg batch early (EAGAIN: partial count, no throw); and a TUN device
// takes ICMP echo requests through writeBatch and hands the kernel's replies back through read().
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, gc, type Lab } from '@edgebox/netlab';
import { createTunBatchIo, isLinksError, openTunDevice, type TunDevice } from '../src/index.js';
import { checksum, parseIpv4 } from './packets.js';
import { reportNotRoot, root } from './root-gate.js';

const CHILD = fileURLToPath(new URL('./fixtures/batch-child.ts', import.meta.url));
const suffix = String(process.pid % 100000);

reportNotRoot();

describe.runIf(root.ok)('batched UDP in a lab', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({
      nodes: { a: {}, b: {} },
      links: [
        { name: 'small', a: { node: 'a', ipv4: '10.203.1.1/24' }, b: { node: 'b', ipv4: '10.203.1.2/24' }, mtu: 1280 },
        { name: 'slow', a: { node: 'a', ipv4: '10.203.2.1/24' }, b: { node: 'b', ipv4: '10.203.2.2/24' }, rateMbit: 1 },
      ],
    });
    // a sink on b's port 9: no ICMP port-unreachable racing the sends (ECONNREFUSED)
    lab.spawn('b', process.execPath, ['-e', "require('dgram').createSocket('udp4').bind(9)"]);
    const deadline = Date.now() + 5000;
    while (!(await lab.exec('b', 'ss', ['-Huln', 'sport = :9'])).stdout.includes(':9') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  });
  afterAll(async () => {
    await lab?.destroy();
    await gc({ own: true });
  });

  const child = async (mode: string, dest: string): Promise<Record<string, unknown>> => {
    const res = await lab.exec('a', process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', CHILD, mode, dest], { check: false });
    expect(res.stderr).toBe('');
    return JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  };

  it('with dontFragment, a datagram over the 1280-byte MTU fails with EMSGSIZE instead of fragmenting', async () => {
    const out = await child('df', '10.203.1.2');
    // entry 1 (1500 bytes) refused, 0 and 2 sent: the batch goes on past the refusal
    expect(out.dfSent).toBe(3);
    expect(out.df).toMatchObject({ txPackets: 2, txBytes: 2200, sendErrors: 1, lastErrorCode: 'EMSGSIZE' });
    expect(out.pathMtu).toBe(1280);
    // without DF the kernel fragments the same datagram and sends it
    expect(out.plain).toMatchObject({ txPackets: 3, txBytes: 3700, sendErrors: 0 });
  });

  it('a datagram the firewall drops mid-batch is skipped and counted, never attempted twice', async () => {
    // every second UDP datagram to port 9 leaving on `small` is dropped (the sender sees EPERM)
    const rules = ['table inet ebfw {', '  chain out {', '    type filter hook postrouting priority 0; policy accept;', '    udp dport 9 numgen inc mod 2 == 1 counter drop', '  }', '}', ''].join('\n');
    await lab.exec('a', 'nft', ['-f', '-'], { input: rules });
    try {
      const out = (await child('firewall', '10.203.1.2')) as { sent: number; stats: { txPackets: number; sendErrors: number; lastErrorCode: string } };
      // a retry of a refused datagram would pass the alternating rule: 100 sent, none refused
      expect(out.sent).toBe(100);
      expect(out.stats).toMatchObject({ txPackets: 50, sendErrors: 50, lastErrorCode: 'ESENDMMSG' });
    } finally {
      await lab.exec('a', 'nft', ['delete', 'table', 'inet', 'ebfw']);
    }
  });

  it('a full send buffer ends the batch early with a partial count (EAGAIN), never throws', async () => {
    const out = (await child('eagain', '10.203.2.2')) as { sent: number; stats: { txPackets: number; txDropped: number; sendErrors: number } };
    expect(out.sent).toBeGreaterThan(0);
    expect(out.sent).toBeLessThan(1024);
    expect(out.stats).toMatchObject({ txPackets: out.sent, txDropped: 1024 - out.sent, sendErrors: 0 });
  });
});

describe.runIf(root.ok)('createTunBatchIo on a real TUN device', () => {
  let lab: Lab;
  let tun: TunDevice | undefined;
  beforeAll(async () => {
    lab = await createLab({ nodes: { t: {} } });
  });
  afterAll(async () => {
    tun?.close();
    await lab?.destroy();
    await gc({ own: true });
  });

  it('writes a batch of echo requests in one call and reads the kernel replies back in one batch', async () => {
    tun = await openTunDevice({ name: `ebb${suffix}`, mtu: 1400, addresses: ['10.204.0.1/24'], netns: lab.namespace('t'), txQueueLength: 1000 });
    const io = createTunBatchIo({ fd: tun.fd, batchSize: 64, slotBytes: 2048 });
    const n = 32;
    const requests = Array.from({ length: n }, (_, i) => echoRequest('10.204.0.2', '10.204.0.1', i, 64 + i * 10));
    const data = Buffer.concat(requests);
    const offsets = new Uint32Array(n + 1);
    const lengths = new Uint32Array(n + 1);
    let at = 0;
    for (let i = 0; i < n; i++) {
      offsets[i] = at;
      lengths[i] = requests[i]!.length;
      at += requests[i]!.length;
    }
    // entry n: not an IP packet (first nibble 0): refused with EINVAL, skipped and counted
    const junk = Buffer.alloc(40);
    expect(io.write([...Array.from({ length: n }, () => data), junk], offsets, lengths, n + 1)).toBe(n + 1);
    expect(io.stats).toMatchObject({ txPackets: n, txBytes: data.length, txInvalid: 1, txDropped: 0 });

    const replies = new Map<number, Buffer>();
    const deadline = Date.now() + 3000;
    while (replies.size < n && Date.now() < deadline) {
      const count = io.read();
      for (let i = 0; i < count; i++) {
        const packet = io.slots.subarray(i * io.slotBytes, i * io.slotBytes + io.lengths[i]!);
        const ip = parseIpv4(packet);
        if (ip.protocol === 1 && ip.payload[0] === 0) replies.set(ip.payload.readUInt16BE(6), Buffer.from(packet));
      }
      if (count === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(replies.size).toBe(n);
    for (let i = 0; i < n; i++) {
      const ip = parseIpv4(replies.get(i)!);
      expect(ip).toMatchObject({ source: '10.204.0.1', destination: '10.204.0.2', totalLength: requests[i]!.length });
      // the echo data comes back byte for byte
      expect(ip.payload.subarray(8)).toEqual(requests[i]!.subarray(28));
    }
    expect(io.read()).toBe(0); // drained: EAGAIN is 0, not an exception
    expect(io.stats.rxPackets).toBeGreaterThanOrEqual(n);
  });

  it('counts writes to a downed device as dropped and fails reads on a closed fd with LINKS_TUN_IO', async () => {
    const device = await openTunDevice({ name: `ebc${suffix}`, mtu: 1400, addresses: ['10.204.1.1/24'], netns: lab.namespace('t') });
    const io = createTunBatchIo({ fd: device.fd });
    await lab.exec('t', 'ip', ['link', 'set', 'dev', device.name, 'down']);
    const packet = echoRequest('10.204.1.2', '10.204.1.1', 1, 64);
    expect(io.write(packet, Uint32Array.of(0, 0), Uint32Array.of(packet.length, packet.length), 2)).toBe(2);
    expect(io.stats).toMatchObject({ txDropped: 2, txPackets: 0 });
    device.close();
    let error: unknown;
    try {
      io.read();
    } catch (e) {
      error = e;
    }
    expect(isLinksError(error, 'LINKS_TUN_IO')).toBe(true);
    expect(() => createTunBatchIo({ fd: -1 })).toThrow(/fd/);
    expect(() => createTunBatchIo({ fd: 3, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => createTunBatchIo({ fd: 3, slotBytes: 0 })).toThrow(/slotBytes/);
    expect(() => io.write(packet, Uint32Array.of(0), Uint32Array.of(1), 2)).toThrow(/count/);
  });
});

/** An IPv4 ICMP echo request `from` -> `to` with sequence `seq` and `dataBytes` of pattern. */
function echoRequest(from: string, to: string, seq: number, dataBytes: number): Buffer {
  const packet = Buffer.alloc(20 + 8 + dataBytes);
  packet[0] = 0x45;
  packet.writeUInt16BE(packet.length, 2);
  packet.writeUInt16BE(0x4000, 6); // DF
  packet[8] = 64;
  packet[9] = 1;
  Buffer.from(from.split('.').map(Number)).copy(packet, 12);
  Buffer.from(to.split('.').map(Number)).copy(packet, 16);
  packet.writeUInt16BE(checksum(packet.subarray(0, 20)), 10);
  const icmp = packet.subarray(20);
  icmp[0] = 8;
  icmp.writeUInt16BE(0x4242, 4);
  icmp.writeUInt16BE(seq, 6);
  for (let i = 0; i < dataBytes; i++) icmp[8 + i] = (seq + i) & 0xff;
  icmp.writeUInt16BE(checksum(icmp), 2);
  return packet;
}
