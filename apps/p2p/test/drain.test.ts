// waitForDrain: resolves on `drain` or `idle`, at once when no drain is needed, and rejects
// when the stream closes (P2P_NOT_CONNECTED) or the signal aborts; listeners are removed.
import { describe, expect, it } from 'vitest';
import { waitForDrain, type DrainableStream } from '../src/drain.js';
import { isP2pError } from '../src/errors.js';

function fakeStream(needsDrain: boolean): DrainableStream & EventTarget & { listeners(): number } {
  const target = new EventTarget();
  let count = 0;
  return Object.assign(target, {
    writableNeedsDrain: needsDrain,
    writeStatus: 'writable' as const,
    protocol: '/edgebox/p2p/stream/chat/1',
    addEventListener: (type: string, fn: (e: Event) => void) => {
      count++;
      EventTarget.prototype.addEventListener.call(target, type, fn);
    },
    removeEventListener: (type: string, fn: (e: Event) => void) => {
      count--;
      EventTarget.prototype.removeEventListener.call(target, type, fn);
    },
    listeners: () => count,
  }) as unknown as DrainableStream & EventTarget & { listeners(): number };
}

describe('waitForDrain', () => {
  it('resolves at once when the stream does not need draining', async () => {
    const s = fakeStream(false);
    await waitForDrain(s);
    expect(s.listeners()).toBe(0);
  });

  it.each(['drain', 'idle'])('resolves on %s, each call waiting for its own event', async (event) => {
    const s = fakeStream(true);
    for (let i = 0; i < 3; i++) {
      let settled = false;
      const p = waitForDrain(s).then(() => (settled = true));
      await Promise.resolve();
      expect(settled).toBe(false);
      EventTarget.prototype.dispatchEvent.call(s, new Event(event));
      await p;
      expect(s.listeners()).toBe(0);
    }
  });

  it('rejects with P2P_NOT_CONNECTED when the stream closes, and with the reason on abort', async () => {
    const s = fakeStream(true);
    const closed = waitForDrain(s);
    EventTarget.prototype.dispatchEvent.call(s, new Event('close'));
    await expect(closed).rejects.toSatisfy((e: unknown) => isP2pError(e, 'P2P_NOT_CONNECTED'));
    const ac = new AbortController();
    const aborted = waitForDrain(s, ac.signal);
    ac.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    expect(s.listeners()).toBe(0);
    await expect(waitForDrain(s, AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });
});
