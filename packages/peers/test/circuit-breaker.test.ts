// Circuit breaker: closed -> open on threshold failures within the window, open -> half-open
// after openMs, half-open probes close or reopen it; stale results ignored.
import { describe, expect, it } from 'vitest';
import { createCircuitBreaker, isPeersError, type CircuitStateChange } from '../src/index.js';
import { manualClock } from './helpers.js';

function setup(init: Parameters<typeof createCircuitBreaker>[0] = {}) {
  const clock = manualClock(1_000);
  const changes: CircuitStateChange[] = [];
  const breaker = createCircuitBreaker({ failureThreshold: 3, windowMs: 10_000, openMs: 5_000, ...init }, { now: clock.now });
  breaker.onStateChange((c) => changes.push(c));
  return { clock, breaker, changes };
}

describe('circuit breaker transitions', () => {
  it('opens after threshold failures within the window and refuses calls while open', () => {
    const { clock, breaker, changes } = setup();
    for (let i = 0; i < 2; i++) {
      expect(breaker.allow()).toBe(true);
      breaker.recordFailure();
      clock.advance(1000);
    }
    expect(breaker.state).toBe('closed');
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.allow()).toBe(false);
    expect(changes).toEqual([{ from: 'closed', to: 'open', at: 3000, reason: '3 failures within 10000 ms' }]);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', openedAt: 3000, retryAfterMs: 5000, opens: 1, rejected: 1 });
  });

  it('failures spread wider than the window do not open it (rolling window, not a total)', () => {
    const { clock, breaker } = setup();
    for (let i = 0; i < 10; i++) {
      breaker.recordFailure();
      clock.advance(5001); // any 3 consecutive failures span > 10 s
    }
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().recentFailures).toBe(1);
  });

  it('successes while closed do not erase failures inside the window', () => {
    const { breaker } = setup();
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
  });

  it('half-opens after openMs, admits only halfOpenProbes probes, closes when they all succeed', () => {
    const { clock, breaker, changes } = setup({ halfOpenProbes: 2 });
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    clock.advance(4999);
    expect(breaker.allow()).toBe(false);
    expect(breaker.snapshot().retryAfterMs).toBe(1);
    clock.advance(1);
    expect(breaker.allow()).toBe(true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.allow()).toBe(true);
    expect(breaker.allow()).toBe(false); // both probe slots taken
    expect(breaker.snapshot().probesInFlight).toBe(2);
    breaker.recordSuccess();
    expect(breaker.state).toBe('half-open');
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().recentFailures).toBe(0);
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('a failed probe reopens the circuit for a fresh openMs', () => {
    const { clock, breaker, changes } = setup();
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    clock.advance(5000);
    expect(breaker.allow()).toBe(true);
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.snapshot()).toMatchObject({ openedAt: 6000, retryAfterMs: 5000, opens: 2 });
    expect(changes.at(-1)).toMatchObject({ from: 'half-open', to: 'open', reason: 'probe failed' });
  });

  it('late results while open change nothing', () => {
    const { breaker } = setup();
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    expect(breaker.snapshot()).toMatchObject({ state: 'open', opens: 1 });
  });

  it('trip() forces it open (again extending an open circuit); reset() closes and forgets', () => {
    const { clock, breaker, changes } = setup();
    breaker.trip('operator');
    expect(breaker.state).toBe('open');
    clock.advance(3000);
    breaker.trip();
    expect(breaker.snapshot().retryAfterMs).toBe(5000);
    breaker.reset();
    expect(breaker.state).toBe('closed');
    breaker.reset(); // no change event when already closed
    expect(changes.map((c) => c.reason)).toEqual(['operator', 'reset']);
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.reset();
    breaker.recordFailure();
    expect(breaker.state).toBe('closed');
  });
});

describe('circuit breaker run()', () => {
  it('passes results through, counts thrown errors, refuses with PEERS_CIRCUIT_OPEN and retryAfterMs', async () => {
    const { clock, breaker } = setup();
    await expect(breaker.run(() => 42)).resolves.toBe(42);
    for (let i = 0; i < 3; i++) await expect(breaker.run(() => Promise.reject(new Error('dial failed')))).rejects.toThrow('dial failed');
    let caught: unknown;
    try {
      await breaker.run(() => 1);
    } catch (err) {
      caught = err;
    }
    expect(isPeersError(caught, 'PEERS_CIRCUIT_OPEN')).toBe(true);
    expect((caught as Error).message).toBe('circuit open: call refused, retry in 5000 ms');
    expect((caught as { details: unknown }).details).toEqual({ state: 'open', retryAfterMs: 5000 });
    clock.advance(5000);
    await expect(breaker.run(async () => 'probe ok')).resolves.toBe('probe ok');
    expect(breaker.state).toBe('closed');
  });

  it('refuses a second concurrent half-open call while the probe is in flight', async () => {
    const { clock, breaker } = setup();
    breaker.trip();
    clock.advance(5000);
    let finish!: () => void;
    const probe = breaker.run(() => new Promise<void>((r) => (finish = r)));
    await expect(breaker.run(() => 1)).rejects.toThrow('circuit half-open: call refused, probe in flight');
    finish();
    await probe;
    expect(breaker.state).toBe('closed');
  });

  it('ignores the result of a call admitted before the state changed', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    let finishSlow!: () => void;
    const slow = breaker.run(() => new Promise<void>((r) => (finishSlow = r)));
    breaker.trip('other failure');
    finishSlow();
    await slow;
    expect(breaker.state).toBe('open'); // the stale success did not close it
    breaker.reset();
    let failSlow!: (e: Error) => void;
    const slowFail = breaker.run(() => new Promise<void>((_r, j) => (failSlow = j)));
    breaker.trip();
    breaker.reset();
    failSlow(new Error('late'));
    await expect(slowFail).rejects.toThrow('late');
    expect(breaker.state).toBe('closed'); // the stale failure did not open it
  });

  it('errors that isFailure rejects count as answers, not failures', async () => {
    const { breaker } = setup({ failureThreshold: 1, isFailure: (e) => !(e instanceof RangeError) });
    await expect(breaker.run(() => Promise.reject(new RangeError('refused by peer')))).rejects.toThrow(RangeError);
    expect(breaker.state).toBe('closed');
    await expect(breaker.run(() => Promise.reject(new Error('timeout')))).rejects.toThrow('timeout');
    expect(breaker.state).toBe('open');
  });
});

describe('circuit breaker options and listeners', () => {
  it('has documented defaults and a monotonic default clock', () => {
    const b = createCircuitBreaker();
    for (let i = 0; i < 4; i++) b.recordFailure();
    expect(b.state).toBe('closed');
    b.recordFailure();
    expect(b.state).toBe('open');
    expect(b.snapshot().retryAfterMs).toBeGreaterThan(29_000);
  });

  it('refuses bad options naming field, value and expectation', () => {
    expect(() => createCircuitBreaker({ failureThreshold: 0 })).toThrow('failureThreshold 0 is not an integer in 1..10000');
    expect(() => createCircuitBreaker({ windowMs: 1.5 })).toThrow('windowMs 1.5 is not an integer');
    expect(() => createCircuitBreaker({ openMs: -1 })).toThrow('openMs -1 is not an integer');
    expect(() => createCircuitBreaker({ halfOpenProbes: 0 })).toThrow('halfOpenProbes 0 is not an integer in 1..1000');
  });

  it('isolates throwing listeners; unsubscribe works', () => {
    const clock = manualClock();
    const errors: unknown[] = [];
    const b = createCircuitBreaker({ failureThreshold: 1 }, { now: clock.now, onListenerError: (e) => errors.push(e) });
    const off = b.onStateChange(() => {
      throw new Error('bug');
    });
    b.recordFailure();
    off();
    b.reset();
    expect(errors).toHaveLength(1);
    expect(b.state).toBe('closed');
    const quiet = createCircuitBreaker({ failureThreshold: 1 }, { now: clock.now });
    quiet.onStateChange(() => {
      throw new Error('x');
    });
    expect(() => quiet.recordFailure()).not.toThrow();
  });
});
