// The TUN device for real, as root: the device is created here and moved into a lab namespace,
// where ping and UDP senders put packets into it. Checks packets arrive byte for byte in
// batches, replies written back reach ping, bad writes are counted not thrown, close() removes
// the device even when a child inherited the fd, a device deleted from outside fails once
// instead of spinning, and a process holding a device still dies on SIGINT/SIGTERM (the
// native module's signal trap) unless its own listener owns the signal.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, gc, runCommand, type Lab } from '@edgebox/netlab';
import { openTunDevice, isLinksError, type TunDevice, type LinksError } from '../src/index.js';
import { icmpEchoReply, parseIpv4, parseUdp } from './packets.js';
import { reportNotRoot, root } from './root-gate.js';

const CHILD = fileURLToPath(new URL('./fixtures/tun-child.ts', import.meta.url));
const suffix = String(process.pid % 100000);

describe('openTunDevice arguments', () => {
  it.each([
    [{ name: 'x'.repeat(16), mtu: 1400 }, 'tun name'],
    [{ name: 'bad name', mtu: 1400 }, 'tun name'],
    [{ mtu: 67 }, 'tun mtu 67'],
    [{ mtu: 1400.5 }, 'tun mtu'],
    [{ mtu: 1400, readBatch: 0 }, 'tun readBatch 0'],
    [{ mtu: 1400, txQueueLength: -1 }, 'tun txQueueLength -1'],
    [{ mtu: 1400, addresses: ['10.0.0.1'] }, 'tun address "10.0.0.1"'],
    [{ mtu: 1400, addresses: ['10.0.0.300/24'] }, 'tun address'],
    [{ mtu: 1400, addresses: ['fd00::1/129'] }, 'tun address'],
    [{ mtu: 1400, netns: 'a b' }, 'netns "a b"'],
  ])('refuses %j before touching the system', async (init, message) => {
    const error = await openTunDevice(init).catch((e: unknown) => e);
    expect(isLinksError(error, 'LINKS_INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain(message);
  });
});

reportNotRoot();

describe.runIf(root.ok)('TUN device in a namespace', () => {
  let lab: Lab;
  let ns: string;
  const open: TunDevice[] = [];
  const tunOpen = async (name: string, address: string, extra: { readBatch?: number; txQueueLength?: number } = {}): Promise<TunDevice> => {
    const tun = await openTunDevice({ name, mtu: 1400, addresses: [address], netns: ns, ...extra });
    open.push(tun);
    return tun;
  };
  const linkExists = async (name: string): Promise<boolean> => (await lab.exec('t', 'ip', ['link', 'show', 'dev', name], { check: false })).code === 0;

  beforeAll(async () => {
    lab = await createLab({ nodes: { t: {} } });
    ns = lab.namespace('t');
  });
  afterAll(async () => {
    for (const tun of open) tun.close();
    await lab?.destroy();
    await gc({ own: true });
  });

  it('delivers a ping as the exact ICMP packet, and ping gets the reply written back', async () => {
    const tun = await tunOpen(`ebt${suffix}a`, '10.201.1.1/24');
    expect(tun.netns).toBe(ns);
    const seen: Buffer[] = [];
    tun.onPackets((packets, lengths, count) => {
      for (let i = 0; i < count; i++) {
        const packet = Buffer.from(packets[i]!.subarray(0, lengths[i]!));
        const ip = parseIpv4(packet);
        if (ip.protocol !== 1 || ip.payload[0] !== 8) continue; // not an echo request
        seen.push(packet);
        expect(tun.write(icmpEchoReply(packet))).toBe(true);
      }
    });
    const ping = await lab.exec('t', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '-s', '100', '-p', 'ab', '10.201.1.2'], { check: false });
    expect(ping.stdout).toContain('3 packets transmitted, 3 received');
    expect(seen.length).toBe(3);
    const first = parseIpv4(seen[0]!);
    expect(first).toMatchObject({ version: 4, protocol: 1, source: '10.201.1.1', destination: '10.201.1.2', totalLength: 20 + 8 + 100 });
    expect(seen[0]!.length).toBe(128);
    // ping -p ab fills the data after its 16-byte timestamp with 0xab
    expect(first.payload.subarray(8 + 16).every((b) => b === 0xab)).toBe(true);
    expect(tun.stats).toMatchObject({ txPackets: 3, txBytes: 3 * 128, txDropped: 0, txInvalid: 0, rxErrors: 0 });
    expect(tun.stats.rxPackets).toBeGreaterThanOrEqual(3);
  });

  it('delivers UDP datagrams byte for byte, many per wakeup in a burst', async () => {
    const tun = await tunOpen(`ebt${suffix}b`, '10.201.2.1/24', { readBatch: 32, txQueueLength: 1000 });
    const payloads: string[] = [];
    let batches = 0;
    let largest = 0;
    tun.onPackets((packets, lengths, count) => {
      batches++;
      largest = Math.max(largest, count);
      for (let i = 0; i < count; i++) {
        const packet = packets[i]!.subarray(0, lengths[i]!);
        if (parseIpv4(packet).protocol !== 17) continue;
        const udp = parseUdp(packet);
        if (udp.destinationPort === 40000) payloads.push(udp.payload.toString());
      }
    });
    const n = 400;
    const sender = `const s=require('dgram').createSocket('udp4');s.bind(0,()=>{for(let i=0;i<${n};i++)s.send('edgebox-'+i,40000,'10.201.2.2',i===${n}-1?()=>s.close():undefined);});`;
    await lab.exec('t', process.execPath, ['-e', sender]);
    await waitFor(() => payloads.length >= n, 3000);
    expect(payloads).toEqual(Array.from({ length: n }, (_, i) => `edgebox-${i}`));
    expect(largest).toBeGreaterThan(1); // batched: more than one packet per wakeup
    expect(largest).toBeLessThanOrEqual(32); // never more than readBatch
    expect(batches).toBeLessThan(n);
    expect(tun.stats.wakeups).toBeGreaterThanOrEqual(batches);
    expect(tun.stats.rxBytes).toBeGreaterThan(n * 28);
  });

  it('drops and counts writes that are not IP packets, never throws on content', async () => {
    const tun = await tunOpen(`ebt${suffix}c`, '10.201.3.1/24');
    expect(tun.write(Buffer.alloc(0))).toBe(false);
    expect(tun.write(Buffer.from([0x00, 1, 2, 3, 4]))).toBe(false);
    expect(tun.write(Buffer.alloc(100, 0xff))).toBe(false);
    expect(tun.stats.txInvalid).toBe(3);
    // A 4 in the first nibble is accepted by the device; the IP layer then drops the garbage.
    expect(tun.write(Buffer.from([0x45, 0, 0, 4]))).toBe(true);
    // offset/length select the packet inside a larger buffer
    const request = Buffer.alloc(10 + 28);
    expect(tun.write(request, 10, 0)).toBe(false);
    expect(tun.stats.txInvalid).toBe(4);
    expect(() => tun.write(request, 30, 20)).toThrow(RangeError); // outside the buffer: caller bug
    await runCommand('ip', ['-n', ns, 'link', 'set', 'dev', tun.name, 'down']);
    expect(tun.write(Buffer.from([0x45, 0, 0, 20]))).toBe(false); // EIO while down
    expect(tun.stats.txDropped).toBe(1);
  });

  it('sets the MTU, closes twice, and is gone after close even when a child holds the fd', async () => {
    const tun = await tunOpen(`ebt${suffix}d`, '10.201.4.1/24');
    await tun.setMtu(1280);
    expect(tun.mtu).toBe(1280);
    expect((await lab.exec('t', 'ip', ['link', 'show', 'dev', tun.name])).stdout).toContain('mtu 1280');
    await expect(tun.setMtu(40)).rejects.toMatchObject({ code: 'LINKS_INVALID_ARGUMENT' });
    // The native module opens /dev/net/tun without O_CLOEXEC: this child inherits the fd.
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const fds = await runCommand('ls', ['-l', `/proc/${sleeper.pid}/fd`]);
      expect(fds.stdout).toContain('/dev/net/tun');
      tun.onPackets(() => undefined);
      expect(() => tun.onPackets(() => undefined)).toThrow(/already has a packet handler/);
      tun.close();
      tun.close();
      expect(tun.closed).toBe(true);
      expect(await linkExists(tun.name)).toBe(false);
      expect(tun.write(Buffer.from([0x45, 0, 0, 20]))).toBe(false);
      expect(() => tun.onPackets(() => undefined)).toThrow(/closed/);
      await expect(tun.setMtu(1400)).rejects.toMatchObject({ code: 'LINKS_STATE' });
    } finally {
      sleeper.kill();
    }
  });

  it('fails once with LINKS_TUN_IO when the interface is deleted from outside, without spinning', async () => {
    const tun = await tunOpen(`ebt${suffix}e`, '10.201.5.1/24');
    const errors: LinksError[] = [];
    tun.onError((e) => errors.push(e));
    tun.onPackets(() => undefined);
    await runCommand('ip', ['-n', ns, 'link', 'delete', 'dev', tun.name]);
    await waitFor(() => errors.length > 0, 2000);
    await new Promise((r) => setTimeout(r, 200));
    expect(errors.length).toBe(1);
    expect(errors[0]!.code).toBe('LINKS_TUN_IO');
    expect(errors[0]!.message).toContain(tun.name);
    expect(tun.closed).toBe(true);
    expect(tun.stats.wakeups).toBeLessThan(5);
  });

  it('reports LINKS_TUN_OPEN when the kernel refuses the device and LINKS_COMMAND_FAILED (device removed) when ip does', async () => {
    // TUNSETIFF on an existing interface that is not a TUN device: EINVAL
    await expect(openTunDevice({ name: 'lo', mtu: 1400 })).rejects.toMatchObject({ code: 'LINKS_TUN_OPEN', message: expect.stringContaining('lo') as unknown });
    const name = `ebt${suffix}f`;
    const error = (await openTunDevice({ name, mtu: 1400, netns: `ebx-missing-${suffix}` }).catch((e: unknown) => e)) as LinksError;
    expect(error.code).toBe('LINKS_COMMAND_FAILED');
    expect(error.message).toContain(`netns ebx-missing-${suffix}`);
    expect(existsSync(`/sys/class/net/${name}`)).toBe(false);
    // an address ip refuses (already on another device here) after the device was moved
    const error2 = (await openTunDevice({ name, mtu: 1400, netns: ns, addresses: ['10.201.6.1/24', '10.201.6.1/24'] }).catch((e: unknown) => e)) as LinksError;
    expect(error2.code).toBe('LINKS_COMMAND_FAILED');
    expect(await linkExists(name)).toBe(false);
  });

  describe('signals in a process holding a device', () => {
    const startChild = async (name: string, mode: 'plain' | 'listener' | 'listener-after', extra?: 'spawn') => {
      const child = spawn(process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', CHILD, name, ns, mode, ...(extra ? [extra] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      await waitFor(() => out.includes('"ready"') || child.exitCode !== null, 15_000);
      if (!out.includes('"ready"')) throw new Error(`child did not start: ${err}`);
      const ready = JSON.parse(out.split('\n')[0]!) as { sleeper?: number };
      return { child, exited, ready, output: () => out };
    };

    it.each(['SIGTERM', 'SIGINT'] as const)('dies by %s with the device gone (also when a grandchild holds the fd)', async (signal) => {
      const name = `ebt${suffix}${signal === 'SIGTERM' ? 'g' : 'h'}`;
      const { child, exited, ready } = await startChild(name, 'plain', 'spawn');
      try {
        expect(await linkExists(name)).toBe(true);
        child.kill(signal);
        const result = await withTimeout(exited, 5000);
        expect(result).toEqual({ code: null, signal });
        expect(await linkExists(name)).toBe(false);
      } finally {
        if (ready.sleeper !== undefined) process.kill(ready.sleeper);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });

    it.each([
      ['SIGTERM', 'before', 'i'],
      ['SIGINT', 'after', 'j'],
    ] as const)('leaves %s to a listener the process installed %s opening the device', async (signal, when, letter) => {
      const name = `ebt${suffix}${letter}`;
      const { child, exited, output } = await startChild(name, when === 'before' ? 'listener' : 'listener-after');
      try {
        child.kill(signal);
        const result = await withTimeout(exited, 5000);
        expect(output()).toContain(`{"graceful":"${signal}"}`);
        expect(result).toEqual({ code: 0, signal: null });
        expect(await linkExists(name)).toBe(false);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
