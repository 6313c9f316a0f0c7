/**
 * The inner addresses of a two-ended tunnel, taken from one IPv4 prefix: the server is the
 * first host (.1), the client the second (.2). Both must fit, so the prefix is at most /30.
 */
import { isIPv4 } from 'node:net';
import { VpnPeersError } from './errors.js';

/** Addresses of a tunnel inside its prefix. */
export interface TunnelAddresses {
  /** The prefix as given, normalised to its network address (`10.201.0.0/24`). */
  net: string;
  prefix: number;
  serverAddress: string;
  clientAddress: string;
}

const toInt = (a: string): number => a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const toText = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/**
 * Splits `10.201.0.0/24` into server `10.201.0.1` and client `10.201.0.2`; throws
 * VPN_PEERS_INVALID_ARGUMENT for anything but an IPv4 prefix of length 8..30.
 *
 * @example tunnelAddresses('10.201.0.0/24').clientAddress // '10.201.0.2'
 */
export function tunnelAddresses(net: string): TunnelAddresses {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(net);
  const prefix = m === null ? Number.NaN : Number(m[2]);
  if (m === null || !isIPv4(m[1]!) || !(prefix >= 8 && prefix <= 30)) {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `tunnel net ${JSON.stringify(net)} is not an IPv4 prefix /8../30 (e.g. 10.201.0.0/24)`, { details: { tunnelNet: net } });
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (toInt(m[1]!) & mask) >>> 0;
  return { net: `${toText(base)}/${prefix}`, prefix, serverAddress: toText(base + 1), clientAddress: toText(base + 2) };
}

/**
 * Checks a UDP/TCP port number; throws VPN_PEERS_INVALID_ARGUMENT naming `what`.
 *
 * @example checkPort(1194, 'openvpn port')
 */
export function checkPort(port: number, what: string): number {
  if (Number.isInteger(port) && port >= 1 && port <= 65535) return port;
  throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `${what} ${port} out of range (expected an integer 1..65535)`, { details: { [what]: port } });
}
