// Token-bucket rate limiter on a fake clock: bursts, refill, refusals, bounded keys (LRU).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createConnectionLimiter, createRateLimiter, isPeersError } from '../src/index.js';
import { manualClock } from './helpers.js';

describe('token bucket', () => {
  it('allows a burst of capacity, then refills at the configured rate', () => {
    const clock = manualClock();
    const rl = createRateLimiter({ capacity: 3, refillPerSecond: 2 }, { now: clock.now });
    expect([rl.tryTake('a'), rl.tryTake('a'), rl.tryTake('a'), rl.tryTake('a')]).toEqual([true, true, true, false]);
    expect(rl.retryAfterMs('a')).toBe(500);
    clock.advance(499);
    expect(rl.tryTake('a')).toBe(false);
    clock.advance(1);
    expect(rl.tryTake('a')).toBe(true);
    clock.advance(60_000); // long quiet: refills to capacity, not beyond
    expect(rl.available('a')).toBe(3);
    expect(rl.limited).toBe(2);
  });

  it('keys are independent', () => {
    const clock = manualClock();
    const rl = createRateLimiter({ capacity: 1, refillPerSecond: 1 }, { now: clock.now });
    expect(rl.tryTake('peer-a')).toBe(true);
    expect(rl.tryTake('peer-a')).toBe(false);
    expect(rl.tryTake('peer-b')).toBe(true);
  });

  it('takes several tokens at once and refuses without taking any when short', () => {
    const clock = manualClock();
    const rl = createRateLimiter({ capacity: 10, refillPerSecond: 10 }, { now: clock.now });
    expect(rl.tryTake('k', 7)).toBe(true);
    expect(rl.tryTake('k', 4)).toBe(false);
    expect(rl.available('k')).toBe(3);
    expect(rl.retryAfterMs('k', 4)).toBe(100);
    expect(rl.retryAfterMs('unknown', 10)).toBe(0);
    expect(rl.available('unknown')).toBe(10);
  });

  it('supports slow rates (connection attempts: one per 10 s)', () => {
    const clock = manualClock();
    const rl = createRateLimiter({ capacity: 1, refillPerSecond: 0.1 }, { now: clock.now });
    expect(rl.tryTake('10.0.0.1')).toBe(true);
    expect(rl.retryAfterMs('10.0.0.1')).toBe(10_000);
    clock.advance(9_999);
    expect(rl.tryTake('10.0.0.1')).toBe(false);
    clock.advance(1);
    expect(rl.tryTake('10.0.0.1')).toBe(true);
  });

  it('take() throws PEERS_RATE_LIMITED with retryAfterMs', () => {
    const clock = manualClock();
    const rl = createRateLimiter({ capacity: 1, refillPerSecond: 4 }, { now: clock.now });
    rl.take('p');
    let caught: unknown;
    try {
      rl.take('p');
    } catch (err) {
      caught = err;
    }
    expect(isPeersError(caught, 'PEERS_RATE_LIMITED')).toBe(true);
    expect((caught as Error).message).toBe('rate limit for "p": 1 token(s) wanted, retry in 250 ms');
    expect((caught as { details: unknown }).details).toEqual({ key: 'p', tokens: 1, retryAfterMs: 250 });
  });

  it('a clock stepping backwards neither refills nor breaks the bucket', () => {
    const clock = manualClock(10_000);
    const rl = createRateLimiter({ capacity: 2, refillPerSecond: 1 }, { now: clock.now });
    rl.tryTake('k', 2);
    clock.set(5_000);
    expect(rl.tryTake('k')).toBe(false);
    clock.set(11_000);
    expect(rl.tryTake('k')).toBe(true);
  });

  it('property: over any schedule, tokens granted <= capacity + rate * elapsed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 50 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 3 })), { maxLength: 200 }), (capacity, rate, calls) => {
        const clock = manualClock();
        const rl = createRateLimiter({ capacity: capacity + 3, refillPerSecond: rate }, { now: clock.now });
        let granted = 0;
        for (const [dt, n] of calls) {
          clock.advance(dt);
          if (rl.tryTake('k', n)) granted += n;
        }
        expect(granted).toBeLessThanOrEqual(capacity + 3 + (rate * clock.now()) / 1000 + 1e-9);
      }),
    );
  });
});

describe('bounded key map', () => {
  it('evicts the least recently used key at maxKeys and counts it', () => {
    const clock = manualClock();
    const rl = createRateLimiter({ capacity: 1, refillPerSecond: 0.001, maxKeys: 2 }, { now: clock.now });
    rl.tryTake('a');
    rl.tryTake('b');
    rl.tryTake('a'); // a is now most recent (refused, but touched)
    rl.tryTake('c'); // evicts b
    expect(rl.size).toBe(2);
    expect(rl.evictions).toBe(1);
    expect(rl.tryTake('a')).toBe(false); // still limited: kept
    expect(rl.tryTake('b')).toBe(true); // forgotten: starts full again (evicts c)
    expect(rl.evictions).toBe(2);
  });

  it('never holds more than maxKeys however many keys come by', () => {
    const rl = createRateLimiter<number>({ capacity: 5, refillPerSecond: 1, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) rl.tryTake(i);
    expect(rl.size).toBe(100);
    expect(rl.evictions).toBe(9_900);
    expect(rl.delete(9_999)).toBe(true);
    expect(rl.delete(0)).toBe(false);
    rl.clear();
    expect(rl.size).toBe(0);
  });

  it('refuses bad options and token counts naming field, value and expectation', () => {
    expect(() => createRateLimiter({ capacity: 0, refillPerSecond: 1 })).toThrow('capacity 0 is not a number in 1..1000000000000');
    expect(() => createRateLimiter({ capacity: 1, refillPerSecond: 0 })).toThrow(/refillPerSecond 0 is not a number/);
    expect(() => createRateLimiter({ capacity: 1, refillPerSecond: 1, maxKeys: 0 })).toThrow('maxKeys 0 is not an integer');
    expect(() => createRateLimiter(null as never)).toThrow('rate limiter options null is not an object');
    const rl = createRateLimiter({ capacity: 5, refillPerSecond: 1 });
    expect(() => rl.tryTake('k', 6)).toThrow('tokens 6 is not a number in (0, 5] (the capacity)');
    expect(() => rl.tryTake('k', 0)).toThrow(/tokens 0/);
    expect(() => rl.retryAfterMs('k', Number.NaN)).toThrow(/tokens NaN/);
    expect([rl.capacity, rl.refillPerSecond, rl.maxKeys]).toEqual([5, 1, 10_000]);
  });
});

describe('connection limiter', () => {
  it('limits per key and in total, refusing and counting beyond', () => {
    const limits = createConnectionLimiter({ maxTotal: 3, maxPerKey: 2 });
    const a1 = limits.tryAcquire('a')!;
    limits.tryAcquire('a');
    expect(limits.tryAcquire('a')).toBeNull();
    const b1 = limits.tryAcquire('b')!;
    expect(limits.tryAcquire('c')).toBeNull();
    expect([limits.total, limits.count('a'), limits.count('b'), limits.refused]).toEqual([3, 2, 1, 2]);
    a1.release();
    expect(limits.tryAcquire('c')).not.toBeNull();
    b1.release();
    expect(limits.count('b')).toBe(0);
  });

  it('release is idempotent: a double close cannot free another connection slot', () => {
    const limits = createConnectionLimiter({ maxTotal: 2 });
    const s = limits.acquire('x');
    limits.acquire('x');
    s.release();
    s.release();
    expect(s.released).toBe(true);
    expect(limits.total).toBe(1);
    expect(limits.count('x')).toBe(1);
    const { release } = limits.acquire('y'); // detached release works (socket.once('close', slot.release))
    release();
    expect(limits.total).toBe(1);
  });

  it('acquire() throws PEERS_LIMIT naming the limit reached', () => {
    const limits = createConnectionLimiter({ maxTotal: 2, maxPerKey: 1 });
    limits.acquire('a');
    expect(() => limits.acquire('a')).toThrow('connection refused: limit 1 for "a" reached');
    limits.acquire('b');
    let caught: unknown;
    try {
      limits.acquire('c');
    } catch (err) {
      caught = err;
    }
    expect(isPeersError(caught, 'PEERS_LIMIT')).toBe(true);
    expect((caught as Error).message).toBe('connection refused: total limit 2 reached');
  });

  it('validates options', () => {
    expect(() => createConnectionLimiter({ maxTotal: 0 })).toThrow('maxTotal 0 is not an integer in 1..100000000');
    expect(() => createConnectionLimiter({ maxTotal: 2, maxPerKey: 3 })).toThrow('maxPerKey 3 is not an integer in 1..2');
    expect(() => createConnectionLimiter(undefined as never)).toThrow('maxTotal undefined is not an integer');
    expect(createConnectionLimiter({ maxTotal: 4 }).maxPerKey).toBe(4);
  });
});
