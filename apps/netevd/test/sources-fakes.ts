/**
 * FAKE DBus backends for the source tests: a private dbus-daemon (its own config and socket in
 * a temp dir, never the host's buses), a generic fake service (a dbus-next connection owning a
 * well-known name and answering calls from a table), and a fake NetworkManager on top of it.
 * Used by sources-fake-backends.test.ts and sources-network-manager-daemon.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Message, MessageType, Variant, sessionBus, type MessageBus } from 'dbus-next';

// -- a private dbus-daemon --------------------------------------------------------------------

const BUS_CONFIG = (socket: string): string => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;

export interface PrivateBus {
  address: string;
  daemon: ChildProcess;
}

/** A place for private buses: one socket path, restartable, every daemon killed by stopAll(). */
export interface PrivateBusHome {
  readonly dir: string;
  /** Start dbus-daemon on the home's socket; resolves with its address once it prints it. */
  start(): Promise<PrivateBus>;
  /** Kill every daemon started here (by PID) and remove the dir. */
  stopAll(): Promise<void>;
}

/** A temp dir with a bus config for private dbus-daemons. */
export function createPrivateBusHome(): PrivateBusHome {
  const dir = mkdtempSync(join(tmpdir(), 'netevd-dbus-'));
  const socket = join(dir, 'bus.sock');
  writeFileSync(join(dir, 'bus.conf'), BUS_CONFIG(socket));
  const daemons = new Set<ChildProcess>();
  return {
    dir,
    start: () => startPrivateBus(dir, socket, daemons),
    async stopAll() {
      for (const d of daemons) {
        const exited = new Promise((resolve) => d.once('exit', resolve));
        d.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startPrivateBus(dir: string, socket: string, daemons: Set<ChildProcess>): Promise<PrivateBus> {
  rmSync(socket, { force: true });
  const daemon = spawn('dbus-daemon', ['--config-file', join(dir, 'bus.conf'), '--nofork', '--nopidfile', '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemons.add(daemon);
  daemon.once('exit', () => daemons.delete(daemon));
  let stderr = '';
  daemon.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dbus-daemon printed no address in 10 s: ${stderr}`)), 10_000);
    createInterface({ input: daemon.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
    daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited ${code}: ${stderr}`)));
  });
  return { address, daemon };
}

/** Kill one private bus daemon (by PID) and wait for it. */
export async function stopPrivateBus(bus: PrivateBus): Promise<void> {
  if (bus.daemon.exitCode !== null || bus.daemon.signalCode !== null) return;
  const exited = new Promise((resolve) => bus.daemon.once('exit', resolve));
  bus.daemon.kill('SIGTERM');
  await exited;
}

// -- a fake DBus service --------------------------------------------------------------------

export type Reply = { signature: string; body: unknown[] } | { error: string } | { hang: true };
export type Handler = (msg: Message) => Reply | undefined;

/** A fake service: one connection owning `name`, answering calls from a table. */
export interface FakeService {
  conn: MessageBus;
  /** Keyed `${path} ${interface}.${member}`; a missing entry answers UnknownMethod. */
  handlers: Map<string, Handler>;
  signal(path: string, iface: string, member: string, signature: string, body: unknown[]): void;
  close(): void;
}

export async function startFakeService(address: string, name: string): Promise<FakeService> {
  const conn = sessionBus({ busAddress: address });
  conn.on('error', () => undefined); // the daemon going away in a reconnect test
  await new Promise<void>((resolve) => conn.once('connect', () => resolve()));
  const handlers = new Map<string, Handler>();
  conn.addMethodHandler((msg: Message) => {
    if (msg.type !== MessageType.METHOD_CALL) return false;
    let key = `${msg.path} ${msg.interface}.${msg.member}`;
    // Properties calls are keyed by the interface they ask about.
    if (msg.interface === 'org.freedesktop.DBus.Properties') key = `${msg.path} ${String(msg.body[0])}.${msg.member}${msg.member === 'Get' ? `:${String(msg.body[1])}` : ''}`;
    const reply = handlers.get(key)?.(msg);
    // dbus-next's types.d.ts declares newError(msg: string, ...); the code takes the Message.
    const call = msg as unknown as string;
    if (reply === undefined) conn.send(Message.newError(call, 'org.freedesktop.DBus.Error.UnknownMethod', `fake has no ${key}`));
    else if ('error' in reply) conn.send(Message.newError(call, reply.error, 'fake error'));
    else if ('hang' in reply) return true; // never answers
    else conn.send(Message.newMethodReturn(msg, reply.signature, reply.body));
    return true;
  });
  await conn.requestName(name, 0);
  return {
    conn,
    handlers,
    signal(path, iface, member, signature, body) {
      conn.send(Message.newSignal(path, iface, member, signature, body));
    },
    close() {
      conn.disconnect();
    },
  };
}


// -- the fake NetworkManager ------------------------------------------------------------------

export const NM = 'org.freedesktop.NetworkManager';
export const NM_PATH = '/org/freedesktop/NetworkManager';
export const DEVICE_IFACE = 'org.freedesktop.NetworkManager.Device';

export interface FakeDevice {
  path: string;
  iface: unknown; // a string normally; the malformed tests put other things here
  state: number;
  ip4: string[]; // `10.0.0.2/24`
  ip6: string[];
}

/** A fake NetworkManager: GetDevices, the Device properties, IP4Config/IP6Config AddressData, StateChanged. */
export async function startFakeNetworkManager(address: string, devices: FakeDevice[]) {
  const fake = await startFakeService(address, NM);
  const configData = (list: string[]): Array<Record<string, Variant>> => list.map((a) => ({ address: new Variant('s', a.split('/')[0]), prefix: new Variant('u', Number(a.split('/')[1])) }));
  const install = (d: FakeDevice): void => {
    const ip4Path = `${d.path}/ip4`;
    const ip6Path = `${d.path}/ip6`;
    const ifaceVariant = (): Variant => (typeof d.iface === 'string' ? new Variant('s', d.iface) : new Variant('u', d.iface));
    fake.handlers.set(`${d.path} ${DEVICE_IFACE}.GetAll`, () => ({
      signature: 'a{sv}',
      body: [{ Interface: ifaceVariant(), State: new Variant('u', d.state), Ip4Config: new Variant('o', d.ip4.length > 0 ? ip4Path : '/'), Ip6Config: new Variant('o', d.ip6.length > 0 ? ip6Path : '/') }],
    }));
    fake.handlers.set(`${d.path} ${DEVICE_IFACE}.Get:Ip4Config`, () => ({ signature: 'v', body: [new Variant('o', d.ip4.length > 0 ? ip4Path : '/')] }));
    fake.handlers.set(`${d.path} ${DEVICE_IFACE}.Get:Ip6Config`, () => ({ signature: 'v', body: [new Variant('o', d.ip6.length > 0 ? ip6Path : '/')] }));
    fake.handlers.set(`${ip4Path} org.freedesktop.NetworkManager.IP4Config.Get:AddressData`, () => ({ signature: 'v', body: [new Variant('aa{sv}', configData(d.ip4))] }));
    fake.handlers.set(`${ip6Path} org.freedesktop.NetworkManager.IP6Config.Get:AddressData`, () => ({ signature: 'v', body: [new Variant('aa{sv}', configData(d.ip6))] }));
  };
  for (const d of devices) install(d);
  fake.handlers.set(`${NM_PATH} ${NM}.GetDevices`, () => ({ signature: 'ao', body: [devices.map((d) => d.path)] }));
  return {
    ...fake,
    /** A new device appears: listed, answered for, DeviceAdded emitted. */
    addDevice(d: FakeDevice): void {
      devices.push(d);
      install(d);
      fake.signal(NM_PATH, NM, 'DeviceAdded', 'o', [d.path]);
    },
    /** A device goes away: unlisted, its objects gone, DeviceRemoved emitted. */
    removeDevice(d: FakeDevice): void {
      devices.splice(devices.indexOf(d), 1);
      for (const key of [...fake.handlers.keys()]) if (key.startsWith(`${d.path} `) || key.startsWith(`${d.path}/`)) fake.handlers.delete(key);
      fake.signal(NM_PATH, NM, 'DeviceRemoved', 'o', [d.path]);
    },
    /** Move a device to `next` and emit StateChanged(new, old, reason) as NetworkManager does. */
    setState(d: FakeDevice, next: number, reason = 0): void {
      const old = d.state;
      d.state = next;
      fake.signal(d.path, DEVICE_IFACE, 'StateChanged', 'uuu', [next, old, reason]);
    },
  };
}
