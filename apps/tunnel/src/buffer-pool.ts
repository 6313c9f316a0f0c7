/**
 * Recycled fixed-size buffers for the bulk data path: sealed DATA frames on their way to the
 * transport socket, opened DATA payloads on their way to the local socket.
 *
 * Why: every 64 KiB frame used to cost a fresh ArrayBuffer on each side. At a few hundred MB/s
 * that external-memory churn makes V8 start a full mark-compact several times a second
 * ("external memory pressure"); measured on the dest of the tunnel bench, ~15 mark-compacts a
 * second and a fifth of its CPU. A buffer goes back only once the kernel has copied it (a
 * net.Socket write callback), so the pool never hands out memory someone still reads.
 *
 * ```
 *   take() ──► seal/open into it ──► socket.write(buf, cb) ──► cb: give(buf) ──► free list
 *     ▲ (empty free list: a new buffer)                     (free list full: left to the GC)
 * ```
 */

/** A bounded free list of equal-sized buffers. Not shared between connections. */
export class BufferPool {
  /** Bytes of every buffer. */
  readonly size: number;
  private readonly maxFree: number;
  private readonly free: Buffer[] = [];
  /** ArrayBuffers this pool made (a foreign chunk is never adopted). */
  private readonly owned = new WeakSet<ArrayBuffer>();
  /** ArrayBuffers on the free list (a second give() of one is ignored, not a double hand-out). */
  private readonly idle = new WeakSet<ArrayBuffer>();
  /** Buffers made since creation (tests, stats). */
  allocated = 0;

  constructor(size: number, maxFree: number) {
    this.size = size;
    this.maxFree = maxFree;
  }

  /** A buffer of `size` bytes with stale contents: write before you read. */
  take(): Buffer {
    const b = this.free.pop();
    if (b !== undefined) {
      this.idle.delete(b.buffer as ArrayBuffer); // made by take() from an ArrayBuffer
      return b;
    }
    const fresh = Buffer.allocUnsafeSlow(this.size); // its own ArrayBuffer, so it can come back
    this.owned.add(fresh.buffer as ArrayBuffer);
    this.allocated++;
    return fresh;
  }

  /** Returns a buffer (or any view of one) from take(); anything else is ignored. */
  give(chunk: Uint8Array): void {
    const ab = chunk.buffer;
    if (!(ab instanceof ArrayBuffer) || !this.owned.has(ab) || this.idle.has(ab)) return;
    if (this.free.length >= this.maxFree) return;
    this.idle.add(ab);
    this.free.push(Buffer.from(ab, 0, this.size));
  }

  /** Buffers ready for take(). */
  get freeCount(): number {
    return this.free.length;
  }

  /** Wipes and drops the free list (the connection closed: no plaintext left lying around). */
  clear(): void {
    for (const b of this.free) b.fill(0);
    this.free.length = 0;
  }
}
