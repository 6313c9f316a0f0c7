/**
 * Bounded reorder buffer for DATA packets (bonding.md §4): puts packets that travelled links
 * of different delay back in data-sequence order, waiting for a gap at most `maxWaitMs`.
 *
 * Sequence space around the delivery point `next` (u32, wrapping; distances are signed
 * 32-bit, seqDiff32):
 *
 *        history: delivered? (1 bit each)    window: held packets (slots)
 *     |<-------------- capacity ------------>|<-------------- capacity ------------>|
 *  ---+--------------------------------------+--------------------------------------+--->
 *     next - capacity                       next                         next + capacity
 *
 *   - seq == next            delivered at once from the caller's buffer (no copy), then
 *                            every consecutive held packet after it;
 *   - next < seq < +capacity copied into slot seq & (capacity-1) and held;
 *   - seq >= next + capacity the buffer is full: the oldest gaps are skipped (held packets
 *                            before the new one delivered) until it fits;
 *   - history                not delivered yet (its gap was skipped): delivered at once,
 *                            counted `late`; delivered already: dropped, `duplicate`;
 *   - older than history     dropped, counted `tooOld` (cannot tell a duplicate).
 *
 * Waiting: every held packet enters a FIFO in arrival order. The FIFO's head is the packet
 * held longest; once it has waited `maxWaitMs`, every gap before it is skipped and it is
 * delivered with what follows. So no packet is held longer than maxWaitMs plus the caller's
 * timer period: push() checks the head on every call, and one coarse timer calling poll()
 * at nextDeadlineMs() covers the time when nothing arrives. No timer per packet.
 *
 * Memory: per-slot length, sequence and arrival arrays, the history bytes and the FIFO are
 * allocated at creation; the packet buffers come from a LIFO pool that grows by 64 slots of
 * slotBytes when every buffer is in use (at most capacity), so memory follows the most packets
 * held at once rather than capacity × slotBytes. Nothing is allocated per packet except the
 * subarray view handed to `deliver`.
 */
import { seqDiff32 } from '@edgebox/links';
import {
  REORDER_CAPACITY_DEFAULT,
  REORDER_CAPACITY_MAX,
  REORDER_JITTER_FACTOR,
  REORDER_SLOT_BYTES_DEFAULT,
  REORDER_WAIT_MAX_MS,
  REORDER_WAIT_MIN_MS,
} from './constants.js';
import { BondingError, invalidArgument } from './errors.js';

/** Receives packets in order. The packet view is valid only during the call. */
export type ReorderDeliver = (packet: Uint8Array, seq: number) => void;

/** Options of createReorderBuffer(). */
export interface ReorderInit {
  /** Called once per delivered packet, in sequence order (late ones excepted). Must not call push/poll. */
  deliver: ReorderDeliver;
  /** Slots, a power of two in 2..65536 (default 4096). */
  capacity?: number;
  /** Largest packet, the TUN MTU (default 1500); bigger packets are dropped, `oversize`. */
  slotBytes?: number;
  /** Initial gap wait, clamped to 1..200 ms (default 200 ms until the caller knows its links). */
  maxWaitMs?: number;
  /** The first expected sequence (default: the first one pushed). */
  firstSeq?: number;
}

/** Reorder counters: plain numbers read at scrape time. */
export interface ReorderCounters {
  /** Packets handed to deliver, in order or late. */
  delivered: number;
  /** Delivered at once because they were next (no copy). */
  inOrder: number;
  /** Copied into a slot to wait for a gap. */
  buffered: number;
  /** Arrived after their gap was skipped; delivered at once. */
  late: number;
  /** Dropped: sequence already delivered or already held. */
  duplicate: number;
  /** Dropped: older than the history window (capacity behind the delivery point). */
  tooOld: number;
  /** Dropped: larger than slotBytes. */
  oversize: number;
  /** Sequence numbers given up on (gaps skipped). */
  skipped: number;
  /** Skips because a held packet waited maxWaitMs. */
  timeouts: number;
  /** Skips because a packet arrived beyond the window (buffer full). */
  overflows: number;
  /** skipBefore() calls that skipped a gap (losses the caller proved). */
  lossSkips: number;
  /** deferSkipBefore() calls (retransmissions asked for). */
  deferred: number;
}

/** A bounded reorder buffer. Not re-entrant: deliver must not call back into it. */
export interface ReorderBuffer {
  readonly capacity: number;
  readonly slotBytes: number;
  /** Current gap wait (set it from reorderWaitMs(); clamped to 1..200 ms). */
  maxWaitMs: number;
  /** Packets held now (always < capacity). */
  readonly held: number;
  /** Packet buffers allocated so far (chunks of 64, at most capacity): memory is this × slotBytes. */
  readonly allocatedSlots: number;
  /** The delivery point: the next sequence expected; -1 before the first packet. */
  readonly nextSeq: number;
  /**
   * The longest wait that would have kept a late packet in order, since the caller last set
   * it to 0: maxWait at the time + how long after the last timeout skip the packet arrived.
   * Feedback for a caller that adapts maxWaitMs (timers.ts); 0 when nothing came late.
   */
  neededWaitMs: number;
  readonly counters: ReorderCounters;
  /** Take one DATA packet (copied if it must wait), then deliver whatever is due. */
  push(seq: number, packet: Uint8Array, nowMs: number): void;
  /** Deliver what has waited long enough. Call at nextDeadlineMs() from a coarse timer. */
  poll(nowMs: number): void;
  /** When poll() has work next (ms, same clock as nowMs), or Infinity when nothing is held. */
  nextDeadlineMs(): number;
  /**
   * Give up on every missing sequence before `seq` now (the caller knows they are lost):
   * held packets before it are delivered in order, the gaps counted `skipped` and `lossSkips`.
   * Nothing happens when `seq` is not ahead of the delivery point.
   */
  skipBefore(seq: number): void;
  /**
   * skipBefore(seq) at `deadlineMs` instead of now: the caller asked the peer to send the
   * missing packets again (bonding.md §4.1). Until the deadline no gap before `seq` is skipped
   * for waiting (the maxWaitMs timeout holds too), so a retransmission that arrives in time is
   * delivered in order. At most DEFERRED_MAX pending (beyond, the oldest is applied at once).
   */
  deferSkipBefore(seq: number, deadlineMs: number): void;
  /** True when `seq` is ahead of the delivery point (within the window) and not held. */
  isMissing(seq: number): boolean;
  /**
   * Asked before a held packet's wait runs out and the gaps before it (`seq`) would be
   * skipped: return true after calling deferSkipBefore() to hold them for a retransmission
   * instead (bonding.md §4.1). May call deferSkipBefore and isMissing, nothing else.
   */
  onTimeout: ((seq: number, nowMs: number) => boolean) | null;
  /** Deliver everything held, in order, skipping gaps (e.g. on stop). */
  flush(): void;
  /** Forget everything, including the delivery point (a new peer association). */
  reset(): void;
}

/**
 * The gap wait of bonding.md §4: clamp(rttSpread + 4·jitter, 1 ms, 200 ms), where rttSpread
 * is the slowest minus the fastest usable link's one-way estimate (half SRTT).
 *
 * @example reorder.maxWaitMs = reorderWaitMs((slowest.srtt - fastest.srtt) / 2, maxJitter);
 */
export function reorderWaitMs(rttSpreadMs: number, jitterMs: number): number {
  const w = rttSpreadMs + REORDER_JITTER_FACTOR * jitterMs;
  if (!(w > REORDER_WAIT_MIN_MS)) return REORDER_WAIT_MIN_MS; // also NaN
  return w < REORDER_WAIT_MAX_MS ? w : REORDER_WAIT_MAX_MS;
}

const EMPTY_SLOT = -1;
/** Deferred skips pending at most (deferSkipBefore). */
export const DEFERRED_MAX = 64;
/** Slot buffers allocated at a time when the pool is empty. */
const SLOT_CHUNK = 64;
/** neededWaitMs ignores lateness beyond this (a straggler of an old skip, not a wait to learn). */
const LATE_WAIT_CAP_MS = 1000;

class Reorder implements ReorderBuffer {
  readonly capacity: number;
  readonly slotBytes: number;
  readonly counters: ReorderCounters = {
    delivered: 0,
    inOrder: 0,
    buffered: 0,
    late: 0,
    duplicate: 0,
    tooOld: 0,
    oversize: 0,
    skipped: 0,
    timeouts: 0,
    overflows: 0,
    lossSkips: 0,
    deferred: 0,
  };
  held = 0;
  neededWaitMs = 0;
  private lastTimeoutMs = -Infinity;
  private wait: number;
  private next = 0;
  private synced = false;
  private busy = false;
  private readonly mask: number;
  /** The buffer holding the packet of each held slot (undefined when free). */
  private readonly slots: (Uint8Array | undefined)[];
  /** Free slot buffers (LIFO: the same few stay warm); grows by SLOT_CHUNK up to capacity. */
  private readonly pool: Uint8Array[] = [];
  private allocated = 0;

  get allocatedSlots(): number {
    return this.allocated;
  }
  /** Packet length per slot, EMPTY_SLOT when free. */
  private readonly length: Int32Array;
  private readonly slotSeq: Uint32Array;
  private readonly arrival: Float64Array;
  /** 1 = delivered, for sequences in [next - capacity, next). */
  private readonly history: Uint8Array;
  /** Held sequences in arrival order (a ring); entries of delivered packets are skipped lazily. */
  private readonly fifo: Uint32Array;
  private fifoHead = 0;
  private fifoCount = 0;
  /** Deferred skips (deferSkipBefore), a ring in deadline order: sequence and deadline. */
  private readonly deferSeq = new Uint32Array(DEFERRED_MAX);
  private readonly deferAt = new Float64Array(DEFERRED_MAX);
  private deferHead = 0;
  private deferCount = 0;
  /** No timeout skip before this (the latest deferral's deadline). */
  private holdUntilMs = -Infinity;
  onTimeout: ((seq: number, nowMs: number) => boolean) | null = null;

  constructor(
    private readonly deliver: ReorderDeliver,
    capacity: number,
    slotBytes: number,
    maxWaitMs: number,
    private readonly firstSeq: number,
  ) {
    this.capacity = capacity;
    this.slotBytes = slotBytes;
    this.wait = maxWaitMs;
    this.mask = capacity - 1;
    this.slots = new Array<Uint8Array | undefined>(capacity).fill(undefined);
    this.length = new Int32Array(capacity).fill(EMPTY_SLOT);
    this.slotSeq = new Uint32Array(capacity);
    this.arrival = new Float64Array(capacity);
    this.history = new Uint8Array(capacity);
    this.fifo = new Uint32Array(2 * capacity);
  }

  get maxWaitMs(): number {
    return this.wait;
  }

  set maxWaitMs(ms: number) {
    this.wait = clampWait(ms);
  }

  get nextSeq(): number {
    return this.synced ? this.next : -1;
  }

  push(seq: number, packet: Uint8Array, nowMs: number): void {
    if (seq >>> 0 !== seq) throw invalidArgument('data sequence', seq, 'a u32');
    this.enter();
    try {
      this.take(seq, packet, nowMs);
    } finally {
      this.busy = false; // a throwing deliver must not wedge the buffer
    }
  }

  private take(seq: number, packet: Uint8Array, nowMs: number): void {
    const c = this.counters;
    if (packet.length > this.slotBytes) {
      c.oversize++;
      return;
    }
    if (!this.synced) {
      this.next = this.firstSeq < 0 ? seq : this.firstSeq;
      this.synced = true;
    }
    let d = seqDiff32(seq, this.next);
    if (d >= this.capacity) {
      // Full: skip the oldest gaps until seq fits in the window.
      this.advance(d - this.capacity + 1);
      this.drain();
      c.overflows++;
      this.lastTimeoutMs = -Infinity; // stragglers of an overflow say nothing about the wait
      d = seqDiff32(seq, this.next);
    }
    if (d === 0) {
      this.history[seq & this.mask] = 1;
      this.next = (seq + 1) >>> 0;
      c.inOrder++;
      c.delivered++;
      this.deliver(packet, seq);
      if (this.held > 0) this.drain();
    } else if (d < 0) {
      if (-d > this.capacity) {
        c.tooOld++;
      } else if (this.history[seq & this.mask] === 1) {
        c.duplicate++;
      } else {
        this.history[seq & this.mask] = 1;
        c.late++;
        c.delivered++;
        const needed = this.wait + (nowMs - this.lastTimeoutMs); // Infinity after an overflow skip
        if (needed > this.neededWaitMs && needed < LATE_WAIT_CAP_MS) this.neededWaitMs = needed;
        this.deliver(packet, seq);
      }
    } else {
      const i = seq & this.mask;
      if (this.length[i] !== EMPTY_SLOT) {
        c.duplicate++;
      } else {
        const slot = this.pool.pop() ?? this.grow();
        slot.set(packet);
        this.slots[i] = slot;
        this.length[i] = packet.length;
        this.slotSeq[i] = seq;
        this.arrival[i] = nowMs;
        this.held++;
        c.buffered++;
        this.fifoPush(seq);
      }
    }
    if (this.deferCount > 0) this.applyDeferred(nowMs);
    if (this.fifoCount > 0) this.expire(nowMs);
  }

  poll(nowMs: number): void {
    if (this.fifoCount === 0 && this.deferCount === 0) return;
    this.enter();
    try {
      if (this.deferCount > 0) this.applyDeferred(nowMs);
      this.expire(nowMs);
    } finally {
      this.busy = false;
    }
  }

  nextDeadlineMs(): number {
    this.dropStaleHeads();
    const deferred = this.deferCount > 0 ? this.deferAt[this.deferHead]! : Infinity;
    if (this.fifoCount === 0) return deferred;
    const arrival = this.arrival[this.fifo[this.fifoHead]! & this.mask]!;
    const timeout = Math.max(arrival + this.wait, Math.min(this.holdUntilMs, arrival + REORDER_WAIT_MAX_MS));
    return timeout < deferred ? timeout : deferred;
  }

  deferSkipBefore(seq: number, deadlineMs: number): void {
    if (!this.synced || seqDiff32(seq, this.next) <= 0) return;
    if (this.deferCount > 0) {
      // Same deadline as the newest pending: move its sequence forward instead of queueing
      // (the caller defers on every DATA packet while an answer is awaited).
      const last = (this.deferHead + this.deferCount - 1) % DEFERRED_MAX;
      if (this.deferAt[last] === deadlineMs) {
        if (seqDiff32(seq, this.deferSeq[last]!) > 0) this.deferSeq[last] = seq >>> 0;
        return;
      }
    }
    if (this.deferCount === DEFERRED_MAX) {
      // Full: the oldest deferral is applied now (bounded memory, never a stall). Called from
      // onTimeout the buffer is already busy (inside expire), so no enter() here.
      const oldest = this.deferSeq[this.deferHead]!;
      this.deferHead = (this.deferHead + 1) % DEFERRED_MAX;
      this.deferCount--;
      const d = seqDiff32(oldest, this.next);
      if (d > 0 && this.held > 0) {
        if (this.busy) {
          this.advance(d);
          this.drain();
          this.counters.lossSkips++;
        } else this.skipBefore(oldest);
      }
    }
    const at = (this.deferHead + this.deferCount) % DEFERRED_MAX;
    this.deferSeq[at] = seq >>> 0;
    this.deferAt[at] = deadlineMs;
    this.deferCount++;
    if (deadlineMs > this.holdUntilMs) this.holdUntilMs = deadlineMs;
    this.counters.deferred++;
  }

  isMissing(seq: number): boolean {
    if (!this.synced) return false;
    const d = seqDiff32(seq, this.next);
    if (d < 0 || d >= this.capacity) return false;
    return !this.isLive(seq);
  }

  /** Deferred skips whose deadline passed, in order. */
  private applyDeferred(nowMs: number): void {
    while (this.deferCount > 0 && this.deferAt[this.deferHead]! <= nowMs) {
      const seq = this.deferSeq[this.deferHead]!;
      this.deferHead = (this.deferHead + 1) % DEFERRED_MAX;
      this.deferCount--;
      const d = seqDiff32(seq, this.next);
      if (d > 0 && this.held > 0) {
        this.advance(d);
        this.drain();
        this.counters.lossSkips++;
      }
    }
  }

  skipBefore(seq: number): void {
    if (!this.synced || this.held === 0) return;
    const d = seqDiff32(seq, this.next);
    if (d <= 0) return;
    this.enter();
    try {
      this.advance(d);
      this.drain();
      this.counters.lossSkips++;
    } finally {
      this.busy = false;
    }
  }

  flush(): void {
    this.enter();
    try {
      while (this.held > 0) {
        this.advance(1);
        this.drain();
      }
      this.fifoHead = 0;
      this.fifoCount = 0;
    } finally {
      this.busy = false;
    }
  }

  reset(): void {
    this.enter();
    for (let i = 0; i < this.capacity; i++) {
      const slot = this.slots[i];
      if (slot !== undefined) {
        this.pool.push(slot);
        this.slots[i] = undefined;
      }
    }
    this.length.fill(EMPTY_SLOT);
    this.history.fill(0);
    this.held = 0;
    this.fifoHead = 0;
    this.fifoCount = 0;
    this.synced = false;
    this.next = 0;
    this.neededWaitMs = 0;
    this.lastTimeoutMs = -Infinity;
    this.deferHead = 0;
    this.deferCount = 0;
    this.holdUntilMs = -Infinity;
    this.busy = false;
  }

  /**
   * No free slot buffer: allocate the next chunk (cold). Memory follows the most packets held at
   * once, never capacity × slotBytes up front: a server with many clients touches only what
   * their reordering needs. At most `capacity` buffers exist (one per held sequence).
   */
  private grow(): Uint8Array {
    const n = Math.max(1, Math.min(SLOT_CHUNK, this.capacity - this.allocated));
    const b = this.slotBytes;
    const storage = new Uint8Array(n * b);
    for (let k = 1; k < n; k++) this.pool.push(storage.subarray(k * b, (k + 1) * b));
    this.allocated += n;
    return storage.subarray(0, b);
  }

  private enter(): void {
    if (this.busy) throw new BondingError('BONDING_INVALID_ARGUMENT', 'reorder buffer re-entered from its deliver callback');
    this.busy = true;
  }

  /** Deliver or skip the slot at `next` and move past it. */
  private step(): void {
    const n = this.next;
    const i = n & this.mask;
    const len = this.length[i]!;
    if (len !== EMPTY_SLOT && this.slotSeq[i] === n) {
      this.length[i] = EMPTY_SLOT;
      this.history[i] = 1;
      this.held--;
      this.next = (n + 1) >>> 0;
      this.counters.delivered++;
      const slot = this.slots[i]!;
      this.slots[i] = undefined;
      try {
        this.deliver(slot.subarray(0, len), n);
      } finally {
        this.pool.push(slot);
      }
    } else {
      this.history[i] = 0;
      this.counters.skipped++;
      this.next = (n + 1) >>> 0;
    }
  }

  /**
   * Move the delivery point `count` sequences forward, delivering held packets and skipping
   * gaps. Beyond 2·capacity steps every slot and history entry has been passed (nothing is
   * held past the window), so the rest is one jump.
   */
  private advance(count: number): void {
    const steps = Math.min(count, 2 * this.capacity);
    for (let k = 0; k < steps; k++) this.step();
    if (count > steps) {
      this.counters.skipped += count - steps;
      this.next = (this.next + (count - steps)) >>> 0;
    }
  }

  /** Deliver consecutive held packets from `next`. */
  private drain(): void {
    while (this.held > 0) {
      const i = this.next & this.mask;
      if (this.length[i] === EMPTY_SLOT) return;
      this.step();
    }
  }

  /** Skip gaps for every held packet that has waited maxWaitMs, oldest arrival first. */
  private expire(nowMs: number): void {
    for (;;) {
      this.dropStaleHeads();
      if (this.fifoCount === 0) return;
      const seq = this.fifo[this.fifoHead]!;
      const waited = nowMs - this.arrival[seq & this.mask]!;
      if (waited < this.wait) return;
      // A retransmission asked for may still fill a gap: hold until its deadline, never longer
      // than the largest wait (REORDER_WAIT_MAX_MS) for any one packet.
      if (nowMs < this.holdUntilMs && waited < REORDER_WAIT_MAX_MS) return;
      // The gaps may be losses no link has proven yet: ask for them once, hold for the answer.
      if (this.onTimeout !== null && waited < REORDER_WAIT_MAX_MS && this.onTimeout(seq, nowMs) && nowMs < this.holdUntilMs) return;
      this.advance(seqDiff32(seq, this.next)); // skips the gaps, delivers held packets before seq
      this.drain(); // seq itself and what follows it
      this.counters.timeouts++;
      this.lastTimeoutMs = nowMs;
    }
  }

  private isLive(seq: number): boolean {
    const i = seq & this.mask;
    return this.length[i] !== EMPTY_SLOT && this.slotSeq[i] === seq;
  }

  private dropStaleHeads(): void {
    const size = this.fifo.length;
    while (this.fifoCount > 0 && !this.isLive(this.fifo[this.fifoHead]!)) {
      this.fifoHead = this.fifoHead + 1 === size ? 0 : this.fifoHead + 1;
      this.fifoCount--;
    }
  }

  /**
   * Append to the arrival FIFO. It never overflows its 2·capacity entries: once stale heads are
   * dropped, the head is live, and every entry behind it is either live (< capacity of them) or
   * a packet delivered while the head was still held, i.e. a distinct sequence between the
   * delivery point at the head's arrival and the head (< capacity of them).
   */
  private fifoPush(seq: number): void {
    this.dropStaleHeads();
    const size = this.fifo.length;
    let at = this.fifoHead + this.fifoCount;
    if (at >= size) at -= size;
    this.fifo[at] = seq;
    this.fifoCount++;
  }
}

function clampWait(ms: number): number {
  if (typeof ms !== 'number' || Number.isNaN(ms)) throw invalidArgument('maxWaitMs', ms, 'a number of ms');
  return ms < REORDER_WAIT_MIN_MS ? REORDER_WAIT_MIN_MS : ms > REORDER_WAIT_MAX_MS ? REORDER_WAIT_MAX_MS : ms;
}

/**
 * Create a reorder buffer. Memory: slot buffers allocated in chunks of 64 as packets must wait,
 * up to capacity × slotBytes (6 MiB at the defaults); the index arrays are allocated once.
 *
 * @example
 * const reorder = createReorderBuffer({ deliver: (packet) => tun.write(packet), slotBytes: tunMtu });
 * reorder.push(opened.header.dataSeq, opened.payload, now);   // per DATA datagram
 * reorder.maxWaitMs = reorderWaitMs(spreadMs, jitterMs);       // when link estimates change
 * timer.refresh(reorder.nextDeadlineMs());                      // one coarse timer: poll(now)
 */
export function createReorderBuffer(init: ReorderInit): ReorderBuffer {
  if (typeof init?.deliver !== 'function') throw invalidArgument('deliver', init?.deliver, 'a function');
  const capacity = init.capacity ?? REORDER_CAPACITY_DEFAULT;
  if (!Number.isInteger(capacity) || capacity < 2 || capacity > REORDER_CAPACITY_MAX || (capacity & (capacity - 1)) !== 0) {
    throw invalidArgument('capacity', capacity, `a power of two in 2..${REORDER_CAPACITY_MAX}`);
  }
  const slotBytes = init.slotBytes ?? REORDER_SLOT_BYTES_DEFAULT;
  if (!Number.isInteger(slotBytes) || slotBytes < 1 || slotBytes > 65_535) throw invalidArgument('slotBytes', slotBytes, 'an integer in 1..65535');
  const firstSeq = init.firstSeq ?? -1;
  if (init.firstSeq !== undefined && firstSeq >>> 0 !== firstSeq) throw invalidArgument('firstSeq', firstSeq, 'a u32');
  return new Reorder(init.deliver, capacity, slotBytes, clampWait(init.maxWaitMs ?? REORDER_WAIT_MAX_MS), firstSeq);
}
