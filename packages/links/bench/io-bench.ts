/**
 * @edgebox/links I/O benchmark: packets per second through the real kernel paths (names ours,
 * no BENCH.md rows are required for links):
 *   udp-send-connected-1400     UdpLink.send on a connected link, loopback, 1400-byte datagrams
 *   udp-send-unconnected-1400   UdpLink.sendTo (per-send address lookup inside dgram)
 *   dgram-send-connected-1400   bare node:dgram send without callback: the floor our shared
 *                               callback (byte and error counting) is compared to
 *   udp-receive-1400            UdpLink.onMessage fed by a sender in another process
 *   tun-read-1300               TunDevice.onPackets fed by a UDP sender in the device's
 *                               namespace (root only; null with the reason otherwise)
 *   batch-send-32-1400 / -64    BatchUdpSocket.sendBatch (sendmmsg) of 32 / 64 datagrams per
 *                               call on a connected socket, vs dgram-send-connected-1400
 *   dgram-receive-fast-1400     UdpLink.onMessage (dgram) and BatchUdpSocket.onBatch (recvmmsg,
 *   batch-receive-1400          64 per call) fed by a sendmmsg blaster in another process, so
 *                               the receiver, not the sender, is the limit
 *   dgram-receive-1400-cpu      the same two receivers in packets per CPU-second of this
 *   batch-receive-1400-cpu      process (process.cpuUsage): the cost per packet, whatever the pace
 *   tun-write-sync-1300         fs.writeSync per packet vs createTunBatchIo().write (64 per
 *   tun-write-batch-1300        call) of IPv4 packets the namespace drops (root only)
 * Sends go to a receiver in another process so this thread only sends. Each run is a
 * SLICE_MS slice; RUNS runs alternate; the median is written to bench-results/links-io.json.
 *
 * Run: npx nx run links:bench-io   (as root for the TUN row)
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { formatTable, runAlternating, writeBenchResults, type Contender } from '@edgebox/bench';
import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createBatchUdpSocket } from '../src/batch-udp.js';
import { createTunBatchIo } from '../src/batch-tun.js';
import { openTunDevice, type TunDevice } from '../src/tun-device.js';
import { createUdpLink } from '../src/udp-link.js';

const RUNS = 5;
const SLICE_MS = 500;
const BURST = 256;
const payload = Buffer.alloc(1400, 0x5a);

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A node process running `script` (CommonJS) with `args`; resolves once it printed a line. */
async function helper(script: string, args: string[], prefix: string[] = []): Promise<{ child: ChildProcess; line: string }> {
  const [cmd, ...rest] = prefix.length > 0 ? prefix : [process.execPath];
  const child = spawn(cmd!, [...rest, ...(prefix.length > 0 ? [process.execPath] : []), '-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`helper exited with ${code}`)));
  });
  return { child, line };
}

const SINK = `const s=require('dgram').createSocket(process.argv[1]);s.on('message',()=>{});s.bind(0,process.argv[2],()=>console.log(s.address().port));`;
const BLAST = `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(+process.argv[3]);s.connect(+process.argv[2],process.argv[1],()=>{console.log('go');const f=()=>{for(let i=0;i<256;i++)s.send(b);setImmediate(f);};f();});`;

const ADDON = fileURLToPath(new URL('../build/Release/batch_io.node', import.meta.url));
// A sendmmsg blaster (64 per call) so a receiver is measured at its own limit, not the sender's.
const BATCH_BLAST = `const n=require(process.argv[4]);const [fd]=n.udpOpen(4,'127.0.0.1',0,0,0,4<<20);n.udpConnect(fd,4,process.argv[1],+process.argv[2]);const L=+process.argv[3];const d=Buffer.alloc(L);const o=new Uint32Array(64),l=new Uint32Array(64).fill(L);console.log('go');const f=()=>{for(let i=0;i<16;i++)n.sendBatch(fd,d,o,l,0,64,null);setImmediate(f);};f();`;

/** Offsets/lengths of `count` equal entries at offset 0 of one payload. */
function sameEntries(count: number, length: number): { offsets: Uint32Array; lengths: Uint32Array } {
  return { offsets: new Uint32Array(count), lengths: new Uint32Array(count).fill(length) };
}

async function sendRate(send: () => void, count: () => number, perCall = 1): Promise<number> {
  const start = count();
  const t0 = performance.now();
  const calls = Math.max(1, Math.round(BURST / perCall));
  while (performance.now() - t0 < SLICE_MS) {
    for (let i = 0; i < calls; i++) send();
    await nextTurn();
  }
  await nextTurn(); // the last callbacks
  return Math.round((count() - start) / ((performance.now() - t0) / 1000));
}

async function rxRate(count: () => number): Promise<number> {
  const start = count();
  const t0 = performance.now();
  await sleep(SLICE_MS);
  return Math.round((count() - start) / ((performance.now() - t0) / 1000));
}

/** Packets received per CPU-second of this process: the receiver's cost, whatever the sender's pace. */
async function rxPerCpuSecond(count: () => number): Promise<number> {
  const start = count();
  const cpu0 = process.cpuUsage();
  await sleep(SLICE_MS);
  const cpu = process.cpuUsage(cpu0);
  return Math.round((count() - start) / ((cpu.user + cpu.system) / 1e6));
}

async function main(): Promise<void> {
  const cleanups: (() => unknown)[] = [];
  try {
    const sink = await helper(SINK, ['udp4', '127.0.0.1']);
    cleanups.push(() => sink.child.kill());
    const sinkPort = Number(sink.line);
    const connected = await createUdpLink({ id: 'c', localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port: sinkPort }, sendBufferBytes: 4 << 20 });
    const unconnected = await createUdpLink({ id: 'u', localAddress: '127.0.0.1', sendBufferBytes: 4 << 20 });
    const bare = createSocket('udp4');
    await new Promise<void>((resolve) => bare.bind(0, '127.0.0.1', () => bare.connect(sinkPort, '127.0.0.1', resolve)));
    let bareSent = 0;
    const receiver = await createUdpLink({ id: 'r', localAddress: '127.0.0.1', receiveBufferBytes: 8 << 20 });
    cleanups.push(() => connected.close(), () => unconnected.close(), () => bare.close(), () => receiver.close());

    const batchSender = createBatchUdpSocket({ localAddress: '127.0.0.1', remote: { address: '127.0.0.1', port: sinkPort }, sendBufferBytes: 4 << 20 });
    const batchReceiver = createBatchUdpSocket({ localAddress: '127.0.0.1', receiveBufferBytes: 8 << 20, batchSize: 64, slotBytes: 2048 });
    batchReceiver.onBatch(() => undefined);
    const fastReceiver = await createUdpLink({ id: 'f', localAddress: '127.0.0.1', receiveBufferBytes: 8 << 20 });
    cleanups.push(() => batchSender.close(), () => batchReceiver.close(), () => fastReceiver.close());
    const e32 = sameEntries(32, 1400);
    const e64 = sameEntries(64, 1400);
    const blasters = new Map<number, ChildProcess>();
    cleanups.push(() => {
      for (const child of blasters.values()) child.kill('SIGKILL');
    });
    /** Receive rate of `count` while a sendmmsg blaster in another process floods `port`. */
    const fastRx = async (port: number, count: () => number, perCpu = false): Promise<number> => {
      let child = blasters.get(port);
      if (child === undefined) {
        child = (await helper(BATCH_BLAST, ['127.0.0.1', String(port), '1400', ADDON])).child;
        blasters.set(port, child);
      }
      child.kill('SIGCONT');
      await sleep(50);
      const rate = perCpu ? await rxPerCpuSecond(count) : await rxRate(count);
      child.kill('SIGSTOP');
      return rate;
    };

    let blaster: ChildProcess | undefined;
    const tun = await tunContender(cleanups);
    const tunWrite = tunWriteContenders(tun.device);
    const contenders: Contender[] = [
      { name: 'udp-send-connected-1400', unit: 'packets/s', ratioTo: 'dgram-send-connected-1400', run: () => sendRate(() => connected.send(payload), () => connected.stats.txPackets) },
      { name: 'udp-send-unconnected-1400', unit: 'packets/s', run: () => sendRate(() => unconnected.sendTo(payload, 0, 1400, sinkPort, '127.0.0.1'), () => unconnected.stats.txPackets) },
      {
        name: 'dgram-send-connected-1400',
        unit: 'packets/s',
        kind: 'peer',
        run: () =>
          sendRate(
            () => {
              bare.send(payload);
              bareSent++;
            },
            () => bareSent,
          ),
      },
      {
        name: 'udp-receive-1400',
        unit: 'packets/s',
        run: async () => {
          blaster ??= (await helper(BLAST, ['127.0.0.1', String(receiver.localPort), '1400'])).child;
          blaster.kill('SIGCONT');
          await sleep(50);
          const rate = await rxRate(() => receiver.stats.rxPackets);
          blaster.kill('SIGSTOP'); // quiet while the send rows run
          return rate;
        },
      },
      {
        name: 'batch-send-32-1400',
        unit: 'packets/s',
        ratioTo: 'dgram-send-connected-1400',
        run: () => sendRate(() => batchSender.sendBatch(payload, e32.offsets, e32.lengths, 32), () => batchSender.stats.txPackets, 32),
      },
      {
        name: 'batch-send-64-1400',
        unit: 'packets/s',
        ratioTo: 'dgram-send-connected-1400',
        run: () => sendRate(() => batchSender.sendBatch(payload, e64.offsets, e64.lengths, 64), () => batchSender.stats.txPackets, 64),
      },
      { name: 'dgram-receive-fast-1400', unit: 'packets/s', kind: 'peer', run: () => fastRx(fastReceiver.localPort, () => fastReceiver.stats.rxPackets) },
      { name: 'batch-receive-1400', unit: 'packets/s', ratioTo: 'dgram-receive-fast-1400', run: () => fastRx(batchReceiver.localPort, () => batchReceiver.stats.rxPackets) },
      { name: 'dgram-receive-1400-cpu', unit: 'packets/cpu-s', kind: 'peer', run: () => fastRx(fastReceiver.localPort, () => fastReceiver.stats.rxPackets, true) },
      { name: 'batch-receive-1400-cpu', unit: 'packets/cpu-s', ratioTo: 'dgram-receive-1400-cpu', run: () => fastRx(batchReceiver.localPort, () => batchReceiver.stats.rxPackets, true) },
      tun,
      ...tunWrite.contenders,
    ];
    cleanups.push(() => blaster?.kill('SIGKILL'));
    console.log(`links io bench: ${RUNS} alternating runs of ${SLICE_MS} ms per row`);
    const rows = await runAlternating(contenders, RUNS);
    console.log(formatTable(rows));
    console.log(`wrote ${writeBenchResults('links-io', rows)}`);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

/** The TUN row: a device in a fresh namespace fed by a UDP sender inside it (root only). */
async function tunContender(cleanups: (() => unknown)[]): Promise<Contender & { device?: TunDevice }> {
  const name = 'tun-read-1300';
  if (process.getuid?.() !== 0) return { name, unit: 'packets/s', unavailable: 'needs root (TUN device and a network namespace)', run: () => 0 };
  const ns = `ebx-bench-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  cleanups.push(() => execFileSync('ip', ['netns', 'delete', ns]));
  const device: TunDevice = await openTunDevice({ name: `ebxb${process.pid % 100000}`, mtu: 1400, addresses: ['10.250.0.1/24'], netns: ns, txQueueLength: 4096 });
  cleanups.push(() => device.close());
  device.onPackets(() => undefined);
  let sender: ChildProcess | undefined;
  cleanups.push(() => sender?.kill('SIGKILL'));
  return {
    name,
    unit: 'packets/s',
    device,
    run: async () => {
      sender ??= (await helper(BLAST, ['10.250.0.2', '9', '1300'], ['ip', 'netns', 'exec', ns])).child;
      sender.kill('SIGCONT');
      await sleep(50);
      const rate = await rxRate(() => device.stats.rxPackets);
      sender.kill('SIGSTOP');
      return rate;
    },
  };
}

/**
 * TUN write rows: 64 valid IPv4/UDP packets of 1300 bytes to an address the namespace has no
 * route for (the kernel drops them after routing), written one writeSync each or 64 per call.
 */
function tunWriteContenders(device: TunDevice | undefined): { contenders: Contender[] } {
  const names = ['tun-write-sync-1300', 'tun-write-batch-1300'];
  if (device === undefined) return { contenders: names.map((name) => ({ name, unit: 'packets/s', unavailable: 'needs root (TUN device and a network namespace)', run: () => 0 })) };
  const packet = Buffer.alloc(1300);
  packet[0] = 0x45;
  packet.writeUInt16BE(1300, 2);
  packet[8] = 64;
  packet[9] = 17;
  Buffer.from([10, 250, 0, 2]).copy(packet, 12);
  Buffer.from([10, 251, 0, 9]).copy(packet, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += packet.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  packet.writeUInt16BE(~sum & 0xffff, 10);
  packet.writeUInt16BE(40000, 20);
  packet.writeUInt16BE(9, 22);
  packet.writeUInt16BE(1280, 24);
  const io = createTunBatchIo({ fd: device.fd, batchSize: 1, slotBytes: 1 });
  const entries = sameEntries(64, 1300);
  let synced = 0;
  return {
    contenders: [
      {
        name: 'tun-write-sync-1300',
        unit: 'packets/s',
        run: () =>
          sendRate(
            () => {
              writeSync(device.fd, packet, 0, 1300);
              synced++;
            },
            () => synced,
          ),
      },
      {
        name: 'tun-write-batch-1300',
        unit: 'packets/s',
        ratioTo: 'tun-write-sync-1300',
        run: () => sendRate(() => io.write(packet, entries.offsets, entries.lengths, 64), () => io.stats.txPackets, 64),
      },
    ],
  };
}

await main();
