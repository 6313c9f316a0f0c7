/**
 * Path MTU search of one link (bonding.md §7) and the interface MTU that bounds it.
 *
 * Node's dgram cannot set IP_MTU_DISCOVER, but Linux UDP sockets default to
 * IP_PMTUDISC_WANT: a datagram that fits the interface MTU leaves with DF set, so a router
 * with a smaller MTU drops it (and reports ICMP "fragmentation needed") instead of
 * fragmenting. A datagram over the interface MTU would be fragmented locally and prove
 * nothing, so the interface MTU (`ip -j route get` → `ip -j link`) is the search's upper
 * bound. A PROBE padded to a candidate size whose PROBE_ACK comes back (matched by the echoed
 * send timestamp) proves that size passes; three unanswered tries in a row prove it does not.
 *
 *   probe the bound ──ack──▶ done (pathMtu = bound)
 *        │ 3 × no ack
 *        ▼
 *   binary search in [confirmed, failed): pathMtu = largest confirmed, rises as probes pass
 *
 * A finished search starts again after `researchMs` (a path can grow) or on `restart()` (the
 * link came back). Pure state: the caller sends the probes and feeds the acks.
 */
import { execFile } from 'node:child_process';
import { invalidArgument } from './errors.js';
import { MTU_MAX, MTU_MIN } from './constants.js';

/** Options of createPathMtuSearch(). */
export interface PathMtuSearchInit {
  /** Largest path MTU to try: the interface MTU (capped by what the buffers hold). */
  upperBound: number;
  /** Size assumed to pass without proof (default 1280, IPv6's minimum link MTU). */
  lowerBound?: number;
  /** How long a probe waits for its ack (default 1000 ms). */
  timeoutMs?: number;
  /** Unanswered tries before a size counts as too large (default 3). */
  tries?: number;
  /** Search again this long after a search finished (default 600 000 ms). */
  researchMs?: number;
  /** The search stops when the window is this narrow (default 8 bytes). */
  precision?: number;
}

/** The path MTU search of one link. */
export interface PathMtuSearch {
  /** Current estimate: the bound until a size failed, then the largest confirmed size. */
  readonly pathMtu: number;
  readonly upperBound: number;
  /** Whether the last search finished. */
  readonly done: boolean;
  /** Size of the probe to send now (bytes of the outer IP packet), or 0 for none. Handles timeouts. */
  poll(nowMs: number): number;
  /** The probe `poll()` asked for left with this send timestamp (u32 ms). */
  onSent(sendTimeMs: number, nowMs: number): void;
  /**
   * A PROBE_ACK echoing `echoTimeMs` and reporting a probe of `ackedSize` bytes (outer IP
   * packet) arrived; true when it confirmed the pending probe. Both must match: a small packet
   * sent in the same millisecond carries the same timestamp, and its ack must not pass for
   * proof that the big probe got through.
   */
  onAck(echoTimeMs: number, ackedSize: number, nowMs: number): boolean;
  /** Start over (the link came back, or its interface MTU changed). */
  restart(nowMs: number, upperBound?: number): void;
}

class Search implements PathMtuSearch {
  upperBound: number;
  private readonly lower: number;
  private readonly timeoutMs: number;
  private readonly maxTries: number;
  private readonly researchMs: number;
  private readonly precision: number;
  private lo = 0;
  private hi = 0;
  private failed = false;
  private probeSize = 0;
  private tries = 0;
  private waitingTs = -1;
  private sentAtMs = 0;
  private nextAtMs = 0;
  done = false;

  constructor(init: PathMtuSearchInit) {
    this.lower = init.lowerBound ?? 1280;
    this.timeoutMs = init.timeoutMs ?? 1000;
    this.maxTries = init.tries ?? 3;
    this.researchMs = init.researchMs ?? 600_000;
    this.precision = init.precision ?? 8;
    this.upperBound = checkBound(init.upperBound, this.lower);
    this.restart(0);
  }

  get pathMtu(): number {
    return this.failed ? this.lo : this.hi;
  }

  restart(nowMs: number, upperBound?: number): void {
    if (upperBound !== undefined) this.upperBound = checkBound(upperBound, this.lower);
    this.lo = Math.min(this.lower, this.upperBound);
    this.hi = this.upperBound;
    this.failed = false;
    this.done = false;
    this.tries = 0;
    this.waitingTs = -1;
    this.nextAtMs = nowMs;
  }

  poll(nowMs: number): number {
    if (this.waitingTs >= 0) {
      if (nowMs - this.sentAtMs < this.timeoutMs) return 0;
      this.waitingTs = -1;
      if (++this.tries >= this.maxTries) {
        this.hi = this.probeSize - 1;
        this.failed = true;
        this.tries = 0;
      }
    }
    if (this.done) {
      if (nowMs < this.nextAtMs) return 0;
      this.restart(nowMs);
    }
    if (nowMs < this.nextAtMs) return 0;
    if (this.hi - this.lo < (this.failed ? this.precision : 1)) {
      this.done = true;
      this.nextAtMs = nowMs + this.researchMs;
      return 0;
    }
    this.probeSize = this.failed ? Math.ceil((this.lo + this.hi) / 2) : this.hi;
    return this.probeSize;
  }

  onSent(sendTimeMs: number, nowMs: number): void {
    this.waitingTs = sendTimeMs >>> 0;
    this.sentAtMs = nowMs;
  }

  onAck(echoTimeMs: number, ackedSize: number, nowMs: number): boolean {
    if (this.waitingTs < 0 || echoTimeMs >>> 0 !== this.waitingTs || ackedSize !== this.probeSize) return false;
    this.waitingTs = -1;
    this.tries = 0;
    this.lo = this.probeSize;
    if (!this.failed) this.hi = this.probeSize; // the bound passed: done at the next poll
    this.nextAtMs = nowMs;
    return true;
  }
}

function checkBound(upper: number, lower: number): number {
  if (!Number.isInteger(upper) || upper < MTU_MIN || upper > MTU_MAX) throw invalidArgument('upperBound', upper, `an integer in ${MTU_MIN}..${MTU_MAX}`);
  if (!Number.isInteger(lower) || lower < MTU_MIN || lower > MTU_MAX) throw invalidArgument('lowerBound', lower, `an integer in ${MTU_MIN}..${MTU_MAX}`);
  return upper;
}

/**
 * A path MTU search bounded by `upperBound` (see the file comment).
 *
 * @example
 * const s = createPathMtuSearch({ upperBound: 1500 });
 * const size = s.poll(now);            // 1500: send a PROBE of that size
 * s.onSent(header.sendTimeMs, now);
 * s.onAck(ack.echoTimeMs, 1500, later); // true: 1500 passes; s.pathMtu === 1500
 */
export function createPathMtuSearch(init: PathMtuSearchInit): PathMtuSearch {
  return new Search(init);
}

function ipJson(args: readonly string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['-j', ...args], { timeout: 2000 }, (error, stdout) => {
      if (error !== null) reject(error);
      else {
        try {
          resolve(JSON.parse(stdout) as unknown);
        } catch (e) {
          reject(e as Error);
        }
      }
    });
  });
}

/**
 * The MTU of the interface that carries datagrams from `source` to `destination` (the route's
 * own `mtu` when it sets one), or null when `ip` cannot tell.
 *
 * @example await interfaceMtuToward('10.71.1.1', '10.71.0.1'); // 1400
 */
export async function interfaceMtuToward(source: string, destination: string): Promise<number | null> {
  try {
    const routes = (await ipJson(['route', 'get', destination, 'from', source])) as { dev?: string; metrics?: { mtu?: number }[] }[];
    const route = routes[0];
    if (route?.dev === undefined) return null;
    const links = (await ipJson(['link', 'show', 'dev', route.dev])) as { mtu?: number }[];
    const devMtu = links[0]?.mtu;
    const routeMtu = route.metrics?.find((m) => m.mtu !== undefined)?.mtu;
    const mtus = [devMtu, routeMtu].filter((m): m is number => typeof m === 'number' && m >= MTU_MIN);
    return mtus.length === 0 ? null : Math.min(...mtus);
  } catch {
    return null;
  }
}
