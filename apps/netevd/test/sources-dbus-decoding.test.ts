/**
 * The pure decoders of the DBus sources: sd-bus object path labels (networkd's escaped
 * ifindex), DescribeLink addresses, variants, the bus address default. Untrusted input must
 * come back as undefined or a reported problem, never as a throw.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Variant } from 'dbus-next';
import {
  DEFAULT_SYSTEM_BUS_ADDRESS,
  decodePathLabel,
  encodePathLabel,
  ifindexFromLinkPath,
  systemBusAddress,
  variantString,
  variantUint,
  variantValue,
} from '../src/sources/dbus.js';
import { addressesOf } from '../src/sources/networkd.js';
import { nmDeviceStateName } from '../src/sources/network-manager.js';

describe('object path labels (sd-bus escaping)', () => {
  it('decodes networkd link paths to ifindexes', () => {
    expect(ifindexFromLinkPath('/org/freedesktop/network1/link/_31')).toBe(1);
    expect(ifindexFromLinkPath('/org/freedesktop/network1/link/_33')).toBe(3);
    expect(ifindexFromLinkPath('/org/freedesktop/network1/link/_312')).toBe(12);
    expect(ifindexFromLinkPath('/org/freedesktop/network1/link/_32147483647')).toBe(2147483647);
  });

  it('refuses paths that are not an escaped decimal ifindex', () => {
    for (const path of [
      '/org/freedesktop/network1/link/_30', // 0 is no ifindex
      '/org/freedesktop/network1/link/3', // a leading digit is always escaped
      '/org/freedesktop/network1/link/_3x',
      '/org/freedesktop/network1/link/_32147483648', // > INT32_MAX
      '/org/freedesktop/network1/link/_33/extra',
      '/org/freedesktop/network1/link/',
      '/org/freedesktop/network1/network/_33',
      '/org/freedesktop/network1/link/_2d1', // -1
      '/org/freedesktop/network1/link/_3_',
    ]) {
      expect(ifindexFromLinkPath(path), path).toBeUndefined();
    }
  });

  it('matches sd-bus on known labels', () => {
    expect(encodePathLabel('3')).toBe('_33');
    expect(encodePathLabel('12')).toBe('_312');
    expect(encodePathLabel('50-nd')).toBe('_350_2dnd'); // as `busctl tree org.freedesktop.network1` shows
    expect(encodePathLabel('')).toBe('_');
    expect(decodePathLabel('_380_2dcontainer_2dhost0')).toBe('80-container-host0');
    expect(decodePathLabel('_')).toBe('');
    expect(decodePathLabel('a-b')).toBeUndefined();
  });

  it('round-trips any string, and never throws on any label', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => decodePathLabel(encodePathLabel(s)) === s));
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (label) => {
        const out = decodePathLabel(label);
        return out === undefined || typeof out === 'string';
      }),
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 0x7fffffff }), (n) => ifindexFromLinkPath(`/org/freedesktop/network1/link/${encodePathLabel(String(n))}`) === n));
  });
});

describe('DescribeLink addresses', () => {
  it('formats IPv4 and IPv6 (RFC 5952 zero compression) with prefixes', () => {
    const problems: string[] = [];
    const link = {
      Addresses: [
        { Family: 2, Address: [10, 9, 0, 1], PrefixLength: 24 },
        { Family: 10, Address: [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x74, 0x79, 0x7a, 0xff, 0xfe, 0x3d, 0x05, 0x9e], PrefixLength: 64 },
        { Family: 10, Address: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], PrefixLength: 128 },
        { Family: 10, Address: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], PrefixLength: 128 },
        { Family: 2, Address: [10, 9, 0, 1], PrefixLength: 24 }, // duplicate: listed once
      ],
    };
    expect(addressesOf(link, (w) => problems.push(w))).toEqual(['10.9.0.1/24', 'fe80::7479:7aff:fe3d:59e/64', '2001:db8:0:1::1/128', '::1/128']);
    expect(problems).toEqual([]);
  });

  it('reports and skips entries of the wrong shape', () => {
    const problems: string[] = [];
    const link = {
      Addresses: [
        { Family: 2, Address: [10, 9, 0], PrefixLength: 24 },
        { Family: 2, Address: [10, 9, 0, 256], PrefixLength: 24 },
        { Family: 7, Address: [1, 2, 3, 4], PrefixLength: 24 },
        { Family: 2, Address: [10, 9, 0, 1], PrefixLength: 33 },
        { Family: 2, Address: '10.9.0.1', PrefixLength: 24 },
        'nonsense',
        null,
        { Family: 2, Address: [192, 168, 1, 1], PrefixLength: 16 },
      ],
    };
    expect(addressesOf(link, (w) => problems.push(w))).toEqual(['192.168.1.1/16']);
    expect(problems).toHaveLength(7);
    expect(addressesOf({ Addresses: 'x' }, (w) => problems.push(w))).toEqual([]);
    expect(problems.at(-1)).toBe('Addresses is "x", expected an array');
    expect(addressesOf({}, () => undefined)).toEqual([]);
  });
});

describe('variants and defaults', () => {
  it('reads a variant only with the expected signature', () => {
    expect(variantString(new Variant('s', 'routable'))).toBe('routable');
    expect(variantString(new Variant('u', 5))).toBeUndefined();
    expect(variantString('routable')).toBeUndefined();
    expect(variantString(undefined)).toBeUndefined();
    expect(variantUint(new Variant('u', 100))).toBe(100);
    expect(variantUint(new Variant('s', '100'))).toBeUndefined();
    expect(variantValue({ signature: 'o', value: '/x' }, 'o')).toBe('/x');
  });

  it('names NMDeviceState numbers', () => {
    expect(nmDeviceStateName(100)).toBe('activated');
    expect(nmDeviceStateName(30)).toBe('disconnected');
    expect(nmDeviceStateName(999)).toBeUndefined();
  });

  it('takes the bus address from the caller, then DBUS_SYSTEM_BUS_ADDRESS, then the standard socket', () => {
    expect(systemBusAddress('unix:path=/x', { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/y' })).toBe('unix:path=/x');
    expect(systemBusAddress(undefined, { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/y' })).toBe('unix:path=/y');
    expect(systemBusAddress(undefined, {})).toBe(DEFAULT_SYSTEM_BUS_ADDRESS);
    expect(systemBusAddress('', { DBUS_SYSTEM_BUS_ADDRESS: '' })).toBe(DEFAULT_SYSTEM_BUS_ADDRESS);
  });
});
