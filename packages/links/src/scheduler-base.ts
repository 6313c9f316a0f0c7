/**
 * What every scheduler shares: the link set, per-link classification at each pick, the tier
 * order, rate caps (token buckets), data caps and counters. Subclasses implement select(): pick
 * among the links of one tier that have one class.
 *
 * pick(bytes, now, out):
 *   1. classify each link (cls[i]):  NONE   not usable (down, disabled, probing while some
 *                                           link is up/degraded)
 *                                    READY  usable, data cap left, rate cap has the bytes
 *                                    FULL   usable, data cap left, rate cap lacks the bytes
 *                                    SPENT  usable, data cap spent, last resort allowed
 *                                    (a spent link without last resort is NONE)
 *   2. select(primary, READY) || select(overflow, READY)
 *      || (no primary/overflow link READY or FULL) && select(backup, READY)
 *   3. nothing yet: the same order with SPENT links (last resort)
 *   4. account the bytes on each chosen link (bucket, data cap, counters)
 *
 * Per-link state lives in typed arrays sized by setLinks(); pick() allocates nothing.
 */
import { SCHEDULER_MAX_LINKS, SCHEDULER_MAX_PACKET_BYTES } from './constants.js';
import { LinksInvalidArgumentError } from './errors.js';
import { LINK_STATES } from './link-state.js';
import type { LinkTier, Scheduler, SchedulerKind, SchedulerLink } from './scheduler.js';
import { createTokenBucket, type TokenBucket } from './token-bucket.js';

export const CLS_NONE = 0;
export const CLS_READY = 1;
export const CLS_FULL = 2;
export const CLS_SPENT = 3;

export const TIER_PRIMARY = 0;
export const TIER_OVERFLOW = 1;
export const TIER_BACKUP = 2;

const TIERS: readonly LinkTier[] = ['primary', 'overflow', 'backup'];

/** Validated scheduler options. */
export interface SchedulerOptions {
  degradedWeight: number;
  minRateFraction: number;
}

function tierCode(tier: LinkTier): number {
  return tier === 'primary' ? TIER_PRIMARY : tier === 'overflow' ? TIER_OVERFLOW : TIER_BACKUP;
}

function optionalNonNegative(field: string, v: number | undefined): void {
  if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new LinksInvalidArgumentError(field, v, 'undefined or a finite number >= 0');
}

function validateLink(link: SchedulerLink, i: number): void {
  const at = `links[${i}]`;
  if (typeof link !== 'object' || link === null) throw new LinksInvalidArgumentError(at, link, 'a link object');
  if (typeof link.id !== 'string' || link.id.length === 0) throw new LinksInvalidArgumentError(`${at}.id`, link.id, 'a non-empty string');
  if (!TIERS.includes(link.tier)) throw new LinksInvalidArgumentError(`${at}.tier`, link.tier, `one of ${TIERS.join(', ')}`);
  if (!LINK_STATES.includes(link.state)) throw new LinksInvalidArgumentError(`${at}.state`, link.state, `one of ${LINK_STATES.join(', ')}`);
  if (!(typeof link.weight === 'number' && Number.isFinite(link.weight) && link.weight >= 0)) throw new LinksInvalidArgumentError(`${at}.weight`, link.weight, 'a finite number >= 0');
  optionalNonNegative(`${at}.capBytesPerSec`, link.capBytesPerSec);
  optionalNonNegative(`${at}.dataCapBytes`, link.dataCapBytes);
  const e = link.estimators as Partial<SchedulerLink['estimators']> | undefined;
  if (typeof e?.rtt !== 'object' || typeof e.deliveryRate !== 'object') throw new LinksInvalidArgumentError(`${at}.estimators`, e, 'an object with rtt and deliveryRate');
}

export abstract class SchedulerBase implements Scheduler {
  abstract readonly kind: SchedulerKind;
  links: readonly SchedulerLink[] = [];
  dropped = 0;
  protected readonly opts: SchedulerOptions;
  protected cls = new Uint8Array(0);
  protected tier = new Uint8Array(0);
  private sent = new Float64Array(0);
  private packets = new Float64Array(0);
  private dataUsed = new Float64Array(0);
  private buckets: (TokenBucket | null)[] = [];

  constructor(opts: SchedulerOptions) {
    this.opts = opts;
  }

  /** Choose among links with tier[i] === tier and cls[i] === want; write indexes to out. */
  protected abstract select(tier: number, want: number, bytes: number, out: Int32Array | number[]): number;

  /** Per-policy state for the new link set; `carried[i]` is the old index of link i or -1. */
  protected abstract resize(n: number, carried: Int32Array): void;

  pick(packetBytes: number, nowMs: number, out: Int32Array | number[]): number {
    const links = this.links;
    const n = links.length;
    if (!(packetBytes >= 0 && packetBytes <= SCHEDULER_MAX_PACKET_BYTES)) {
      throw new LinksInvalidArgumentError('packetBytes', packetBytes, `a number in 0..${SCHEDULER_MAX_PACKET_BYTES}`);
    }
    if (out.length < n) throw new LinksInvalidArgumentError('out.length', out.length, `>= the number of links (${n})`);
    // 1. classify
    let avail = this.classify(packetBytes, nowMs, false);
    if (avail < 0) avail = this.classify(packetBytes, nowMs, true); // nothing up or degraded: probing links may carry
    // 2. normal tiers, 3. last resort
    let count = this.select(TIER_PRIMARY, CLS_READY, packetBytes, out);
    if (count === 0) count = this.select(TIER_OVERFLOW, CLS_READY, packetBytes, out);
    if (count === 0 && avail === 0) count = this.select(TIER_BACKUP, CLS_READY, packetBytes, out);
    if (count === 0) {
      count = this.select(TIER_PRIMARY, CLS_SPENT, packetBytes, out);
      if (count === 0) count = this.select(TIER_OVERFLOW, CLS_SPENT, packetBytes, out);
      if (count === 0 && avail === 0) count = this.select(TIER_BACKUP, CLS_SPENT, packetBytes, out);
    }
    if (count === 0) {
      this.dropped++;
      return 0;
    }
    // 4. account
    for (let k = 0; k < count; k++) {
      const i = out[k]!;
      this.sent[i]! += packetBytes;
      this.packets[i]!++;
      if (links[i]!.dataCapBytes !== undefined) this.dataUsed[i]! += packetBytes;
      const b = this.buckets[i];
      if (b !== null && b !== undefined && links[i]!.capBytesPerSec !== undefined) b.take(packetBytes, nowMs);
    }
    return count;
  }

  /**
   * Fill cls[] and tier[]. Returns how many primary/overflow links are available (READY or
   * FULL), or -1 when no link is usable at all and `probing` was false.
   */
  private classify(bytes: number, nowMs: number, probing: boolean): number {
    const links = this.links;
    const cls = this.cls;
    const tiers = this.tier;
    let usable = 0;
    let avail = 0;
    for (let i = 0; i < links.length; i++) {
      const link = links[i]!;
      const state = link.state;
      tiers[i] = tierCode(link.tier);
      if (!(state === 'up' || state === 'degraded' || (probing && state === 'probing'))) {
        cls[i] = CLS_NONE;
        continue;
      }
      usable++;
      const dataCap = link.dataCapBytes;
      const spent = dataCap !== undefined && this.dataUsed[i]! >= dataCap;
      if (spent && link.dataCapLastResort !== true) {
        cls[i] = CLS_NONE;
        continue;
      }
      const full = !this.hasRoom(i, link, bytes, nowMs);
      if (spent) cls[i] = full ? CLS_NONE : CLS_SPENT;
      else {
        cls[i] = full ? CLS_FULL : CLS_READY;
        if (tiers[i] !== TIER_BACKUP) avail++;
      }
    }
    return usable === 0 && !probing ? -1 : avail;
  }

  /** Does link i's rate cap have `bytes` of tokens now? Creates/retunes its bucket (rare). */
  private hasRoom(i: number, link: SchedulerLink, bytes: number, nowMs: number): boolean {
    const cap = link.capBytesPerSec;
    if (cap === undefined) return true;
    let b = this.buckets[i];
    if (b === null || b === undefined) {
      b = createTokenBucket({ rateBytesPerSec: cap }); // cold: first use of a cap
      this.buckets[i] = b;
    } else if (b.rateBytesPerSec !== cap) {
      b.setRate(cap); // cold: the app changed the cap
    }
    return b.canTake(bytes, nowMs);
  }

  setLinks(links: readonly SchedulerLink[]): void {
    if (!Array.isArray(links)) throw new LinksInvalidArgumentError('links', links, 'an array of links');
    if (links.length > SCHEDULER_MAX_LINKS) throw new LinksInvalidArgumentError('links.length', links.length, `at most ${SCHEDULER_MAX_LINKS}`);
    const seen = new Set<string>();
    links.forEach((link, i) => {
      validateLink(link, i);
      if (seen.has(link.id)) throw new LinksInvalidArgumentError(`links[${i}].id`, link.id, 'unique');
      seen.add(link.id);
    });
    const oldIndex = new Map(this.links.map((l, i) => [l.id, i]));
    const n = links.length;
    const carried = new Int32Array(n);
    const sent = new Float64Array(n);
    const packets = new Float64Array(n);
    const dataUsed = new Float64Array(n);
    const buckets: (TokenBucket | null)[] = [];
    for (let i = 0; i < n; i++) {
      const j = oldIndex.get(links[i]!.id) ?? -1;
      carried[i] = j;
      sent[i] = j >= 0 ? this.sent[j]! : 0;
      packets[i] = j >= 0 ? this.packets[j]! : 0;
      dataUsed[i] = j >= 0 ? this.dataUsed[j]! : 0;
      buckets.push(j >= 0 ? (this.buckets[j] ?? null) : null);
    }
    this.resize(n, carried);
    this.links = [...links];
    this.cls = new Uint8Array(n);
    this.tier = new Uint8Array(n);
    this.sent = sent;
    this.packets = packets;
    this.dataUsed = dataUsed;
    this.buckets = buckets;
  }

  private index(i: number): number {
    if (Number.isInteger(i) && i >= 0 && i < this.links.length) return i;
    throw new LinksInvalidArgumentError('index', i, `a link index in 0..${this.links.length - 1}`);
  }

  sentBytes(index: number): number {
    return this.sent[this.index(index)]!;
  }

  sentPackets(index: number): number {
    return this.packets[this.index(index)]!;
  }

  dataCapUsedBytes(index: number): number {
    return this.dataUsed[this.index(index)]!;
  }

  resetDataCap(id: string, usedBytes = 0): void {
    const i = this.links.findIndex((l) => l.id === id);
    if (i < 0) throw new LinksInvalidArgumentError('id', id, 'the id of a current link');
    if (!(Number.isFinite(usedBytes) && usedBytes >= 0)) throw new LinksInvalidArgumentError('usedBytes', usedBytes, 'a finite number >= 0');
    this.dataUsed[i] = usedBytes;
  }
}
