/**
 * A client of wireguard-go's configuration protocol (the cross-platform userspace API that
 * `wg` speaks, https://www.wireguard.com/xplatform/): a unix socket at
 * /var/run/wireguard/<ifname>.sock, requests `set=1` or `get=1` followed by `key=value` lines
 * and an empty line; the answer is `key=value` lines (for get) ending in `errno=N` and an
 * empty line. Talking to it directly means no `wg` (wireguard-tools) is needed.
 *
 *   set=1\n private_key=<hex>\n listen_port=51820\n replace_peers=true\n
 *   public_key=<hex>\n endpoint=10.0.0.2:51820\n allowed_ip=10.202.0.2/32\n \n
 *   -> errno=0\n \n
 */
import { connect } from 'node:net';
import { UAPI_TIMEOUT_MS } from './constants.js';
import { VpnPeersError } from './errors.js';

/** One `key=value` line; order matters (peer keys follow their `public_key`). */
export type UapiEntry = readonly [key: string, value: string];

/** A parsed UAPI response. */
export interface UapiResponse {
  errno: number;
  entries: UapiEntry[];
}

/** Options of UAPI requests. */
export interface UapiOptions {
  /** Bound on connect + request + response; default UAPI_TIMEOUT_MS. */
  timeoutMs?: number;
}

/**
 * The text of a request: `set=1` or `get=1`, the entries, an empty line. Throws
 * VPN_PEERS_INVALID_ARGUMENT for a key that is not `[a-z_]+` or a value with a newline.
 *
 * @example formatUapiRequest('set', [['listen_port', '51820']]) // 'set=1\nlisten_port=51820\n\n'
 */
export function formatUapiRequest(operation: 'get' | 'set', entries: readonly UapiEntry[] = []): string {
  let text = `${operation}=1\n`;
  for (const [key, value] of entries) {
    if (!/^[a-z_]+$/.test(key) || /[\n\r]/.test(value)) {
      throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `UAPI entry ${JSON.stringify(`${key}=${value}`)} is not key=value (key [a-z_]+, value without newlines)`, { details: { key } });
    }
    text += `${key}=${value}\n`;
  }
  return text + '\n';
}

/**
 * Parses a complete response (up to and including the empty line). Throws
 * VPN_PEERS_PARSE_FAILED when a line is not key=value or `errno` is missing.
 *
 * @example parseUapiResponse('listen_port=51820\nerrno=0\n\n') // { errno: 0, entries: [['listen_port', '51820']] }
 */
export function parseUapiResponse(text: string): UapiResponse {
  const entries: UapiEntry[] = [];
  let errno: number | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new VpnPeersError('VPN_PEERS_PARSE_FAILED', `UAPI response line ${JSON.stringify(line)} is not key=value`, { details: { response: text } });
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'errno') errno = Number(value);
    else entries.push([key, value]);
  }
  if (errno === undefined || !Number.isInteger(errno)) {
    throw new VpnPeersError('VPN_PEERS_PARSE_FAILED', `UAPI response has no errno line: ${JSON.stringify(text)}`, { details: { response: text } });
  }
  return { errno, entries };
}

/**
 * Sends one raw request and resolves with the raw response (ending in an empty line).
 * Rejects with VPN_PEERS_UAPI_FAILED when the socket is missing, refuses, closes early or
 * takes longer than `timeoutMs`.
 *
 * @example const text = await uapiRequest('/var/run/wireguard/wg0.sock', 'get=1\n\n');
 */
export function uapiRequest(socketPath: string, request: string, options: UapiOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? UAPI_TIMEOUT_MS;
  return new Promise<string>((resolve, reject) => {
    const socket = connect(socketPath);
    let response = '';
    let settled = false;
    const finish = (err: VpnPeersError | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err === undefined) resolve(response);
      else reject(err);
    };
    const fail = (why: string, cause?: unknown): void =>
      finish(new VpnPeersError('VPN_PEERS_UAPI_FAILED', `UAPI ${socketPath}: ${why}`, { cause, details: { socket: socketPath, response } }));
    const timer = setTimeout(() => fail(`no complete response within ${timeoutMs} ms`), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      response += chunk;
      // A response ends with an empty line; a get answer only ever ends that way once.
      if (response.endsWith('\n\n')) finish(undefined);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'socket not found (is wireguard-go running for this interface?)' : err.code === 'ECONNREFUSED' ? 'connection refused (stale socket?)' : err.message;
      fail(why, err);
    });
    socket.on('close', () => fail(response === '' ? 'connection closed without a response (malformed request?)' : 'connection closed before the end of the response'));
    socket.write(request);
  });
}

/**
 * Applies `entries` with one `set=1` request; VPN_PEERS_UAPI_FAILED when errno != 0
 * (wireguard-go answers -22 (EINVAL) for a bad value, -98 (EADDRINUSE) for a busy port).
 *
 * @example
 * await uapiSet(sock, [['private_key', key.toString('hex')], ['listen_port', '51820']]);
 */
export async function uapiSet(socketPath: string, entries: readonly UapiEntry[], options: UapiOptions = {}): Promise<void> {
  const { errno } = parseUapiResponse(await uapiRequest(socketPath, formatUapiRequest('set', entries), options));
  if (errno === 0) return;
  const keys = entries.map(([k]) => k).filter((k, i, all) => all.indexOf(k) === i);
  throw new VpnPeersError('VPN_PEERS_UAPI_FAILED', `UAPI ${socketPath}: set (${keys.join(', ')}) answered errno=${errno}`, { details: { socket: socketPath, errno, keys } });
}

/**
 * Reads the device state (`get=1`): interface keys first, then one block per peer starting
 * at its `public_key`.
 *
 * @example
 * const entries = await uapiGet(sock);
 * const handshake = entries.find(([k]) => k === 'last_handshake_time_sec')?.[1];
 */
export async function uapiGet(socketPath: string, options: UapiOptions = {}): Promise<UapiEntry[]> {
  const { errno, entries } = parseUapiResponse(await uapiRequest(socketPath, formatUapiRequest('get'), options));
  if (errno !== 0) throw new VpnPeersError('VPN_PEERS_UAPI_FAILED', `UAPI ${socketPath}: get answered errno=${errno}`, { details: { socket: socketPath, errno } });
  return entries;
}
