/**
 * The per-link batching behind the DBus sources: one run at a time per key over everything that
 * arrived meanwhile, keys side by side, order kept, a bound on waiting items, failures reported
 * without stopping the queue. And the connection's answer to an address it cannot use.
 */
import { describe, expect, it } from 'vitest';
import { createEventBus } from '@edgebox/events';
import { createBatchQueue } from '../src/sources/dbus.js';
import { createNetworkdSource } from '../src/sources/networkd.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('createBatchQueue', () => {
  it('batches what arrives while a run is in progress, per key, in order', async () => {
    const runs: Array<[string, number[]]> = [];
    const gate = deferred();
    const q = createBatchQueue<string, number>({
      run: async (key, items) => {
        runs.push([key, items]);
        if (runs.length === 1) await gate.promise;
      },
      onError: () => undefined,
    });
    q.push('a', 1); // starts a run for a (held at the gate)
    await Promise.resolve();
    q.push('a', 2);
    q.push('b', 10);
    q.push('a', 3);
    await new Promise((r) => setTimeout(r, 10));
    gate.resolve();
    await q.idle();
    expect(runs).toEqual([
      ['a', [1]],
      ['b', [10]],
      ['a', [2, 3]],
    ]);
    expect(q.dropped).toBe(0);
  });

  it('drops the oldest waiting items over maxPending and counts them', async () => {
    const runs: number[][] = [];
    const gate = deferred();
    const q = createBatchQueue<string, number>({
      maxPending: 3,
      run: async (_key, items) => {
        runs.push(items);
        if (runs.length === 1) await gate.promise;
      },
      onError: () => undefined,
    });
    q.push('a', 0);
    await Promise.resolve();
    for (let i = 1; i <= 6; i++) q.push('a', i);
    gate.resolve();
    await q.idle();
    expect(runs).toEqual([[0], [4, 5, 6]]);
    expect(q.dropped).toBe(3);
  });

  it('reports a failed run and goes on with the next batch', async () => {
    const errors: string[] = [];
    const done: number[][] = [];
    const q = createBatchQueue<string, number>({
      run: async (_key, items) => {
        if (items.includes(1)) throw new Error('boom');
        done.push(items);
      },
      onError: (err, key) => errors.push(`${key}: ${(err as Error).message}`),
    });
    q.push('a', 1);
    await q.idle();
    q.push('a', 2);
    await q.idle();
    expect(errors).toEqual(['a: boom']);
    expect(done).toEqual([[2]]);
  });
});

describe('bus addresses the connection cannot use', () => {
  it('an address of an unknown transport: start() resolves, health says why, stop() is clean', async () => {
    const source = createNetworkdSource({ bus: createEventBus(), busAddress: 'carrier-pigeon:coop=1', reconnectInitialMs: 1000 });
    await source.start();
    expect(source.health().ok).toBe(false);
    expect(source.health().detail).toMatch(/^networkd: not connected to carrier-pigeon:coop=1 .*cannot connect/);
    expect(source.stats()).toMatchObject({ connected: false, connects: 0, disconnects: 1 });
    await source.stop();
  });
});
