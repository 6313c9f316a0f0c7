import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { canTransition, createLifecycle, LIFECYCLE_STATES, LIFECYCLE_TRANSITIONS } from '../src/index.js';
import type { LifecycleHooks, LifecycleState } from '../src/index.js';

const Schema = z.object({ n: z.int().min(1) });
type Config = z.infer<typeof Schema>;

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function make(over: Partial<LifecycleHooks<Config>> = {}) {
  const calls: string[] = [];
  const life = createLifecycle<Config>({
    name: 'svc',
    schema: Schema,
    start: (c) => {
      calls.push(`start:${c.n}`);
    },
    reload: (next, cur) => {
      calls.push(`reload:${cur.n}->${next.n}`);
    },
    stop: () => {
      calls.push('stop');
    },
    ...over,
  });
  const states: string[] = [];
  life.events.on('state', ({ from, to }) => states.push(`${from}->${to}`));
  return { life, calls, states };
}

describe('lifecycle transitions table', () => {
  it('allows exactly the documented moves', () => {
    const legal = new Set(Object.entries(LIFECYCLE_TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}->${to}`)));
    expect([...legal].sort()).toEqual(
      [
        'idle->starting',
        'starting->running',
        'starting->failed',
        'running->reloading',
        'running->stopping',
        'running->failed',
        'reloading->running',
        'reloading->failed',
        'stopping->stopped',
        'stopping->failed',
        'stopped->starting',
        'failed->starting',
        'failed->stopping',
      ].sort(),
    );
    for (const from of LIFECYCLE_STATES) for (const to of LIFECYCLE_STATES) expect(canTransition(from, to)).toBe(legal.has(`${from}->${to}`));
  });
});

describe('createLifecycle', () => {
  it('walks idle -> starting -> running -> reloading -> running -> stopping -> stopped', async () => {
    const { life, calls, states } = make();
    expect(life.state).toBe('idle');
    await life.start({ n: 1 });
    expect(life.config).toEqual({ n: 1 });
    expect(await life.reload({ n: 2 })).toEqual({ applied: true });
    await life.stop();
    expect(life.state).toBe('stopped');
    expect(calls).toEqual(['start:1', 'reload:1->2', 'stop']);
    expect(states).toEqual(['idle->starting', 'starting->running', 'running->reloading', 'reloading->running', 'running->stopping', 'stopping->stopped']);
    expect(life.config).toEqual({ n: 2 });
    const snap = life.snapshot();
    expect(snap).toMatchObject({ name: 'svc', state: 'stopped', reloads: { applied: 1, refused: 0 }, lastError: null });
    expect(Date.parse(snap.startedAt!)).not.toBeNaN();
    expect(Date.parse(snap.stoppedAt!)).not.toBeNaN();
  });

  it('validates the start config first and stays idle when it is invalid', async () => {
    const { life, calls, states } = make();
    await expect(life.start({ n: 0 })).rejects.toMatchObject({ code: 'RUNTIME_CONFIG_INVALID', message: 'svc config is invalid: n: 0 is not valid: expected integer >= 1' });
    expect(life.state).toBe('idle');
    expect(calls).toEqual([]);
    expect(states).toEqual([]);
  });

  it('start is idempotent and concurrent starts share one promise', async () => {
    const gate = deferred();
    const start = vi.fn(() => gate.promise);
    const { life } = make({ start });
    const a = life.start({ n: 1 });
    const b = life.start({ n: 1 });
    expect(a).toBe(b);
    gate.resolve();
    await Promise.all([a, b]);
    await life.start({ n: 5 });
    expect(start).toHaveBeenCalledTimes(1);
    expect(life.config).toEqual({ n: 1 });
  });

  it('stop is idempotent, concurrent stops share one promise, stop before start is a no-op', async () => {
    const stop = vi.fn();
    const { life, states } = make({ stop });
    await life.stop();
    expect(life.state).toBe('idle');
    await life.start({ n: 1 });
    const a = life.stop();
    const b = life.stop();
    expect(a).toBe(b);
    await Promise.all([a, b]);
    await life.stop();
    expect(stop).toHaveBeenCalledTimes(1);
    expect(states.at(-1)).toBe('stopping->stopped');
  });

  it('a failing start hook moves to failed, records the error, and allows a retry or a cleanup stop', async () => {
    let fail = true;
    const stop = vi.fn();
    const { life, states } = make({
      start: () => {
        if (fail) throw Object.assign(new Error('bind EADDRINUSE'), { code: 'EADDRINUSE' });
      },
      stop,
    });
    await expect(life.start({ n: 1 })).rejects.toThrow('bind EADDRINUSE');
    expect(life.state).toBe('failed');
    expect(life.snapshot().lastError).toEqual({ code: 'EADDRINUSE', message: 'bind EADDRINUSE' });
    expect(life.config).toBeUndefined();
    await life.stop();
    expect(stop).toHaveBeenCalledOnce();
    expect(life.state).toBe('stopped');
    fail = false;
    await life.start({ n: 2 });
    expect(life.state).toBe('running');
    expect(life.snapshot().lastError).toBeNull();
    expect(states).toContain('starting->failed');
    expect(states).toContain('failed->stopping');
  });

  it('start after stop works when restartable and is RUNTIME_STATE when not', async () => {
    const { life } = make();
    await life.start({ n: 1 });
    await life.stop();
    await life.start({ n: 2 });
    expect(life.config).toEqual({ n: 2 });
    const once = make({ restartable: false }).life;
    await once.start({ n: 1 });
    await once.stop();
    await expect(once.start({ n: 1 })).rejects.toMatchObject({ code: 'RUNTIME_STATE', message: 'cannot start svc while stopped: it cannot be restarted' });
  });

  it('start while stopping is RUNTIME_STATE', async () => {
    const gate = deferred();
    const { life } = make({ stop: () => gate.promise });
    await life.start({ n: 1 });
    const stopping = life.stop();
    await expect(life.start({ n: 1 })).rejects.toMatchObject({ code: 'RUNTIME_STATE', details: { action: 'start', state: 'stopping' } });
    gate.resolve();
    await stopping;
  });

  it('a refused reload (invalid config) keeps the running config and says why', async () => {
    const { life, calls } = make();
    await life.start({ n: 1 });
    const result = await life.reload({ n: -5 });
    expect(result).toEqual({
      applied: false,
      error: {
        code: 'RUNTIME_CONFIG_INVALID',
        message: 'svc config is invalid: n: -5 is not valid: expected integer >= 1',
        details: { issues: [{ path: 'n', value: -5, expected: 'integer >= 1', message: 'n: -5 is not valid: expected integer >= 1' }] },
      },
    });
    expect(life.config).toEqual({ n: 1 });
    expect(life.state).toBe('running');
    expect(calls).toEqual(['start:1']);
  });

  it('a reload hook that throws is refused with its error; the old config keeps running', async () => {
    const events: unknown[] = [];
    const { life } = make({
      reload: () => {
        throw Object.assign(new Error('port in use'), { code: 'TUNNEL_BIND' });
      },
    });
    life.events.on('reload', (r) => events.push(r));
    await life.start({ n: 1 });
    expect(await life.reload({ n: 2 })).toEqual({ applied: false, error: { code: 'TUNNEL_BIND', message: 'port in use' } });
    expect(life.config).toEqual({ n: 1 });
    expect(life.state).toBe('running');
    expect(life.snapshot().reloads).toEqual({ applied: 0, refused: 1 });
    expect(events).toHaveLength(1);
  });

  it('reload outside running is refused with RUNTIME_STATE', async () => {
    const { life } = make();
    expect(await life.reload({ n: 1 })).toMatchObject({ applied: false, error: { code: 'RUNTIME_STATE', message: 'cannot reload svc while idle' } });
    await life.start({ n: 1 });
    await life.stop();
    expect((await life.reload({ n: 1 })).error?.code).toBe('RUNTIME_STATE');
  });

  it('reloads are serialised in call order', async () => {
    const order: string[] = [];
    const gates = [deferred(), deferred()];
    let i = 0;
    const { life } = make({
      reload: async (next) => {
        order.push(`begin ${next.n}`);
        await gates[i++]?.promise;
        order.push(`end ${next.n}`);
      },
    });
    await life.start({ n: 1 });
    const r2 = life.reload({ n: 2 });
    const r3 = life.reload({ n: 3 });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['begin 2']);
    gates[0]!.resolve();
    gates[1]!.resolve();
    expect(await r2).toEqual({ applied: true });
    expect(await r3).toEqual({ applied: true });
    expect(order).toEqual(['begin 2', 'end 2', 'begin 3', 'end 3']);
    expect(life.config).toEqual({ n: 3 });
  });

  it('stop during a reload waits for the reload, then stops', async () => {
    const gate = deferred();
    const { life, states } = make({ reload: () => gate.promise });
    await life.start({ n: 1 });
    const reloading = life.reload({ n: 2 });
    await new Promise((r) => setTimeout(r, 5));
    expect(life.state).toBe('reloading');
    const stopping = life.stop();
    gate.resolve();
    await stopping;
    expect(await reloading).toEqual({ applied: true });
    expect(states.slice(-3)).toEqual(['reloading->running', 'running->stopping', 'stopping->stopped']);
  });

  it('stop during start aborts the start signal and stops once start settles', async () => {
    let seen: AbortSignal | undefined;
    const stop = vi.fn();
    const { life, states } = make({
      start: (_c, { signal }) =>
        new Promise<void>((resolve, reject) => {
          seen = signal;
          signal.addEventListener('abort', () => reject(new Error('cancelled')));
          setTimeout(resolve, 5000);
        }),
      stop,
    });
    const starting = life.start({ n: 1 });
    await new Promise((r) => setTimeout(r, 5));
    await life.stop({ deadlineMs: 1000 });
    await expect(starting).rejects.toMatchObject({ code: 'RUNTIME_START_ABORTED' });
    expect(seen?.aborted).toBe(true);
    expect(stop).toHaveBeenCalledOnce();
    expect(life.state).toBe('stopped');
    expect(states).toEqual(['idle->starting', 'starting->failed', 'failed->stopping', 'stopping->stopped']);
  });

  it('stop during start validation leaves it idle and never starts', async () => {
    const start = vi.fn();
    const Slow = z.object({ n: z.int() }).refine(async () => {
      await new Promise((r) => setTimeout(r, 20));
      return true;
    });
    const life = createLifecycle({ name: 'svc', schema: Slow, start, reload: () => undefined, stop: () => undefined });
    const starting = life.start({ n: 1 });
    await life.stop();
    await expect(starting).rejects.toMatchObject({ code: 'RUNTIME_START_ABORTED' });
    expect(start).not.toHaveBeenCalled();
    expect(life.state).toBe('idle');
  });

  it('an external abort signal aborts the start', async () => {
    const ac = new AbortController();
    const { life } = make({
      start: (_c, { signal }) =>
        new Promise<void>((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    });
    const starting = life.start({ n: 1 }, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 5));
    ac.abort(new Error('operator gave up'));
    await expect(starting).rejects.toMatchObject({ code: 'RUNTIME_START_ABORTED', message: 'svc: start aborted (operator gave up)' });
    expect(life.state).toBe('failed');
    await expect(make().life.start({ n: 1 }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'RUNTIME_START_ABORTED' });
  });

  it('enforces the stop deadline through the AbortSignal: RUNTIME_STOP_TIMEOUT and failed', async () => {
    let aborted: unknown;
    const { life } = make({
      stop: ({ signal }) =>
        new Promise<void>(() => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
          });
        }),
    });
    await life.start({ n: 1 });
    const t0 = performance.now();
    await expect(life.stop({ deadlineMs: 50 })).rejects.toMatchObject({ code: 'RUNTIME_STOP_TIMEOUT', message: 'svc did not stop within 50 ms' });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(aborted).toMatchObject({ code: 'RUNTIME_STOP_TIMEOUT' });
    expect(life.state).toBe('failed');
  });

  it('the deadline also bounds waiting for a start that ignores its signal', async () => {
    const { life } = make({ start: () => new Promise<void>(() => undefined) });
    void life.start({ n: 1 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 5));
    await expect(life.stop({ deadlineMs: 30 })).rejects.toMatchObject({ code: 'RUNTIME_STOP_TIMEOUT' });
    expect(life.state).toBe('failed');
  });

  it('a throwing stop hook moves to failed and rejects; a later stop can retry', async () => {
    let n = 0;
    const { life } = make({
      stop: () => {
        if (n++ === 0) throw new Error('drain failed');
      },
    });
    await life.start({ n: 1 });
    await expect(life.stop()).rejects.toThrow('drain failed');
    expect(life.state).toBe('failed');
    await life.stop();
    expect(life.state).toBe('stopped');
  });

  it('fail() reports a fault while running only', async () => {
    const { life, states } = make();
    expect(life.fail(new Error('x'))).toBe(false);
    await life.start({ n: 1 });
    expect(life.fail(new Error('tun device vanished'))).toBe(true);
    expect(life.state).toBe('failed');
    expect(life.snapshot().lastError).toEqual({ code: 'RUNTIME_INTERNAL', message: 'tun device vanished' });
    expect(states.at(-1)).toBe('running->failed');
  });

  it('fail() during a reload wins over the reload result', async () => {
    const holder: { life?: ReturnType<typeof make>['life'] } = {};
    const { life } = make({
      reload: () => {
        holder.life?.fail(new Error('died mid-reload'));
      },
    });
    holder.life = life;
    await life.start({ n: 1 });
    const r = await life.reload({ n: 2 });
    expect(r).toMatchObject({ applied: false, error: { code: 'RUNTIME_STATE' } });
    expect(life.state).toBe('failed');
    expect(life.config).toEqual({ n: 1 });
    const throwing = make({
      reload: () => {
        holder.life?.fail(new Error('died'));
        throw new Error('and threw');
      },
    });
    holder.life = throwing.life;
    await throwing.life.start({ n: 1 });
    expect((await throwing.life.reload({ n: 2 })).error?.message).toBe('and threw');
    expect(throwing.life.state).toBe('failed');
  });

  it('refuses bad deadlines', async () => {
    expect(() => make({ stopDeadlineMs: 0 })).toThrow(/stop deadline 0 is not valid/);
    const { life } = make();
    await life.start({ n: 1 });
    await expect(life.stop({ deadlineMs: -1 })).rejects.toMatchObject({ code: 'RUNTIME_INVALID_ARGUMENT' });
    expect(life.state as LifecycleState).toBe('running');
  });
});
