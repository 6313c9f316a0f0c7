/**
 * TCP throughput between two lab nodes with iperf3: a one-off server (`-s -1`) in one node,
 * the client (`-J`, JSON) in the other, bounded in time (the client is killed by PID after
 * duration + grace; the server is stopped by PID in any case). The JSON is parsed into
 * Mbit/s at sender and receiver, retransmits and the per-interval series (`-i 0.1` gives
 * 100 ms steps for failover curves).
 */
import type { Lab } from '@edgebox/netlab';
import { IPERF_CONNECT_TIMEOUT_MS, IPERF_GRACE_MS, IPERF_PORT, IPERF_SERVER_READY_MS } from './constants.js';
import { startDaemon } from './daemon.js';
import { VpnPeersError, errorMessage, isVpnPeersError } from './errors.js';
import { fromNetlab } from './netlab-errors.js';
import { requireTool } from './tools.js';
import { checkPort } from './tunnel-net.js';
import { waitUntil } from './wait.js';

/** Options of {@link runIperf}. */
export interface IperfOptions {
  /** Lab node running `iperf3 -c`. */
  client: string;
  /** Lab node running `iperf3 -s`. */
  server: string;
  /** Address of the server the client connects to (underlay or tunnel address). */
  address: string;
  /** Test length in whole seconds; default 5. */
  seconds?: number;
  /** Parallel streams (-P); default 1. */
  parallel?: number;
  /** Server sends, client receives (-R); default false. */
  reverse?: boolean;
  /** Report interval in seconds (-i), >= 0.1; default 1. */
  intervalSeconds?: number;
  /** Server port; default 5201. */
  port?: number;
  /** Kill the client after this many ms; default seconds x 1000 + 10 000. */
  timeoutMs?: number;
  /** Extra iperf3 client options (e.g. `['-M', '1300']`). */
  extraArgs?: readonly string[];
  signal?: AbortSignal;
}

/** One report interval. */
export interface IperfInterval {
  /** Seconds from the test start. */
  start: number;
  end: number;
  mbps: number;
  /** TCP retransmits in the interval (sender side only; null when not reported). */
  retransmits: number | null;
}

/** A parsed iperf3 TCP result. */
export interface IperfResult {
  /** Throughput at the sending end, Mbit/s (10^6 bit/s). */
  senderMbps: number;
  /** Throughput at the receiving end, Mbit/s: what actually got through. */
  receiverMbps: number;
  /** TCP retransmits of the sender; null when iperf3 did not report them. */
  retransmits: number | null;
  /** Bytes received. */
  bytes: number;
  /** Test length as measured by the receiver, s. */
  seconds: number;
  reverse: boolean;
  parallel: number;
  intervals: IperfInterval[];
}

interface IperfSum {
  start?: number;
  end?: number;
  seconds?: number;
  bytes?: number;
  bits_per_second?: number;
  retransmits?: number;
}

interface IperfJson {
  error?: string;
  start?: { test_start?: { num_streams?: number; reverse?: number } };
  intervals?: { sum?: IperfSum }[];
  end?: { sum_sent?: IperfSum; sum_received?: IperfSum };
}

const mbit = (bps: number): number => bps / 1e6;

/**
 * Parses `iperf3 -J` output of a TCP test. Throws VPN_PEERS_IPERF_FAILED when the JSON
 * carries an `error`, VPN_PEERS_PARSE_FAILED when it is not iperf3 TCP JSON.
 *
 * @example
 * const r = parseIperfJson(stdout);
 * console.log(r.receiverMbps, r.retransmits, r.intervals.length);
 */
export function parseIperfJson(text: string): IperfResult {
  let json: IperfJson;
  try {
    json = JSON.parse(text) as IperfJson;
  } catch (err) {
    throw new VpnPeersError('VPN_PEERS_PARSE_FAILED', `iperf3 output is not JSON (${errorMessage(err)}): ${JSON.stringify(text.slice(0, 300))}`, { cause: err });
  }
  if (typeof json !== 'object' || json === null) throw new VpnPeersError('VPN_PEERS_PARSE_FAILED', 'iperf3 output is not a JSON object');
  if (typeof json.error === 'string') throw new VpnPeersError('VPN_PEERS_IPERF_FAILED', `iperf3: ${json.error}`, { details: { error: json.error } });
  const sent = json.end?.sum_sent;
  const received = json.end?.sum_received;
  if (typeof sent?.bits_per_second !== 'number' || typeof received?.bits_per_second !== 'number') {
    throw new VpnPeersError('VPN_PEERS_PARSE_FAILED', 'iperf3 JSON has no end.sum_sent/end.sum_received bits_per_second (not a TCP test?)');
  }
  const intervals: IperfInterval[] = (json.intervals ?? []).flatMap(({ sum }) =>
    typeof sum?.bits_per_second === 'number' && typeof sum.start === 'number' && typeof sum.end === 'number'
      ? [{ start: sum.start, end: sum.end, mbps: mbit(sum.bits_per_second), retransmits: typeof sum.retransmits === 'number' ? sum.retransmits : null }]
      : [],
  );
  return {
    senderMbps: mbit(sent.bits_per_second),
    receiverMbps: mbit(received.bits_per_second),
    retransmits: typeof sent.retransmits === 'number' ? sent.retransmits : null,
    bytes: received.bytes ?? 0,
    seconds: received.seconds ?? (received.end ?? 0) - (received.start ?? 0),
    reverse: json.start?.test_start?.reverse === 1,
    parallel: json.start?.test_start?.num_streams ?? 1,
    intervals,
  };
}

function checkOptions(o: IperfOptions): { seconds: number; parallel: number; interval: number; port: number } {
  const seconds = o.seconds ?? 5;
  const parallel = o.parallel ?? 1;
  const interval = o.intervalSeconds ?? 1;
  const bad = (what: string, value: number, expected: string): never => {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `iperf3 ${what} ${value} out of range (expected ${expected})`, { details: { [what]: value } });
  };
  if (!(Number.isInteger(seconds) && seconds >= 1 && seconds <= 3600)) bad('seconds', seconds, 'an integer 1..3600');
  if (!(Number.isInteger(parallel) && parallel >= 1 && parallel <= 128)) bad('parallel', parallel, 'an integer 1..128');
  if (!(Number.isFinite(interval) && interval >= 0.1 && interval <= seconds)) bad('intervalSeconds', interval, `0.1..${seconds}`);
  return { seconds, parallel, interval, port: checkPort(o.port ?? IPERF_PORT, 'iperf3 port') };
}

/**
 * Runs one iperf3 TCP test from `client` to `address` (served by `server`).
 *
 * @example
 * const r = await runIperf(lab, { client: 'client', server: 'server', address: '10.201.0.1', seconds: 5 });
 * console.log(`${r.receiverMbps.toFixed(0)} Mbit/s`);
 */
export async function runIperf(lab: Lab, options: IperfOptions): Promise<IperfResult> {
  const { seconds, parallel, interval, port } = checkOptions(options);
  const iperf3 = requireTool('iperf3');
  const what = `iperf3 ${options.client} -> ${options.address}`;
  // --forceflush: the "Server listening" line arrives at once through the pipe.
  const server = startDaemon(lab, options.server, iperf3, ['-s', '-1', '-p', String(port), '--forceflush'], { name: 'iperf3 server' });
  try {
    try {
      const deadline = performance.now() + IPERF_SERVER_READY_MS;
      await waitUntil(() => server.hasPrinted(/Server listening/), { what: 'iperf3 server', deadline, budgetMs: IPERF_SERVER_READY_MS, daemons: [server], signal: options.signal });
    } catch (err) {
      if (isVpnPeersError(err, 'VPN_PEERS_ABORTED')) throw err;
      throw new VpnPeersError('VPN_PEERS_IPERF_FAILED', `${what}: the server did not start: ${errorMessage(err)}`, { cause: err });
    }
    const args = ['-c', options.address, '-p', String(port), '-t', String(seconds), '-P', String(parallel), '-i', String(interval), '-J', '--connect-timeout', String(IPERF_CONNECT_TIMEOUT_MS)];
    if (options.reverse === true) args.push('-R');
    args.push(...(options.extraArgs ?? []));
    let res;
    try {
      res = await lab.exec(options.client, iperf3, args, {
        check: false,
        timeoutMs: options.timeoutMs ?? seconds * 1000 + IPERF_GRACE_MS,
        maxOutputBytes: 64 * 1024 * 1024,
        signal: options.signal,
      });
    } catch (err) {
      throw fromNetlab(err, what);
    }
    let result: IperfResult;
    try {
      result = parseIperfJson(res.stdout);
    } catch (err) {
      if (!isVpnPeersError(err)) throw err;
      const why = res.code !== 0 && err.code === 'VPN_PEERS_PARSE_FAILED' ? `exit ${res.code ?? res.signal}: ${res.stderr.trim() || err.message}` : err.message;
      throw new VpnPeersError(res.code !== 0 ? 'VPN_PEERS_IPERF_FAILED' : err.code, `${what}: ${why}`, { cause: err, details: { stderr: res.stderr, server: server.logTail() } });
    }
    return result;
  } finally {
    await server.stop();
  }
}
