// Connection state machine: every legal transition allowed, every illegal one refused with a
// typed error and no state change, bounded history, listener ordering.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONNECTION_STATES,
  CONNECTION_TRANSITIONS,
  createConnectionStateMachine,
  isPeersError,
  type ConnectionState,
  type ConnectionTransition,
} from '../src/index.js';

const pairs = CONNECTION_STATES.flatMap((from) => CONNECTION_STATES.map((to) => [from, to] as const));
const legalPairs = pairs.filter(([from, to]) => CONNECTION_TRANSITIONS[from].includes(to));
const illegalPairs = pairs.filter(([from, to]) => !CONNECTION_TRANSITIONS[from].includes(to));

describe('connection state transitions', () => {
  it('the table is the documented one', () => {
    expect(CONNECTION_TRANSITIONS).toEqual({
      disconnected: ['connecting', 'connected'],
      connecting: ['connected', 'disconnected', 'reconnecting', 'cooldown'],
      connected: ['established', 'disconnected', 'reconnecting', 'cooldown'],
      established: ['disconnected', 'reconnecting', 'cooldown'],
      reconnecting: ['connecting', 'disconnected', 'cooldown'],
      cooldown: ['connecting', 'disconnected'],
    });
    expect(Object.isFrozen(CONNECTION_TRANSITIONS)).toBe(true);
    expect(Object.isFrozen(CONNECTION_TRANSITIONS.connected)).toBe(true);
  });

  it.each(legalPairs)('allows %s -> %s', (from, to) => {
    const m = createConnectionStateMachine({ initial: from });
    expect(m.can(to)).toBe(true);
    const t = m.transition(to, 'test');
    expect(t).toMatchObject({ from, to, reason: 'test' });
    expect(m.state).toBe(to);
  });

  it.each(illegalPairs)('refuses %s -> %s with PEERS_ILLEGAL_TRANSITION and keeps the state', (from, to) => {
    const m = createConnectionStateMachine({ initial: from });
    const seen: ConnectionTransition[] = [];
    m.onTransition((t) => seen.push(t));
    expect(m.can(to)).toBe(false);
    let caught: unknown;
    try {
      m.transition(to, 'bad idea');
    } catch (err) {
      caught = err;
    }
    expect(isPeersError(caught, 'PEERS_ILLEGAL_TRANSITION')).toBe(true);
    expect((caught as Error).message).toContain(`connection state ${from} -> ${to} is not allowed`);
    expect((caught as { details: unknown }).details).toMatchObject({ from, to, reason: 'bad idea' });
    expect(m.tryTransition(to, 'bad idea')).toBe(false);
    expect(m.state).toBe(from);
    expect(m.history()).toEqual([]);
    expect(m.transitions).toBe(0);
    expect(seen).toEqual([]);
  });

  it('never transitions a state to itself', () => {
    for (const s of CONNECTION_STATES) expect(CONNECTION_TRANSITIONS[s]).not.toContain(s);
  });

  it('every state is reachable from disconnected and can get back to it', () => {
    const reach = (from: ConnectionState): Set<ConnectionState> => {
      const seen = new Set<ConnectionState>([from]);
      const queue = [from];
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
        for (const n of CONNECTION_TRANSITIONS[s]) {
          if (seen.has(n)) continue;
          seen.add(n);
          queue.push(n);
        }
      }
      return seen;
    };
    expect([...reach('disconnected')].sort()).toEqual([...CONNECTION_STATES].sort());
    for (const s of CONNECTION_STATES) expect(reach(s).has('disconnected')).toBe(true);
  });

  it('property: any sequence of attempts leaves the machine in a state reachable by legal moves only', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...CONNECTION_STATES), { maxLength: 60 }), (targets) => {
        const m = createConnectionStateMachine({ historySize: 100 });
        let expected: ConnectionState = 'disconnected';
        for (const to of targets) {
          const ok = m.tryTransition(to, 'p');
          expect(ok).toBe(CONNECTION_TRANSITIONS[expected].includes(to));
          if (ok) expected = to;
          expect(m.state).toBe(expected);
        }
        for (const t of m.history()) expect(CONNECTION_TRANSITIONS[t.from]).toContain(t.to);
      }),
    );
  });
});

describe('connection state history and listeners', () => {
  it('keeps the last N transitions oldest first with reasons and timestamps', () => {
    let clock = 1000;
    const m = createConnectionStateMachine({ historySize: 3 }, { now: () => clock });
    expect(m.since).toBe(1000);
    const path: ConnectionState[] = ['connecting', 'connected', 'established', 'reconnecting', 'connecting'];
    for (const s of path) {
      clock += 10;
      m.transition(s, `to ${s}`);
    }
    expect(m.transitions).toBe(5);
    expect(m.since).toBe(1050);
    expect(m.history()).toEqual([
      { from: 'connected', to: 'established', reason: 'to established', at: 1030 },
      { from: 'established', to: 'reconnecting', reason: 'to reconnecting', at: 1040 },
      { from: 'reconnecting', to: 'connecting', reason: 'to connecting', at: 1050 },
    ]);
    // history() is a copy
    m.history()[0]!.reason = 'changed';
    expect(m.history()[0]!.reason).toBe('to established');
  });

  it('notifies listeners in order, also for transitions made from inside a listener', () => {
    const m = createConnectionStateMachine();
    const log: string[] = [];
    m.onTransition((t) => {
      log.push(`a:${t.from}->${t.to}`);
      if (t.to === 'connected') m.transition('established', 'auto handshake');
    });
    m.onTransition((t) => log.push(`b:${t.from}->${t.to}:${m.state}`));
    m.transition('connected', 'inbound');
    expect(log).toEqual(['a:disconnected->connected', 'b:disconnected->connected:established', 'a:connected->established', 'b:connected->established:established']);
  });

  it('isolates a throwing listener and lets others run; unsubscribe works', () => {
    const errors: unknown[] = [];
    const m = createConnectionStateMachine({}, { onListenerError: (e) => errors.push(e) });
    const seen: string[] = [];
    const off = m.onTransition(() => {
      throw new Error('bug');
    });
    m.onTransition((t) => seen.push(t.to));
    m.transition('connecting', 'dial');
    off();
    m.transition('disconnected', 'cancel');
    expect(seen).toEqual(['connecting', 'disconnected']);
    expect(errors).toHaveLength(1);
    const quiet = createConnectionStateMachine();
    quiet.onTransition(() => {
      throw new Error('x');
    });
    expect(() => quiet.transition('connecting', 'dial')).not.toThrow();
  });

  it('validates its arguments', () => {
    expect(() => createConnectionStateMachine({ initial: 'open' as ConnectionState })).toThrow(/initial "open" is not one of disconnected, connecting/);
    expect(() => createConnectionStateMachine({ historySize: 0 })).toThrow('historySize 0 is not an integer in 1..4096');
    const m = createConnectionStateMachine();
    expect(() => m.transition('bogus' as ConnectionState, 'x')).toThrow(/to "bogus" is not one of/);
    expect(() => m.transition('connecting', 'r'.repeat(300))).toThrow(/reason .* is not a string of at most 256/);
    expect(() => m.tryTransition('connecting', 5 as unknown as string)).toThrow(/reason 5/);
    expect(m.can('bogus' as ConnectionState)).toBe(false);
    expect(m.tryTransition('bogus' as ConnectionState, 'x')).toBe(false);
  });
});
