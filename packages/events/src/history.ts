/**
 * The bus's bounded history: the last `capacity` entries in a fixed ring, for `since(cursor)`
 * resume (SSE Last-Event-ID). Every published entry enters it, so the sequence numbers it
 * holds are contiguous and `after(seq)` is an index computation, not a search.
 *
 *   capacity 5, 7 published:   slots [ 6 | 7 | 3 | 4 | 5 ]
 *                                          ^ head (oldest = seq 3)
 *   after(4) = [5, 6, 7]       after(1) = [3 .. 7] (1 and 2 were overwritten: incomplete)
 */
import { checkInt } from './errors.js';
import { MAX_HISTORY_SIZE } from './constants.js';

/** Anything with a bus sequence number. */
export interface Sequenced {
  readonly seq: number;
}

/** The slice of history after a sequence number. */
export interface HistorySlice<T> {
  /** Entries with seq > the one asked for, oldest first (a copy). */
  entries: T[];
  /** False when entries after the asked seq were already overwritten (a gap). */
  complete: boolean;
}

/** A bounded ring of sequenced entries. */
export interface HistoryRing<T extends Sequenced> {
  readonly capacity: number;
  /** Entries held now (≤ capacity). */
  readonly size: number;
  /** Seq of the oldest entry held, or 0 when empty. */
  readonly oldestSeq: number;
  /** Seq of the newest entry held, or 0 when empty. */
  readonly newestSeq: number;
  /** Append; the caller guarantees seq = newestSeq + 1 (contiguous). Overwrites the oldest when full. */
  push(entry: T): void;
  /** Entries with seq > `seq`. */
  after(seq: number): HistorySlice<T>;
  /** Everything held, oldest first (a copy). */
  toArray(): T[];
  clear(): void;
}

class Ring<T extends Sequenced> implements HistoryRing<T> {
  readonly capacity: number;
  private readonly slots: (T | undefined)[];
  private head = 0;
  private length = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.slots = new Array<T | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.length;
  }

  get oldestSeq(): number {
    return this.length === 0 ? 0 : this.slots[this.head]!.seq;
  }

  get newestSeq(): number {
    return this.length === 0 ? 0 : this.slots[(this.head + this.length - 1) % this.capacity]!.seq;
  }

  push(entry: T): void {
    if (this.capacity === 0) return;
    if (this.length < this.capacity) {
      this.slots[(this.head + this.length) % this.capacity] = entry;
      this.length++;
    } else {
      this.slots[this.head] = entry;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  after(seq: number): HistorySlice<T> {
    if (this.length === 0) return { entries: [], complete: true };
    const oldest = this.oldestSeq;
    const newest = oldest + this.length - 1;
    if (seq >= newest) return { entries: [], complete: true };
    const from = Math.max(seq + 1, oldest);
    const entries = new Array<T>(newest - from + 1);
    for (let s = from, i = 0; s <= newest; s++, i++) entries[i] = this.slots[(this.head + (s - oldest)) % this.capacity]!;
    return { entries, complete: seq + 1 >= oldest };
  }

  toArray(): T[] {
    return this.after(this.oldestSeq - 1).entries;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.head = 0;
    this.length = 0;
  }
}

/**
 * A history ring of `capacity` entries (0: keeps nothing).
 *
 * @example
 * const ring = createHistoryRing<{ seq: number }>(3);
 * for (let seq = 1; seq <= 5; seq++) ring.push({ seq });
 * ring.after(3); // { entries: [{seq: 4}, {seq: 5}], complete: true }
 * ring.after(1); // { entries: [{seq: 3}, {seq: 4}, {seq: 5}], complete: false }
 */
export function createHistoryRing<T extends Sequenced>(capacity: number): HistoryRing<T> {
  return new Ring<T>(checkInt('historySize', capacity, 0, MAX_HISTORY_SIZE));
}
