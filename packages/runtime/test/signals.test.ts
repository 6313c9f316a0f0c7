// handleSignals driven in-process through an EventEmitter standing in for `process`.
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { handleSignals } from '../src/index.js';
import type { HandleSignalsInit, SignalLogger } from '../src/index.js';

function setup(over: Partial<HandleSignalsInit> = {}) {
  const target = new EventEmitter();
  const exits: number[] = [];
  const logs: string[] = [];
  const logger: SignalLogger = {
    info: (_o, m) => logs.push(`info ${m}`),
    warn: (_o, m) => logs.push(`warn ${m}`),
    error: (_o, m) => logs.push(`error ${m}`),
  };
  let exited: (code: number) => void = () => undefined;
  const exitPromise = new Promise<number>((r) => (exited = r));
  const handle = handleSignals({
    onStop: () => undefined,
    exit: (code) => {
      exits.push(code);
      exited(code);
    },
    logger,
    target,
    ...over,
  });
  const send = (sig: 'SIGTERM' | 'SIGINT' | 'SIGHUP'): void => {
    target.emit(sig, sig);
  };
  return { target, exits, logs, handle, send, exitPromise };
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('handleSignals (in-process)', () => {
  it('SIGTERM runs onStop with the reason, deadline and signal, then exits 0 once', async () => {
    const onStop = vi.fn();
    const { send, exitPromise, exits, handle, logs } = setup({ onStop, deadlineMs: 1234 });
    send('SIGTERM');
    expect(handle.stopping).toBe(true);
    expect(await exitPromise).toBe(0);
    expect(onStop).toHaveBeenCalledWith(expect.objectContaining({ reason: 'SIGTERM', deadlineMs: 1234, signal: expect.any(AbortSignal) }));
    send('SIGTERM');
    await tick();
    expect(exits).toEqual([0]);
    expect(logs).toContain('info already stopping; signal ignored');
  });

  it('a rejected stop exits 1', async () => {
    const { send, exitPromise, logs } = setup({ onStop: () => Promise.reject(new Error('nope')) });
    send('SIGINT');
    expect(await exitPromise).toBe(1);
    expect(logs).toContain('error stop failed');
  });

  it('the deadline exits 1 and aborts the stop signal with RUNTIME_STOP_TIMEOUT', async () => {
    let reason: unknown;
    const { send, exitPromise, exits } = setup({
      deadlineMs: 20,
      onStop: ({ signal }) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            reason = signal.reason;
            setTimeout(resolve, 5);
          });
        }),
    });
    send('SIGTERM');
    expect(await exitPromise).toBe(1);
    expect(reason).toMatchObject({ code: 'RUNTIME_STOP_TIMEOUT' });
    await tick(20);
    expect(exits).toEqual([1]);
  });

  it('a second SIGINT forces exit 1', async () => {
    const { send, exitPromise, logs } = setup({ onStop: () => new Promise<void>(() => undefined), deadlineMs: 60_000 });
    send('SIGINT');
    send('SIGINT');
    expect(await exitPromise).toBe(1);
    expect(logs).toContain('warn second SIGINT: exiting now without waiting for the stop');
  });

  it('SIGHUP reloads serially, queueing one reload during a reload, and logs a failing reload', async () => {
    let running = 0;
    let calls = 0;
    const { send, handle, logs } = setup({
      onReload: async () => {
        calls++;
        running++;
        expect(running).toBe(1);
        await tick(10);
        running--;
        if (calls === 1) throw new Error('bad file');
      },
    });
    send('SIGHUP');
    expect(handle.reloading).toBe(true);
    send('SIGHUP');
    send('SIGHUP');
    await vi.waitUntil(() => !handle.reloading, { timeout: 1000 });
    expect(calls).toBe(2);
    expect(logs).toContain('error reload failed');
    send('SIGHUP');
    await vi.waitUntil(() => calls === 3 && !handle.reloading, { timeout: 1000 });
  });

  it('SIGHUP while stopping is ignored and a queued reload is dropped once stopping', async () => {
    let calls = 0;
    const { send, logs, handle } = setup({
      onStop: () => new Promise<void>(() => undefined),
      deadlineMs: 60_000,
      onReload: async () => {
        calls++;
        await tick(10);
      },
    });
    send('SIGHUP');
    send('SIGHUP');
    send('SIGTERM');
    send('SIGHUP');
    await vi.waitUntil(() => !handle.reloading, { timeout: 1000 });
    expect(calls).toBe(1);
    expect(logs).toContain('info stopping; reload ignored');
    handle.dispose();
  });

  it('without onReload a SIGHUP is harmless', async () => {
    const { send, handle } = setup();
    send('SIGHUP');
    await vi.waitUntil(() => !handle.reloading, { timeout: 1000 });
  });

  it('dispose removes exactly its listeners and is idempotent', () => {
    const { target, handle } = setup();
    expect(target.listenerCount('SIGTERM')).toBe(1);
    expect(target.listenerCount('SIGINT')).toBe(1);
    expect(target.listenerCount('SIGHUP')).toBe(1);
    handle.dispose();
    handle.dispose();
    expect(target.eventNames()).toEqual([]);
  });

  it('installs on process by default and dispose restores it', () => {
    const before = process.listenerCount('SIGHUP');
    const handle = handleSignals({ onStop: () => undefined, exit: () => undefined });
    expect(process.listenerCount('SIGHUP')).toBe(before + 1);
    handle.dispose();
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });

  it('refuses a bad deadline', () => {
    expect(() => handleSignals({ onStop: () => undefined, deadlineMs: 0, target: new EventEmitter() })).toThrowError(expect.objectContaining({ code: 'RUNTIME_INVALID_ARGUMENT' }));
  });
});
