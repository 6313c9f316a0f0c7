// Small pieces with no root needed: tunnel addresses, X25519 keys (RFC 7748 vector), program
// lookup, the log line that names a failure, and the README listing every error code.
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VPN_PEERS_ERROR_CODES, VpnPeersError, findExecutable, generateWireGuardKeyPair, isVpnPeersError, tunnelAddresses, wireGuardPublicKey } from '../src/index.js';
import { likelyCause } from '../src/daemon.js';
import { checkPort } from '../src/tunnel-net.js';
import { requireTool } from '../src/tools.js';
import { firstLine } from '../src/measure.js';

describe('tunnel addresses', () => {
  it('gives the server .1 and the client .2 of the network', () => {
    expect(tunnelAddresses('10.201.0.0/24')).toEqual({ net: '10.201.0.0/24', prefix: 24, serverAddress: '10.201.0.1', clientAddress: '10.201.0.2' });
    expect(tunnelAddresses('192.168.7.77/30')).toEqual({ net: '192.168.7.76/30', prefix: 30, serverAddress: '192.168.7.77', clientAddress: '192.168.7.78' });
  });

  it.each(['10.0.0.0/31', '10.0.0.0/7', 'fd00::/64', '10.0.0.0', '10.0.0.256/24', ''])('refuses %j naming it', (net) => {
    expect(() => tunnelAddresses(net)).toThrow(expect.objectContaining({ code: 'VPN_PEERS_INVALID_ARGUMENT', message: expect.stringContaining(JSON.stringify(net)) as unknown }));
  });

  it('checks ports', () => {
    expect(checkPort(1194, 'port')).toBe(1194);
    for (const p of [0, 65536, 1.5, Number.NaN]) expect(() => checkPort(p, 'openvpn port')).toThrow(/openvpn port .* out of range/);
  });
});

describe('WireGuard keys', () => {
  it('derives the RFC 7748 §6.1 public key from Alice\'s private key', () => {
    const alice = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex');
    expect(wireGuardPublicKey(alice).toString('hex')).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  });

  it('generates 32-byte pairs whose public key matches the private one', () => {
    const a = generateWireGuardKeyPair();
    const b = generateWireGuardKeyPair();
    expect(a.privateKey).toHaveLength(32);
    expect(a.publicKey).toHaveLength(32);
    expect(wireGuardPublicKey(a.privateKey)).toEqual(a.publicKey);
    expect(a.privateKey.equals(b.privateKey)).toBe(false);
    expect(a.publicKey.toString('base64')).toHaveLength(44); // the form wg and config files use
  });

  it('refuses a private key that is not 32 bytes', () => {
    expect(() => wireGuardPublicKey(new Uint8Array(31))).toThrow(/31 bytes \(expected 32\)/);
  });
});

describe('programs', () => {
  it('finds executables in PATH or by path, and not plain files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpn-peers-path-'));
    try {
      writeFileSync(join(dir, 'tool'), '#!/bin/sh\n');
      writeFileSync(join(dir, 'data'), 'x');
      chmodSync(join(dir, 'tool'), 0o755);
      expect(findExecutable('tool', `relative:${dir}`)).toBe(join(dir, 'tool'));
      expect(findExecutable(join(dir, 'tool'))).toBe(join(dir, 'tool'));
      expect(findExecutable('data', dir)).toBeUndefined();
      expect(findExecutable('dir', tmpdir())).toBeUndefined();
      expect(findExecutable('missing', dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing program names its Debian package', () => {
    expect(() => requireTool('/nowhere/wireguard-go')).toThrow('program not found: /nowhere/wireguard-go (install the Debian package wireguard-go)');
    expect(() => requireTool('no-such-program-here')).toThrow(/^program not found: no-such-program-here$/);
  });
});

describe('failure causes from logs', () => {
  it('picks the line naming the error, not the generic exit lines after it, without timestamps', () => {
    const log = [
      '2026-11-24 13:07:46 Socket Buffers: R=[212992->212992] S=[212992->212992]',
      '2026-11-24 13:07:46 TCP/UDP: Socket bind failed on local address [AF_INET]10.91.0.2:1195: Address already in use (errno=98)',
      '2026-11-24 13:07:46 Exiting due to fatal error',
      '2026-11-24 13:07:46 Closing TUN/TAP interface',
    ].join('\n');
    expect(likelyCause(log)).toBe('TCP/UDP: Socket bind failed on local address [AF_INET]10.91.0.2:1195: Address already in use (errno=98)');
    expect(likelyCause('ERROR: (wg-x) 2026/11/24 13:01:11 Failed to create TUN device: interface name too long\n')).toBe('ERROR: (wg-x) Failed to create TUN device: interface name too long');
    expect(likelyCause('starting\nall quiet\n')).toBe('all quiet');
    expect(likelyCause('')).toBe('(no output)');
  });

  it('keeps the first line of a long message for a bench row', () => {
    expect(firstLine(new Error('openvpn did not start\n--- log ---\n...'))).toBe('openvpn did not start');
    expect(firstLine('plain')).toBe('plain');
  });
});

describe('errors', () => {
  it('README lists every code', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const code of VPN_PEERS_ERROR_CODES) expect(readme).toContain(`\`${code}\``);
  });

  it('carries code and details through JSON', () => {
    const err = new VpnPeersError('VPN_PEERS_START_TIMEOUT', 'openvpn tunnel did not come up', { details: { budgetMs: 2000 } });
    const copy: unknown = JSON.parse(JSON.stringify(err));
    expect(copy).toEqual({ code: 'VPN_PEERS_START_TIMEOUT', message: 'openvpn tunnel did not come up', details: { budgetMs: 2000 } });
    expect(isVpnPeersError(copy, 'VPN_PEERS_START_TIMEOUT')).toBe(true);
    expect(isVpnPeersError(copy, 'VPN_PEERS_TIMEOUT')).toBe(false);
    expect(isVpnPeersError(new Error('x'))).toBe(false);
    expect(isVpnPeersError(null)).toBe(false);
    expect(new VpnPeersError('VPN_PEERS_ABORTED', 'stop').toJSON()).toEqual({ code: 'VPN_PEERS_ABORTED', message: 'stop' });
    expect(new VpnPeersError('VPN_PEERS_ABORTED', 'stop', { cause: 'why' }).cause).toBe('why');
  });
});
