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
 * Sends go to a receiver in another process so this thread only sends. Each run is a
 * SLICE_MS slice; RUNS runs alternate; the median is written to bench-results/links-io.json.
 *
 * Run: npx nx run links:bench-io   (as root for the TUN row)
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { formatTable, runAlternating, writeBenchResults, type Contender } from '@edgebox/bench';
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

async function sendRate(send: () => void, count: () => number): Promise<number> {
  const start = count();
  const t0 = performance.now();
  while (performance.now() - t0 < SLICE_MS) {
    for (let i = 0; i < BURST; i++) send();
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

    let blaster: ChildProcess | undefined;
    const tun = await tunContender(cleanups);
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
      tun,
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
async function tunContender(cleanups: (() => unknown)[]): Promise<Contender> {
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

await main();
