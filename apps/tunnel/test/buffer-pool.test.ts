// The data path's buffer pool: buffers come back only from take(), once, within the bound.
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../src/buffer-pool.js';

describe('BufferPool', () => {
  it('hands a given-back buffer out again instead of allocating', () => {
    const pool = new BufferPool(1024, 4);
    const a = pool.take();
    expect(a.length).toBe(1024);
    pool.give(a.subarray(0, 10)); // a view of it counts as the buffer
    expect(pool.freeCount).toBe(1);
    const b = pool.take();
    expect(b.buffer).toBe(a.buffer);
    expect(pool.allocated).toBe(1);
  });

  it('ignores foreign chunks and a second give of the same buffer', () => {
    const pool = new BufferPool(1024, 4);
    pool.give(Buffer.allocUnsafeSlow(1024));
    pool.give(new Uint8Array(1024));
    expect(pool.freeCount).toBe(0);
    const a = pool.take();
    pool.give(a);
    pool.give(a);
    expect(pool.freeCount).toBe(1);
    // had the double give counted, two takes would share one buffer
    const x = pool.take();
    const y = pool.take();
    expect(x.buffer).not.toBe(y.buffer);
  });

  it('keeps at most maxFree buffers and wipes them on clear', () => {
    const pool = new BufferPool(64, 2);
    const taken = [pool.take(), pool.take(), pool.take()];
    for (const b of taken) b.fill(0xaa);
    for (const b of taken) pool.give(b);
    expect(pool.freeCount).toBe(2);
    pool.clear();
    expect(pool.freeCount).toBe(0);
    expect(taken[0]!.every((v) => v === 0)).toBe(true);
    expect(taken[1]!.every((v) => v === 0)).toBe(true);
  });
});
