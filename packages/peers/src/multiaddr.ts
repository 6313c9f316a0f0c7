/**
 * Multiaddr text validation (multiformats/multiaddr, libp2p addressing spec) without a
 * multiaddr dependency: `/ip4/192.0.2.1/tcp/4001/p2p/12D3KooW...`. Only the protocols edgebox
 * dials or announces are known; anything else is refused by name, so a typo never sits in the
 * address book looking valid. Values are checked by kind: IPs, ports, DNS names, peer ids.
 */
import { MULTIADDR_MAX_LENGTH } from './constants.js';
import { PeersError, describeValue } from './errors.js';
import { parseIp, type IpAddress } from './ip.js';
import { parsePeerId } from './peer-id.js';

type ValueKind = 'none' | 'ip4' | 'ip6' | 'port' | 'dns' | 'peer' | 'token';

/** Known protocols and the kind of value each takes (`none`: no value segment). */
const PROTOCOLS: ReadonlyMap<string, ValueKind> = new Map<string, ValueKind>([
  ['ip4', 'ip4'],
  ['ip6', 'ip6'],
  ['ip6zone', 'token'],
  ['dns', 'dns'],
  ['dns4', 'dns'],
  ['dns6', 'dns'],
  ['dnsaddr', 'dns'],
  ['tcp', 'port'],
  ['udp', 'port'],
  ['sctp', 'port'],
  ['p2p', 'peer'],
  ['ipfs', 'peer'],
  ['memory', 'token'],
  ['unix', 'token'],
  ['certhash', 'token'],
  ['sni', 'dns'],
  ['quic', 'none'],
  ['quic-v1', 'none'],
  ['ws', 'none'],
  ['wss', 'none'],
  ['tls', 'none'],
  ['noise', 'none'],
  ['http', 'none'],
  ['https', 'none'],
  ['p2p-circuit', 'none'],
  ['webtransport', 'none'],
  ['webrtc', 'none'],
  ['webrtc-direct', 'none'],
]);

/** One `/protocol/value` component. */
export interface MultiaddrComponent {
  protocol: string;
  value?: string;
}

/** A validated multiaddr. */
export interface MultiaddrInfo {
  /** The text as given (validated, unchanged). */
  text: string;
  components: MultiaddrComponent[];
  /** Canonical peer id of the last `/p2p/` component, if any. */
  peerId?: string;
  /** The first ip4/ip6 value, if any (CIDR rules apply to it). */
  ip?: IpAddress;
}

const DNS_NAME = /^(?=.{1,253}$)([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)*\.?$/;
const TOKEN = /^[A-Za-z0-9._~%+=:@,-]{1,200}$/;

function bad(text: unknown, why: string): PeersError {
  return new PeersError('PEERS_INVALID_ADDRESS', `multiaddr ${describeValue(text)} ${why}`, { details: { field: 'multiaddr' } });
}

/**
 * Validate a multiaddr string; throws PEERS_INVALID_ADDRESS naming the component at fault.
 *
 * @example parseMultiaddr('/ip4/192.0.2.1/tcp/4001').ip // { version: 4, ... }
 */
export function parseMultiaddr(text: string): MultiaddrInfo {
  if (typeof text !== 'string' || text.length === 0 || text.length > MULTIADDR_MAX_LENGTH) {
    throw bad(text, `is not a string of 1..${MULTIADDR_MAX_LENGTH} characters`);
  }
  if (text[0] !== '/') throw bad(text, 'does not start with "/"');
  const parts = text.slice(1).split('/');
  const info: MultiaddrInfo = { text, components: [] };
  for (let i = 0; i < parts.length; i++) {
    const protocol = parts[i]!;
    if (protocol === '') throw bad(text, 'has an empty component (double or trailing "/")');
    const kind = PROTOCOLS.get(protocol);
    if (kind === undefined) throw bad(text, `has unknown protocol ${JSON.stringify(protocol.slice(0, 32))}`);
    if (kind === 'none') {
      info.components.push({ protocol });
      continue;
    }
    const value = parts[++i];
    if (value === undefined || value === '') throw bad(text, `has no value after /${protocol}`);
    checkValue(text, protocol, kind, value, info);
    info.components.push({ protocol, value });
  }
  return info;
}

function checkValue(text: string, protocol: string, kind: ValueKind, value: string, info: MultiaddrInfo): void {
  switch (kind) {
    case 'ip4':
    case 'ip6': {
      const ip = parseIp(value);
      if (ip === undefined || `ip${ip.version}` !== kind || value.includes('%')) throw bad(text, `has /${protocol}/${value.slice(0, 48)}: not an IPv${kind === 'ip4' ? 4 : 6} address`);
      info.ip ??= ip;
      return;
    }
    case 'port':
      if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw bad(text, `has /${protocol}/${value.slice(0, 48)}: not a port 0..65535`);
      return;
    case 'dns':
      if (!DNS_NAME.test(value)) throw bad(text, `has /${protocol}/${value.slice(0, 48)}: not a DNS name`);
      return;
    case 'peer':
      try {
        info.peerId = parsePeerId(value).id;
      } catch (cause) {
        throw new PeersError('PEERS_INVALID_ADDRESS', `multiaddr ${describeValue(text)} has /${protocol}/ with an invalid peer id: ${(cause as Error).message}`, {
          cause,
          details: { field: 'multiaddr' },
        });
      }
      return;
    default:
      if (!TOKEN.test(value)) throw bad(text, `has /${protocol}/${value.slice(0, 48)}: not a plain token [A-Za-z0-9._~%+=:@,-]`);
  }
}

/**
 * True when `text` is a valid multiaddr (see parseMultiaddr). Never throws.
 *
 * @example addresses.filter(isMultiaddr)
 */
export function isMultiaddr(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  try {
    parseMultiaddr(text);
    return true;
  } catch {
    return false;
  }
}
