/**
 * Schedulers decide which link(s) carry the next packet on the bonding data plane. One
 * contract, three policies:
 *
 *   aggregate       one link per packet, in proportion to weight × measured delivery rate
 *                   (start-time fair queueing on bytes: deterministic, no Math.random)
 *   lowest-latency  one link: the lowest SRTT; spill to the next when its rate cap is full
 *   redundant       every usable link (the receiver drops duplicates)
 *
 * Rules shared by all three (scheduler-base.ts):
 *   - usable = state up or degraded; down / disabled links are never picked. Probing links are
 *     used only while no link at all is up or degraded (at start, or all links recovering).
 *   - tiers: primary first; overflow only when no primary link can take the packet (rate caps
 *     full, data caps spent, or none usable); backup only when no primary or overflow link is
 *     available at all (usable with data cap left).
 *   - rate caps (`capBytesPerSec`): a token bucket per link; a link whose bucket lacks the
 *     packet's bytes is full for this pick.
 *   - data caps (`dataCapBytes`, metered links): the scheduler counts bytes picked per link; at
 *     the cap the link is not chosen any more, except, with `dataCapLastResort`, when no other
 *     link can take the packet.
 *   - a pick that returns 0 means no link can take the packet: drop it and count it.
 *
 * `pick()` is the per-packet call: it reads the links' fields, writes link indexes into the
 * caller's `out`, accounts bytes, and allocates nothing.
 */
import type { LinkState } from './link-state.js';
import { AggregateScheduler } from './scheduler-aggregate.js';
import type { SchedulerOptions } from './scheduler-base.js';
import { LowestLatencyScheduler } from './scheduler-lowest-latency.js';
import { RedundantScheduler } from './scheduler-redundant.js';
import { LinksInvalidArgumentError } from './errors.js';
import { SCHEDULER_DEGRADED_WEIGHT, SCHEDULER_MIN_RATE_FRACTION } from './constants.js';
import { numberIn } from './validate.js';

/** Scheduling policies. */
export type SchedulerKind = 'aggregate' | 'lowest-latency' | 'redundant';

/**
 * Every SchedulerKind (for config validation).
 *
 * @example
 * z.enum(SCHEDULER_KINDS as [SchedulerKind, ...SchedulerKind[]]);
 */
export const SCHEDULER_KINDS: readonly SchedulerKind[] = ['aggregate', 'lowest-latency', 'redundant'];

/** Priority tier of a link. */
export type LinkTier = 'primary' | 'overflow' | 'backup';

/** What a scheduler reads from a link's estimators (RttEstimator and DeliveryRateEstimator fit). */
export interface SchedulerLinkEstimators {
  readonly rtt: { readonly srttMs: number; readonly sampleCount: number };
  readonly deliveryRate: { readonly rateBytesPerSec: number };
}

/**
 * A link as the scheduler sees it. The scheduler reads these fields at every pick, so the app
 * changes a link by changing its object (state, weight, caps); only adding or removing links
 * goes through setLinks().
 */
export interface SchedulerLink {
  /** Stable id (e.g. the uplink name); counters follow it across setLinks(). */
  readonly id: string;
  readonly state: LinkState;
  readonly tier: LinkTier;
  /** Relative weight >= 0 (aggregate: 0 = never picked). */
  readonly weight: number;
  /** Rate cap in bytes/s (token bucket); undefined = none. */
  readonly capBytesPerSec?: number | undefined;
  /** Metered link: total bytes allowed; undefined = unmetered. */
  readonly dataCapBytes?: number | undefined;
  /** When the data cap is spent, still use the link if nothing else can take a packet. */
  readonly dataCapLastResort?: boolean | undefined;
  readonly estimators: SchedulerLinkEstimators;
}

/** Options of the schedulers; defaults in constants.ts. */
export interface SchedulerInit {
  /** Initial links (default none; see setLinks). */
  links?: readonly SchedulerLink[];
  /** aggregate: weight multiplier of a degraded link (default 0.25). */
  degradedWeight?: number;
  /** aggregate: floor of a link's rate as a fraction of the fastest candidate (default 0.05). */
  minRateFraction?: number;
}

/** The scheduler contract. */
export interface Scheduler {
  readonly kind: SchedulerKind;
  /** The current links; pick() returns indexes into this array. */
  readonly links: readonly SchedulerLink[];
  /** Picks that found no link (the caller dropped the packet). */
  readonly dropped: number;
  /**
   * Choose the link(s) for a packet of `packetBytes` at `nowMs`: writes link indexes into
   * `out` (length >= links.length) and returns how many (0 = drop). Accounts the bytes
   * against the chosen links' rate and data caps. No allocation.
   */
  pick(packetBytes: number, nowMs: number, out: Int32Array | number[]): number;
  /**
   * Replace the link set (cold path: links come and go). Counters, data-cap usage and token
   * buckets follow the link id. Throws LINKS_INVALID_ARGUMENT for a malformed link.
   */
  setLinks(links: readonly SchedulerLink[]): void;
  /** Bytes picked on link `index` since it was added. */
  sentBytes(index: number): number;
  /** Packets picked on link `index` since it was added. */
  sentPackets(index: number): number;
  /** Bytes counted against link `index`'s data cap. */
  dataCapUsedBytes(index: number): number;
  /** Set the data-cap usage of link `id` (new billing period: 0; restored usage after a restart). */
  resetDataCap(id: string, usedBytes?: number): void;
}

function options(init: SchedulerInit): SchedulerOptions {
  return {
    degradedWeight: numberIn('degradedWeight', init.degradedWeight, SCHEDULER_DEGRADED_WEIGHT, 0, 1),
    minRateFraction: numberIn('minRateFraction', init.minRateFraction, SCHEDULER_MIN_RATE_FRACTION, 0, 1),
  };
}

/**
 * Aggregate scheduler: each packet on one link, bytes split in proportion to weight × measured
 * delivery rate (degraded links × degradedWeight; unmeasured links get the mean measured rate;
 * no link below minRateFraction of the fastest, so its measurement stays alive).
 *
 * @example
 * const out = new Int32Array(SCHEDULER_MAX_LINKS);
 * const scheduler = createAggregateScheduler({ links });
 * const n = scheduler.pick(packet.length, now, out); // n is 0 or 1
 * if (n === 0) dropped++; else uplinks[out[0]].send(packet);
 */
export function createAggregateScheduler(init: SchedulerInit = {}): Scheduler {
  const s = new AggregateScheduler(options(init));
  s.setLinks(init.links ?? []);
  return s;
}

/**
 * Lowest-latency scheduler: each packet on the usable link with the lowest SRTT (up links
 * before degraded ones, links without an RTT sample last); when its rate cap is full the
 * packet spills to the next.
 *
 * @example
 * const scheduler = createLowestLatencyScheduler({ links });
 * if (scheduler.pick(packet.length, now, out) === 1) uplinks[out[0]].send(packet);
 */
export function createLowestLatencyScheduler(init: SchedulerInit = {}): Scheduler {
  const s = new LowestLatencyScheduler(options(init));
  s.setLinks(init.links ?? []);
  return s;
}

/**
 * Redundant scheduler: every packet on every usable link of the chosen tier, each once.
 *
 * @example
 * const scheduler = createRedundantScheduler({ links });
 * const n = scheduler.pick(packet.length, now, out);
 * for (let k = 0; k < n; k++) uplinks[out[k]].send(packet);
 */
export function createRedundantScheduler(init: SchedulerInit = {}): Scheduler {
  const s = new RedundantScheduler(options(init));
  s.setLinks(init.links ?? []);
  return s;
}

/**
 * Create a scheduler by name (from config).
 *
 * @example
 * const scheduler = createScheduler(config.scheduler, { links }); // 'aggregate' | 'lowest-latency' | 'redundant'
 */
export function createScheduler(kind: SchedulerKind, init: SchedulerInit = {}): Scheduler {
  switch (kind) {
    case 'aggregate':
      return createAggregateScheduler(init);
    case 'lowest-latency':
      return createLowestLatencyScheduler(init);
    case 'redundant':
      return createRedundantScheduler(init);
    default:
      throw new LinksInvalidArgumentError('kind', kind, `one of ${SCHEDULER_KINDS.join(', ')}`);
  }
}
