/**
 * The DBus sources against FAKE backends: a fake NetworkManager and a fake systemd-networkd,
 * each a dbus-next connection owning the backend's well-known name on a PRIVATE dbus-daemon
 * started for this file (its own config and socket in a temp dir; never the host's buses).
 * The fakes answer the same methods the real services do and emit the same signals, and can
 * also send what a real one never would (wrong types, bad paths, invalid JSON): the sources
 * must count and drop that, and keep going.
 *
 * The real systemd-networkd runs in sources-networkd-real.test.ts (root, network namespace).
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Variant } from 'dbus-next';
import { createEventBus, createEventFactory, type EventBus, type EventV1 } from '@edgebox/events';
import { createNetworkManagerSource } from '../src/sources/network-manager.js';
import { createNetworkdSource } from '../src/sources/networkd.js';
import { encodePathLabel, type NetworkSource } from '../src/sources/dbus.js';
import {
  DEVICE_IFACE,
  NM,
  NM_PATH,
  createPrivateBusHome,
  startFakeNetworkManager as startFakeNm,
  startFakeService as startFake,
  stopPrivateBus,
  type FakeDevice,
  type FakeService,
  type PrivateBus,
} from './sources-fakes.js';

// -- helpers --------------------------------------------------------------------------------

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function collect(bus: EventBus): EventV1[] {
  const seen: EventV1[] = [];
  bus.listen(({ event }) => {
    seen.push(event);
  });
  return seen;
}

const sources: NetworkSource[] = [];
const fakes: FakeService[] = [];
const home = createPrivateBusHome();
const dir = home.dir;
const startPrivateBus = (): Promise<PrivateBus> => home.start();
let privateBus: PrivateBus;

/** Fakes are closed after each test. */
async function startFakeService(address: string, name: string): Promise<FakeService> {
  const fake = await startFake(address, name);
  fakes.push(fake);
  return fake;
}

async function startFakeNetworkManager(address: string, devices: FakeDevice[]): ReturnType<typeof startFakeNm> {
  const fake = await startFakeNm(address, devices);
  fakes.push(fake);
  return fake;
}

beforeAll(async () => {
  privateBus = await startPrivateBus();
});

afterEach(async () => {
  for (const s of sources.splice(0)) await s.stop();
  for (const f of fakes.splice(0)) f.close();
});

afterAll(async () => {
  await home.stopAll();
});

const FAST = { reconnectInitialMs: 50, reconnectMaxMs: 200, callTimeoutMs: 2_000, watchdogMs: 200 };


describe('NetworkManager source (fake NetworkManager on a private dbus-daemon)', { timeout: 60_000 }, () => {
  const eth0 = (): FakeDevice => ({ path: `${NM_PATH}/Devices/1`, iface: 'eth0', state: 100, ip4: ['10.0.0.2/24'], ip6: ['fd00::2/64'] });
  const wlan0 = (): FakeDevice => ({ path: `${NM_PATH}/Devices/2`, iface: 'wlan0', state: 30, ip4: [], ip6: [] });

  it('publishes the current state of every device at start (startup triggers)', async () => {
    const devices = [eth0(), wlan0()];
    await startFakeNetworkManager(privateBus.address, devices);
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkManagerSource({ bus, busAddress: privateBus.address, ...FAST });
    sources.push(source);
    await source.start();
    await waitFor('2 startup events', () => seen.length >= 2);
    const byIface = new Map(seen.map((e) => [e.interface, e]));
    expect(byIface.get('eth0')).toMatchObject({
      source: 'netevd',
      kind: 'link.state',
      subject: 'eth0',
      states: { new: 'activated' },
      addresses: ['10.0.0.2/24', 'fd00::2/64'],
      data: { backend: 'networkmanager', stateType: 'device', trigger: 'startup', startup: true, device: devices[0]!.path, stateCode: 100 },
    });
    expect(byIface.get('eth0')!.states!.old).toBeUndefined();
    expect(byIface.get('wlan0')).toMatchObject({ states: { new: 'disconnected' }, addresses: [], severity: 'warning' });
    expect(source.health()).toEqual({ ok: true, detail: 'networkmanager: 2 devices' });
  });

  it('publishes Device.StateChanged in order, with old and new state names and the addresses then', async () => {
    const dev = eth0();
    const nm = await startFakeNetworkManager(privateBus.address, [dev]);
    const bus = createEventBus();
    const seen = collect(bus);
    const events = createEventFactory({ source: 'netevd' });
    const source = createNetworkManagerSource({ bus, busAddress: privateBus.address, events, ...FAST });
    sources.push(source);
    await source.start();
    await waitFor('startup event', () => seen.length === 1);

    dev.ip4 = [];
    dev.ip6 = [];
    nm.setState(dev, 30, 39); // activated -> disconnected, reason 39 (carrier lost)
    await waitFor('disconnected', () => seen.length === 2);
    expect(seen[1]).toMatchObject({ interface: 'eth0', states: { old: 'activated', new: 'disconnected' }, addresses: [], data: { trigger: 'change', startup: false, reasonCode: 39, oldStateCode: 100, stateCode: 30 } });

    // A whole activation: every step arrives, in order, ids increasing from the shared factory.
    dev.ip4 = ['10.0.0.3/24'];
    for (const s of [40, 50, 70, 80, 90, 100]) nm.setState(dev, s);
    await waitFor('activation steps', () => seen.length === 8);
    expect(seen.slice(2).map((e) => e.states)).toEqual([
      { old: 'disconnected', new: 'prepare' },
      { old: 'prepare', new: 'config' },
      { old: 'config', new: 'ip-config' },
      { old: 'ip-config', new: 'ip-check' },
      { old: 'ip-check', new: 'secondaries' },
      { old: 'secondaries', new: 'activated' },
    ]);
    expect(seen[7]!.addresses).toEqual(['10.0.0.3/24']);
    expect(seen.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.lastId).toBe(8);
    expect(source.stats()).toMatchObject({ events: 8, malformed: 0, connected: true });
  });

  it('honours the interface filter and startupEvents: false', async () => {
    const a = eth0();
    const b = wlan0();
    const nm = await startFakeNetworkManager(privateBus.address, [a, b]);
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkManagerSource({ bus, busAddress: privateBus.address, accept: (name) => name !== 'wlan0', startupEvents: false, ...FAST });
    sources.push(source);
    await source.start();
    expect(seen).toEqual([]);
    nm.setState(b, 100);
    nm.setState(a, 30);
    await waitFor('eth0 disconnected', () => seen.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.map((e) => [e.interface, e.states])).toEqual([['eth0', { old: 'activated', new: 'disconnected' }]]);
  });

  it('publishes devices that appear (DeviceAdded) and disappear (DeviceRemoved: state removed)', async () => {
    const a = eth0();
    const nm = await startFakeNetworkManager(privateBus.address, [a]);
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkManagerSource({ bus, busAddress: privateBus.address, ...FAST });
    sources.push(source);
    await source.start();
    await waitFor('startup event', () => seen.length === 1);

    const b: FakeDevice = { path: `${NM_PATH}/Devices/9`, iface: 'usb0', state: 100, ip4: ['192.168.42.2/24'], ip6: [] };
    nm.addDevice(b);
    await waitFor('usb0 added', () => seen.length === 2);
    expect(seen[1]).toMatchObject({ interface: 'usb0', states: { new: 'activated' }, addresses: ['192.168.42.2/24'], data: { trigger: 'change', device: b.path } });

    nm.removeDevice(a);
    await waitFor('eth0 removed', () => seen.length === 3);
    expect(seen[2]).toMatchObject({ interface: 'eth0', states: { old: 'activated', new: 'removed' }, addresses: [], data: { removed: true, device: a.path } });
    expect(source.health()).toEqual({ ok: true, detail: 'networkmanager: 1 devices' });

    nm.signal(NM_PATH, NM, 'DeviceRemoved', 's', ['eth0']); // wrong signature
    await waitFor('malformed counted', () => source.stats().malformed === 1);
    expect(source.stats()).toMatchObject({ callErrors: 0 });
  });

  it('counts and drops malformed signals and devices, and keeps working', async () => {
    const good = eth0();
    const bad: FakeDevice = { path: `${NM_PATH}/Devices/7`, iface: 42, state: 100, ip4: [], ip6: [] }; // Interface is a uint32
    const nm = await startFakeNetworkManager(privateBus.address, [good, bad]);
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkManagerSource({ bus, busAddress: privateBus.address, ...FAST });
    sources.push(source);
    await source.start();
    await waitFor('startup event', () => seen.length === 1);
    expect(seen[0]!.interface).toBe('eth0');
    expect(source.stats().malformed).toBe(1);
    expect(source.stats().lastError).toMatch(/Interface is a variant of signature "u", expected a non-empty string variant/);

    nm.signal(good.path, DEVICE_IFACE, 'StateChanged', 'ss', ['up', 'down']); // wrong signature
    nm.signal(good.path, DEVICE_IFACE, 'StateChanged', 'uuu', [999, 100, 0]); // not an NMDeviceState
    nm.signal('/org/freedesktop/NetworkManager/Elsewhere', DEVICE_IFACE, 'StateChanged', 'uuu', [30, 100, 0]); // not a device path
    await waitFor('3 more malformed', () => source.stats().malformed === 4);
    expect(source.stats().lastError).toMatch(/not a device path/);

    nm.setState(good, 30);
    await waitFor('the valid change after the garbage', () => seen.length === 2);
    expect(seen[1]!.states).toEqual({ old: 'activated', new: 'disconnected' });
    expect(source.health().ok).toBe(true);
  });

  it('follows NetworkManager leaving and coming back: not healthy meanwhile, then publishes what changed', async () => {
    const dev = eth0();
    const nm = await startFakeNetworkManager(privateBus.address, [dev]);
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkManagerSource({ bus, busAddress: privateBus.address, ...FAST });
    sources.push(source);
    await source.start();
    await waitFor('startup event', () => seen.length === 1);

    nm.close();
    fakes.splice(fakes.indexOf(nm), 1);
    await waitFor('unhealthy', () => !source.health().ok);
    expect(source.health().detail).toBe('networkmanager: org.freedesktop.NetworkManager is not on the bus');

    dev.state = 20;
    dev.ip4 = [];
    dev.ip6 = [];
    await startFakeNetworkManager(privateBus.address, [dev]);
    await waitFor('resync event', () => seen.length === 2);
    expect(seen[1]).toMatchObject({ interface: 'eth0', states: { old: 'activated', new: 'unavailable' }, data: { trigger: 'resync', startup: false } });
    await waitFor('healthy', () => source.health().ok);

    // Back once more without the device: the resync says it was removed.
    for (const f of fakes.splice(0)) f.close();
    await waitFor('unhealthy again', () => !source.health().ok);
    await startFakeNetworkManager(privateBus.address, []);
    await waitFor('removed on resync', () => seen.length === 3);
    expect(seen[2]).toMatchObject({ interface: 'eth0', states: { old: 'unavailable', new: 'removed' }, data: { trigger: 'resync', removed: true } });
  });

  it('retries a resync that fails when NetworkManager comes back', async () => {
    const dev = eth0();
    const nm = await startFakeNetworkManager(privateBus.address, [dev]);
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkManagerSource({ bus, busAddress: privateBus.address, ...FAST });
    sources.push(source);
    await source.start();
    await waitFor('startup event', () => seen.length === 1);
    nm.close();
    fakes.splice(fakes.indexOf(nm), 1);
    await waitFor('unhealthy', () => !source.health().ok);

    dev.state = 30;
    const again = await startFakeNetworkManager(privateBus.address, [dev]);
    // The fake owns the name before it answers GetDevices: the first two reads fail.
    let failures = 2;
    const getDevices = again.handlers.get(`${NM_PATH} ${NM}.GetDevices`)!;
    again.handlers.set(`${NM_PATH} ${NM}.GetDevices`, (msg) => (failures-- > 0 ? { error: 'org.freedesktop.NetworkManager.Starting' } : getDevices(msg)));
    await waitFor('resync event after retries', () => seen.length === 2);
    expect(seen[1]).toMatchObject({ states: { old: 'activated', new: 'disconnected' }, data: { trigger: 'resync' } });
    expect(source.stats().callErrors).toBeGreaterThanOrEqual(1);
    await waitFor('healthy', () => source.health().ok);
  });

  it('reconnects with backoff when the bus daemon goes away, then resyncs', async () => {
    const dev = eth0();
    await startFakeNetworkManager(privateBus.address, [dev]);
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkManagerSource({ bus, busAddress: privateBus.address, ...FAST });
    sources.push(source);
    await source.start();
    await waitFor('startup event', () => seen.length === 1);

    await stopPrivateBus(privateBus);
    await waitFor('disconnected', () => !source.stats().connected);
    expect(source.health().ok).toBe(false);
    expect(source.health().detail).toMatch(/^networkmanager: not connected to unix:path=/);
    for (const f of fakes.splice(0)) f.close();

    privateBus = await startPrivateBus();
    dev.state = 30;
    await startFakeNetworkManager(privateBus.address, [dev]);
    await waitFor('reconnected and healthy', () => source.health().ok, 15_000);
    await waitFor('resync event', () => seen.length === 2);
    expect(seen[1]).toMatchObject({ states: { old: 'activated', new: 'disconnected' }, data: { trigger: 'resync' } });
    expect(source.stats().connects).toBe(2);
    expect(source.stats().disconnects).toBeGreaterThanOrEqual(1);
  });

  it('a NetworkManager that never answers: calls time out, the source retries with backoff, stop() ends it', async () => {
    const nm = await startFakeNetworkManager(privateBus.address, [eth0()]);
    nm.handlers.set(`${NM_PATH} ${NM}.GetDevices`, () => ({ hang: true }));
    const source = createNetworkManagerSource({ bus: createEventBus(), busAddress: privateBus.address, ...FAST, callTimeoutMs: 200 });
    sources.push(source);
    const started = Date.now();
    await source.start();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(source.health()).toMatchObject({ ok: false });
    expect(source.health().detail).toMatch(/GetDevices on org\.freedesktop\.NetworkManager \/org\/freedesktop\/NetworkManager timed out after 200 ms/);
    await waitFor('a retry', () => source.stats().disconnects >= 2);
    await source.stop();
    const after = source.stats().disconnects;
    await new Promise((r) => setTimeout(r, 500));
    expect(source.stats().disconnects).toBe(after); // no retries after stop
  });

  it('stop() during a start that is waiting on the backend ends both promptly', async () => {
    const nm = await startFakeNetworkManager(privateBus.address, [eth0()]);
    nm.handlers.set(`${NM_PATH} ${NM}.GetDevices`, () => ({ hang: true }));
    const source = createNetworkManagerSource({ bus: createEventBus(), busAddress: privateBus.address, ...FAST, callTimeoutMs: 10_000 });
    sources.push(source);
    const starting = source.start();
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await source.stop();
    await starting;
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(source.health().ok).toBe(false);
  });

  it('starts without a bus (health says why) and stops cleanly', async () => {
    const source = createNetworkManagerSource({ bus: createEventBus(), busAddress: `unix:path=${join(dir, 'nobody-here.sock')}`, ...FAST });
    sources.push(source);
    await source.start();
    expect(source.health().ok).toBe(false);
    expect(source.health().detail).toMatch(/not connected to unix:path=.*nobody-here\.sock .*ENOENT/);
    await source.stop();
    await source.stop();
  });
});

// -- the fake systemd-networkd ----------------------------------------------------------------

const ND = 'org.freedesktop.network1';
const ND_PATH = '/org/freedesktop/network1';
const LINK_IFACE = 'org.freedesktop.network1.Link';

interface FakeLink {
  ifindex: number;
  name: string;
  props: Record<string, string>;
  addresses: Array<{ Family: number; Address: number[]; PrefixLength: number }>;
  describe?: () => unknown; // override DescribeLink's reply
}

const linkPath = (ifindex: number): string => `${ND_PATH}/link/${encodePathLabel(String(ifindex))}`;

async function startFakeNetworkd(address: string, links: FakeLink[]) {
  const fake = await startFakeService(address, ND);
  fakes.push(fake);
  fake.handlers.set(`${ND_PATH} ${ND}.Manager.ListLinks`, () => ({ signature: 'a(iso)', body: [links.map((l) => [l.ifindex, l.name, linkPath(l.ifindex)])] }));
  fake.handlers.set(`${ND_PATH} ${ND}.Manager.DescribeLink`, (msg) => {
    const link = links.find((l) => l.ifindex === msg.body[0]);
    if (link === undefined) return { error: 'org.freedesktop.network1.LinkUnknown' };
    if (link.describe !== undefined) {
      const v = link.describe();
      return typeof v === 'string' ? { signature: 's', body: [v] } : { signature: 'u', body: [v] };
    }
    return { signature: 's', body: [JSON.stringify({ Index: link.ifindex, Name: link.name, ...link.props, Addresses: link.addresses })] };
  });
  const install = (l: FakeLink): void => {
    fake.handlers.set(`${linkPath(l.ifindex)} ${LINK_IFACE}.GetAll`, () => ({
      signature: 'a{sv}',
      body: [Object.fromEntries(Object.entries(l.props).map(([k, v]) => [k, new Variant('s', v)]))],
    }));
  };
  for (const l of links) install(l);
  return {
    ...fake,
    /** Change properties and emit PropertiesChanged as networkd does. */
    change(l: FakeLink, props: Record<string, string>): void {
      Object.assign(l.props, props);
      fake.signal(linkPath(l.ifindex), 'org.freedesktop.DBus.Properties', 'PropertiesChanged', 'sa{sv}as', [
        LINK_IFACE,
        Object.fromEntries(Object.entries(props).map(([k, v]) => [k, new Variant('s', v)])),
        [],
      ]);
    },
  };
}

describe('networkd source (fake systemd-networkd on a private dbus-daemon)', { timeout: 60_000 }, () => {
  const nd0 = (): FakeLink => ({
    ifindex: 12,
    name: 'nd0',
    props: { OperationalState: 'routable', CarrierState: 'carrier', AddressState: 'routable', AdministrativeState: 'configured' },
    addresses: [
      { Family: 2, Address: [10, 9, 0, 1], PrefixLength: 24 },
      { Family: 10, Address: [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x74, 0x79, 0x7a, 0xff, 0xfe, 0x3d, 0x05, 0x9e], PrefixLength: 64 },
    ],
  });

  it('decodes the escaped ifindex (_312 is 12), publishes startup then changes with DescribeLink addresses', async () => {
    const link = nd0();
    const nd = await startFakeNetworkd(privateBus.address, [link]);
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkdSource({ bus, busAddress: privateBus.address, ...FAST });
    sources.push(source);
    await source.start();
    expect(seen.map((e) => [e.data['stateType'], e.states])).toEqual([
      ['operational', { new: 'routable' }],
      ['administrative', { new: 'configured' }],
    ]);
    expect(seen[0]).toMatchObject({
      interface: 'nd0',
      addresses: ['10.9.0.1/24', 'fe80::7479:7aff:fe3d:59e/64'],
      data: { backend: 'networkd', trigger: 'startup', startup: true, ifindex: 12, operationalState: 'routable', carrierState: 'carrier', administrativeState: 'configured', link: { Name: 'nd0' } },
    });

    link.addresses = [link.addresses[1]!];
    nd.change(link, { OperationalState: 'degraded', AddressState: 'degraded' });
    await waitFor('degraded', () => seen.length === 3);
    expect(seen[2]).toMatchObject({ interface: 'nd0', states: { old: 'routable', new: 'degraded' }, addresses: ['fe80::7479:7aff:fe3d:59e/64'], data: { trigger: 'change', ifindex: 12, addressState: 'degraded' } });

    // Only the carrier moved: no script axis changed, no event.
    nd.change(link, { CarrierState: 'degraded-carrier' });
    nd.change(link, { OperationalState: 'no-carrier', CarrierState: 'no-carrier' });
    await waitFor('no-carrier', () => seen.length === 4);
    expect(seen[3]).toMatchObject({ severity: 'warning', states: { old: 'degraded', new: 'no-carrier' }, data: { carrierState: 'no-carrier' } });
    expect(source.health()).toEqual({ ok: true, detail: 'networkd: 1 links' });
  });

  it('counts malformed PropertiesChanged and DescribeLink data, and keeps publishing', async () => {
    const link = nd0();
    const nd = await startFakeNetworkd(privateBus.address, [link]);
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkdSource({ bus, busAddress: privateBus.address, ...FAST });
    sources.push(source);
    await source.start();
    expect(seen).toHaveLength(2);

    nd.signal(`${ND_PATH}/link/_3x`, 'org.freedesktop.DBus.Properties', 'PropertiesChanged', 'sa{sv}as', [LINK_IFACE, {}, []]); // not an escaped ifindex
    nd.signal(linkPath(12), 'org.freedesktop.DBus.Properties', 'PropertiesChanged', 'ss', ['x', 'y']); // wrong body
    nd.signal(linkPath(12), 'org.freedesktop.DBus.Properties', 'PropertiesChanged', 'sa{sv}as', [LINK_IFACE, { OperationalState: new Variant('u', 5) }, []]); // wrong type
    await waitFor('3 malformed', () => source.stats().malformed === 3);
    expect(seen).toHaveLength(2);

    link.describe = () => '{not json';
    nd.change(link, { OperationalState: 'carrier' });
    await waitFor('the change, without DescribeLink', () => seen.length === 3);
    expect(seen[2]).toMatchObject({ interface: 'nd0', states: { old: 'routable', new: 'carrier' }, addresses: [] });
    expect(seen[2]!.data['link']).toBeUndefined();
    expect(source.stats().malformed).toBe(4);
    expect(source.stats().lastError).toMatch(/DescribeLink\(12\) JSON is invalid/);

    link.describe = () => JSON.stringify({ Name: 'nd0', Addresses: [{ Family: 2, Address: [1, 2, 3], PrefixLength: 24 }, { Family: 2, Address: [10, 9, 0, 7], PrefixLength: 24 }] });
    nd.change(link, { OperationalState: 'routable' });
    await waitFor('routable with the one good address', () => seen.length === 4);
    expect(seen[3]!.addresses).toEqual(['10.9.0.7/24']);
    expect(source.stats().malformed).toBe(5);
    expect(source.health().ok).toBe(true);
  });

  it('a link named with control characters is refused by the event schema, counted, not published', async () => {
    const link: FakeLink = { ...nd0(), ifindex: 3, name: 'bad\u0007name' };
    await startFakeNetworkd(privateBus.address, [link]);
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkdSource({ bus, busAddress: privateBus.address, ...FAST });
    sources.push(source);
    await source.start();
    expect(seen).toHaveLength(0);
    expect(source.stats().malformed).toBe(2);
    expect(source.stats().lastError).toMatch(/event for link 3 refused/);
  });

  it('honours the interface filter and startupEvents: false (state is still tracked for later changes)', async () => {
    const a = nd0();
    const b: FakeLink = { ...nd0(), ifindex: 13, name: 'wan0' };
    const nd = await startFakeNetworkd(privateBus.address, [a, b]);
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkdSource({ bus, busAddress: privateBus.address, accept: (name) => name.startsWith('nd'), startupEvents: false, ...FAST });
    sources.push(source);
    await source.start();
    expect(seen).toEqual([]);
    nd.change(b, { OperationalState: 'degraded' });
    nd.change(a, { OperationalState: 'degraded' });
    await waitFor('nd0 degraded', () => seen.length === 1);
    expect(seen[0]).toMatchObject({ interface: 'nd0', states: { old: 'routable', new: 'degraded' } });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.map((e) => e.interface)).toEqual(['nd0']);
  });

  it('a deleted link (AdministrativeState linger) is published as removed, without asking DescribeLink', async () => {
    const link = nd0();
    const nd = await startFakeNetworkd(privateBus.address, [link]);
    let describes = 0;
    const handler = nd.handlers.get(`${ND_PATH} ${ND}.Manager.DescribeLink`)!;
    nd.handlers.set(`${ND_PATH} ${ND}.Manager.DescribeLink`, (msg) => {
      describes += 1;
      return handler(msg);
    });
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkdSource({ bus, busAddress: privateBus.address, ...FAST });
    sources.push(source);
    await source.start();
    describes = 0;
    nd.change(link, { OperationalState: 'off', CarrierState: 'off' });
    nd.change(link, { AdministrativeState: 'linger' });
    await waitFor('removed', () => seen.some((e) => e.states?.new === 'removed'));
    expect(seen.slice(2).map((e) => [e.data['stateType'], e.states])).toEqual([
      ['operational', { old: 'routable', new: 'off' }],
      ['administrative', { old: 'configured', new: 'linger' }],
      ['operational', { old: 'off', new: 'removed' }],
    ]);
    expect(seen.at(-1)).toMatchObject({ interface: 'nd0', addresses: [] });
    expect(describes).toBeLessThanOrEqual(1); // at most for the change to off (batched with the removal: none)
    expect(source.health()).toEqual({ ok: true, detail: 'networkd: 0 links' });
    expect(source.stats()).toMatchObject({ callErrors: 0, malformed: 0 });
  });

  it('a flap storm (1,000 changes on one link) publishes every transition in order with far fewer DescribeLink calls', async () => {
    const link = nd0();
    const nd = await startFakeNetworkd(privateBus.address, [link]);
    let describes = 0;
    const handler = nd.handlers.get(`${ND_PATH} ${ND}.Manager.DescribeLink`)!;
    nd.handlers.set(`${ND_PATH} ${ND}.Manager.DescribeLink`, (msg) => {
      describes += 1;
      return handler(msg);
    });
    const bus = createEventBus({ bufferSize: 4096 });
    const seen = collect(bus);
    const source = createNetworkdSource({ bus, busAddress: privateBus.address, ...FAST });
    sources.push(source);
    await source.start();
    describes = 0;
    const started = Date.now();
    for (let i = 0; i < 1000; i++) nd.change(link, { OperationalState: i % 2 === 0 ? 'no-carrier' : 'routable' });
    await waitFor('1000 transitions', () => seen.length === 1002, 20_000);
    const storm = seen.slice(2);
    storm.forEach((e, i) => expect(e.states).toEqual(i % 2 === 0 ? { old: 'routable', new: 'no-carrier' } : { old: 'no-carrier', new: 'routable' }));
    expect(describes).toBeLessThan(500);
    expect(source.stats()).toMatchObject({ events: 1002, dropped: 0, malformed: 0 });
    console.log(`netevd networkd source: 1000 changes published in ${Date.now() - started} ms with ${describes} DescribeLink calls`);
  });

  it('waits for networkd to appear on the bus, then publishes startup events', async () => {
    const bus = createEventBus();
    const seen = collect(bus);
    const source = createNetworkdSource({ bus, busAddress: privateBus.address, ...FAST });
    sources.push(source);
    await source.start();
    expect(source.health()).toEqual({ ok: false, detail: 'networkd: org.freedesktop.network1 is not on the bus' });
    await startFakeNetworkd(privateBus.address, [nd0()]);
    await waitFor('startup events', () => seen.length === 2);
    expect(seen[0]).toMatchObject({ interface: 'nd0', states: { new: 'routable' }, data: { trigger: 'startup' } });
    await waitFor('healthy', () => source.health().ok);
  });
});
