import { describe, expect, it, vi } from 'vitest';
import { createTypedEmitter } from '../src/index.js';

interface Events {
  tick: { n: number };
  stopped: undefined;
}

describe('typed emitter', () => {
  it('delivers payloads to listeners in order and returns how many were called', () => {
    const e = createTypedEmitter<Events>();
    const seen: string[] = [];
    e.on('tick', ({ n }) => seen.push(`a${n}`));
    e.on('tick', ({ n }) => seen.push(`b${n}`));
    expect(e.emit('tick', { n: 1 })).toBe(2);
    expect(e.emit('stopped')).toBe(0);
    expect(seen).toEqual(['a1', 'b1']);
  });

  it('once listeners fire a single time; off and the returned disposer remove listeners', () => {
    const e = createTypedEmitter<Events>();
    const once = vi.fn();
    const on = vi.fn();
    e.once('stopped', once);
    const dispose = e.on('stopped', on);
    e.emit('stopped');
    e.emit('stopped');
    expect(once).toHaveBeenCalledTimes(1);
    expect(on).toHaveBeenCalledTimes(2);
    dispose();
    dispose();
    e.emit('stopped');
    expect(on).toHaveBeenCalledTimes(2);
    const l = vi.fn();
    e.on('tick', l);
    expect(e.off('tick', l)).toBe(true);
    expect(e.off('tick', l)).toBe(false);
    expect(e.off('stopped', l)).toBe(false);
    expect(e.listenerCount()).toBe(0);
  });

  it('isolates a throwing or rejecting listener: counted, reported, never thrown into emit', async () => {
    const errors: Array<[unknown, string]> = [];
    const e = createTypedEmitter<Events>({ onListenerError: (err, event) => errors.push([err, event]) });
    const after = vi.fn();
    e.on('tick', () => {
      throw new Error('listener bug');
    });
    e.on('tick', () => Promise.reject(new Error('async bug')));
    e.on('tick', after);
    expect(() => e.emit('tick', { n: 1 })).not.toThrow();
    expect(after).toHaveBeenCalledOnce();
    await new Promise((r) => setImmediate(r));
    expect(e.listenerErrors).toBe(2);
    expect(errors.map(([err, ev]) => `${ev}:${(err as Error).message}`)).toEqual(['tick:listener bug', 'tick:async bug']);
  });

  it('a throwing error hook does not break emit', () => {
    const e = createTypedEmitter<Events>({
      onListenerError: () => {
        throw new Error('hook bug');
      },
    });
    e.on('stopped', () => {
      throw new Error('x');
    });
    expect(() => e.emit('stopped')).not.toThrow();
    expect(e.listenerErrors).toBe(1);
  });

  it('bounds listeners per event with RUNTIME_LISTENER_LIMIT', () => {
    const e = createTypedEmitter<Events>({ maxListeners: 2 });
    e.on('tick', () => 1);
    e.on('tick', () => 2);
    expect(() => e.on('tick', () => 3)).toThrowError(expect.objectContaining({ code: 'RUNTIME_LISTENER_LIMIT', details: { event: 'tick', max: 2 } }));
    expect(() => e.once('tick', () => 3)).toThrow(/already has 2 listeners/);
    e.on('stopped', () => 1);
    expect(e.listenerCount('tick')).toBe(2);
    expect(e.listenerCount()).toBe(3);
    expect(e.maxListeners).toBe(2);
  });

  it('refuses a bad bound and non-function listeners', () => {
    expect(() => createTypedEmitter({ maxListeners: 0 })).toThrowError(expect.objectContaining({ code: 'RUNTIME_INVALID_ARGUMENT' }));
    const e = createTypedEmitter<Events>();
    expect(() => e.on('tick', 'nope' as unknown as () => void)).toThrowError(expect.objectContaining({ code: 'RUNTIME_INVALID_ARGUMENT' }));
  });

  it('listeners added or removed during an emit take effect from the next emit', () => {
    const e = createTypedEmitter<Events>();
    const late = vi.fn();
    const second = vi.fn();
    e.on('tick', () => {
      e.on('tick', late);
      e.off('tick', second);
    });
    e.on('tick', second);
    e.emit('tick', { n: 1 });
    expect(second).toHaveBeenCalledOnce();
    expect(late).not.toHaveBeenCalled();
    e.emit('tick', { n: 2 });
    expect(second).toHaveBeenCalledOnce();
    expect(late).toHaveBeenCalledOnce();
  });

  it('removeAllListeners clears one event or all', () => {
    const e = createTypedEmitter<Events>();
    e.on('tick', () => 1);
    e.on('stopped', () => 1);
    e.removeAllListeners('tick');
    expect(e.listenerCount('tick')).toBe(0);
    expect(e.listenerCount('stopped')).toBe(1);
    e.removeAllListeners();
    expect(e.listenerCount()).toBe(0);
  });
});
