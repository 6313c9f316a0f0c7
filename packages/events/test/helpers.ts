// Test helpers: valid events with overrides, and collecting an async iterator's entries.
import { createEvent, type EventInit, type EventV1 } from '../src/index.js';

let nextId = 1;

/** A valid event; every field can be overridden. Ids increase across calls. */
export function ev(init: Partial<EventInit> = {}): EventV1 {
  return createEvent({ id: nextId++, source: 'netevd', kind: 'link.state', time: '2026-11-24T12:00:00.000Z', ...init });
}

/** Take `n` entries from an async iterator (fails the test by timeout if they never come). */
export async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done === true) break;
    out.push(r.value);
  }
  return out;
}

/** Read an async iterator to its end. */
export async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

/** Let pending microtasks and I/O callbacks run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
