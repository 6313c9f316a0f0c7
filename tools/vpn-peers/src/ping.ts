/**
 * Round-trip time from a lab node: `ping -c N -i 0.2` and its output parsed (iputils: one
 * "time=0.215 ms" per reply, "N packets transmitted, M received, ..." and
 * "rtt min/avg/max/mdev = a/b/c/d ms"). Besides ping's own min/avg/max the result has the
 * median of the replies: on a shared 2-core machine one reply delayed by a scheduling hiccup
 * moves the average of 10 by milliseconds, the median not at all.
 */
import type { Lab } from '@edgebox/netlab';
import { PING_COUNT, PING_INTERVAL_S } from './constants.js';
import { VpnPeersError } from './errors.js';
import { fromNetlab } from './netlab-errors.js';
import { requireTool } from './tools.js';

/** Options of {@link runPing}. */
export interface PingOptions {
  /** Lab node to ping from. */
  node: string;
  address: string;
  /** Echo requests; default 10. */
  count?: number;
  /** Seconds between requests; default 0.2. */
  intervalSeconds?: number;
  /** Payload bytes (ping -s); default ping's 56. */
  size?: number;
  /** Kill ping after this many ms; default count x interval + 5 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A parsed ping summary; times in ms. */
export interface PingResult {
  sent: number;
  received: number;
  lossPercent: number;
  minMs: number;
  avgMs: number;
  maxMs: number;
  mdevMs: number;
  /** Median of the per-reply times (avg when ping ran with -q and printed none). */
  medianMs: number;
  /** Per-reply times in order. */
  rttsMs: number[];
}

function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/**
 * Parses iputils ping output. Throws VPN_PEERS_PARSE_FAILED without a summary line and
 * VPN_PEERS_PING_FAILED when nothing came back.
 *
 * @example parsePing(stdout).medianMs
 */
export function parsePing(stdout: string): PingResult {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(stdout);
  if (counts === null) throw new VpnPeersError('VPN_PEERS_PARSE_FAILED', `no ping summary in: ${JSON.stringify(stdout.slice(-500))}`, { details: { stdout } });
  const sent = Number(counts[1]);
  const received = Number(counts[2]);
  if (received === 0) throw new VpnPeersError('VPN_PEERS_PING_FAILED', `ping: 0 of ${sent} replies`, { details: { sent, received } });
  const rtt = /(?:rtt|round-trip) min\/avg\/max\/(?:mdev|stddev) = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(stdout);
  if (rtt === null) throw new VpnPeersError('VPN_PEERS_PARSE_FAILED', `no rtt line in ping output: ${JSON.stringify(stdout.slice(-500))}`, { details: { stdout } });
  const rttsMs = [...stdout.matchAll(/time[=<]([\d.]+) ms/g)].map((m) => Number(m[1]));
  const avgMs = Number(rtt[2]);
  return {
    sent,
    received,
    lossPercent: ((sent - received) / sent) * 100,
    minMs: Number(rtt[1]),
    avgMs,
    maxMs: Number(rtt[3]),
    mdevMs: Number(rtt[4]),
    medianMs: rttsMs.length > 0 ? median(rttsMs) : avgMs,
    rttsMs,
  };
}

/**
 * Pings `address` from `node` and returns the RTT summary.
 *
 * @example
 * const { avgMs } = await runPing(lab, { node: 'client', address: '10.201.0.1', count: 10 });
 */
export async function runPing(lab: Lab, options: PingOptions): Promise<PingResult> {
  const count = options.count ?? PING_COUNT;
  const interval = options.intervalSeconds ?? PING_INTERVAL_S;
  if (!(Number.isInteger(count) && count >= 1 && count <= 100_000)) {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `ping count ${count} out of range (expected an integer 1..100000)`, { details: { count } });
  }
  if (!(Number.isFinite(interval) && interval >= 0.002 && interval <= 60)) {
    throw new VpnPeersError('VPN_PEERS_INVALID_ARGUMENT', `ping interval ${interval} s out of range (expected 0.002..60)`, { details: { interval } });
  }
  requireTool('ping');
  const args = ['-n', '-c', String(count), '-i', String(interval), '-W', '1'];
  if (options.size !== undefined) args.push('-s', String(options.size));
  args.push(options.address);
  const what = `ping ${options.address} from ${options.node}`;
  let res;
  try {
    res = await lab.exec(options.node, 'ping', args, { check: false, timeoutMs: options.timeoutMs ?? Math.ceil(count * interval * 1000) + 5_000, signal: options.signal });
  } catch (err) {
    throw fromNetlab(err, what);
  }
  if (res.code !== 0 && res.code !== 1) {
    throw new VpnPeersError('VPN_PEERS_PING_FAILED', `${what}: exit ${res.code ?? res.signal}: ${res.stderr.trim() || res.stdout.trim()}`, { details: { stderr: res.stderr } });
  }
  try {
    return parsePing(res.stdout);
  } catch (err) {
    if (err instanceof VpnPeersError) throw new VpnPeersError(err.code, `${what}: ${err.message}`, { cause: err, details: err.details });
    throw err;
  }
}
