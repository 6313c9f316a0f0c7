import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLinkStateMachine, isUsableState, LINK_STATES, LINK_TRANSITIONS, type LinkHealth, type LinkState, type LinkTransition } from '../src/link-state.js';

type Input = 'good' | 'lossy' | 'slow' | 'dead' | 'heavy';
const TICK = 200;

/** Health after one tick: every input but 'dead' means a packet arrived during the tick. */
function health(input: Input, now: number, lastRx: number): LinkHealth {
  return {
    lastReceiveMs: input === 'dead' ? lastRx : now - 5,
    lossRatio: input === 'lossy' ? 0.1 : input === 'heavy' ? 0.9 : 0,
    srttMs: input === 'slow' ? 400 : 20,
    baselineRttMs: 20,
  };
}

function drive(inputs: Input[], init: Parameters<typeof createLinkStateMachine>[0] = {}) {
  // one tick (200 ms) without a packet is silence: downAfterMs 150
  const m = createLinkStateMachine({ nowMs: 0, downAfterMs: 150, ...init });
  const events: LinkTransition[] = [];
  m.onTransition((e) => events.push(e));
  const states: LinkState[] = [];
  let now = 0;
  let lastRx = -1;
  for (const i of inputs) {
    now += TICK;
    const h = health(i, now, lastRx);
    lastRx = h.lastReceiveMs;
    states.push(m.evaluate(h, now));
  }
  return { m, events, states, now };
}

describe('link state machine: transitions', () => {
  it('starts probing and comes up after upAfter good evaluations', () => {
    const { states, events } = drive(['good', 'good', 'good', 'good'], { upAfter: 3 });
    expect(states).toEqual(['probing', 'probing', 'up', 'up']);
    expect(events).toEqual([{ from: 'probing', to: 'up', reason: 'recovered', atMs: 600 }]);
  });

  it('goes down at once on silence and comes back through probing after a packet', () => {
    const { states, events } = drive(['dead', 'good', 'good', 'good', 'good'], { initialState: 'up', upAfter: 3 });
    expect(states).toEqual(['down', 'probing', 'probing', 'probing', 'up']);
    expect(events.map((e) => `${e.from}>${e.to}:${e.reason}`)).toEqual(['up>down:silence', 'down>probing:packet', 'probing>up:recovered']);
  });

  it('counts silence from creation when nothing was ever received', () => {
    const m = createLinkStateMachine({ downAfterMs: 600 });
    const never: LinkHealth = { lastReceiveMs: -1, lossRatio: 0, srttMs: 0, baselineRttMs: 0 };
    expect(m.evaluate(never, 1000)).toBe('probing'); // the first evaluation sets the clock
    expect(m.evaluate(never, 1599)).toBe('probing');
    expect(m.evaluate(never, 1600)).toBe('down');
    expect(m.evaluate({ ...never, lastReceiveMs: Number.NaN }, 5000)).toBe('down');
  });

  it('degrades on loss or RTT and recovers only after upAfter good evaluations in a row', () => {
    const { states, events } = drive(['lossy', 'good', 'good', 'slow', 'good', 'good', 'good'], { initialState: 'up', upAfter: 3 });
    expect(states).toEqual(['degraded', 'degraded', 'degraded', 'degraded', 'degraded', 'degraded', 'up']);
    expect(events.map((e) => e.reason)).toEqual(['loss', 'recovered']);
    const rtt = drive(['slow'], { initialState: 'up' });
    expect(rtt.events[0]).toMatchObject({ to: 'degraded', reason: 'rtt' });
  });

  it('waits degradeAfter bad evaluations before degrading', () => {
    const { states } = drive(['lossy', 'good', 'lossy', 'lossy'], { initialState: 'up', degradeAfter: 2 });
    expect(states).toEqual(['up', 'up', 'up', 'degraded']);
  });

  it('goes down on heavy loss and stays down until the loss falls', () => {
    const { states, events } = drive(['heavy', 'heavy', 'lossy', 'lossy', 'lossy', 'lossy'], { initialState: 'up', upAfter: 3 });
    expect(states).toEqual(['down', 'down', 'probing', 'probing', 'probing', 'degraded']);
    expect(events.map((e) => e.reason)).toEqual(['loss', 'packet', 'loss']);
  });

  it('brings a probing link whose run was not all good up as degraded', () => {
    const { states } = drive(['lossy', 'good', 'good'], { upAfter: 3 });
    expect(states).toEqual(['probing', 'probing', 'degraded']);
  });

  it('ignores health while disabled and probes again after enable', () => {
    const m = createLinkStateMachine({ initialState: 'up', nowMs: 0 });
    m.disable(100);
    expect(m.state).toBe('disabled');
    expect(m.evaluate(health('good', 200, -1), 200)).toBe('disabled');
    m.disable(250); // already disabled: no-op
    m.enable(300);
    expect(m.state).toBe('probing');
    m.enable(350); // not disabled: no-op
    // the silence before enable does not count
    expect(m.evaluate({ lastReceiveMs: 0, lossRatio: 0, srttMs: 0, baselineRttMs: 0 }, 800)).toBe('probing');
    expect(m.evaluate({ lastReceiveMs: 0, lossRatio: 0, srttMs: 0, baselineRttMs: 0 }, 900)).toBe('down');
    expect(m.transitions).toBe(3);
  });

  it('enforces the legal transitions with LINKS_STATE', () => {
    for (const from of LINK_STATES) {
      for (const to of LINK_STATES) {
        if (from === to) continue;
        const m = createLinkStateMachine({ initialState: 'probing', nowMs: 0 });
        // reach `from` through legal moves
        const path: Record<LinkState, LinkState[]> = { probing: [], up: ['up'], degraded: ['degraded'], down: ['down'], disabled: ['disabled'] };
        for (const step of path[from]) m.transition(step, 'manual', 1);
        expect(m.state).toBe(from);
        if (LINK_TRANSITIONS[from].includes(to)) {
          expect(m.transition(to)).toBe(true);
          expect(m.state).toBe(to);
        } else {
          expect(() => m.transition(to)).toThrow(expect.objectContaining({ code: 'LINKS_STATE', details: { from, to, reason: 'manual' } }));
          expect(m.state).toBe(from);
        }
      }
    }
    const m = createLinkStateMachine();
    expect(m.transition('probing')).toBe(false);
    expect(() => m.transition('bogus' as LinkState)).toThrow(/probing -> bogus/);
  });

  it('counts silence from the next evaluation after a transition without a time', () => {
    const m = createLinkStateMachine({ initialState: 'up', nowMs: 0 });
    m.transition('down', 'manual');
    expect(Number.isNaN(m.sinceMs)).toBe(true);
    expect(m.evaluate({ lastReceiveMs: 50, lossRatio: 0, srttMs: 0, baselineRttMs: 0 }, 1000)).toBe('down');
    expect(m.sinceMs).toBe(1000);
    expect(m.evaluate({ lastReceiveMs: 1100, lossRatio: 0, srttMs: 0, baselineRttMs: 0 }, 1200)).toBe('probing');
  });

  it('removes a listener and exposes the streaks', () => {
    const m = createLinkStateMachine({ nowMs: 0, upAfter: 5 });
    const seen: string[] = [];
    const off = m.onTransition((e) => seen.push(e.to));
    m.evaluate(health('good', 100, -1), 100);
    m.evaluate(health('lossy', 200, 95), 200);
    expect([m.aliveStreak, m.goodStreak, m.badStreak]).toEqual([2, 0, 1]);
    off();
    m.transition('down', 'manual', 300);
    expect(seen).toEqual([]);
    expect(isUsableState('up') && isUsableState('degraded')).toBe(true);
    expect(isUsableState('probing') || isUsableState('down') || isUsableState('disabled')).toBe(false);
  });

  it('refuses bad init', () => {
    expect(() => createLinkStateMachine({ initialState: 'down' as 'up' })).toThrow(/initialState "down"/);
    expect(() => createLinkStateMachine({ upAfter: 0 })).toThrow(/upAfter 0/);
    expect(() => createLinkStateMachine({ downAfterMs: 0 })).toThrow(/downAfterMs 0/);
    expect(() => createLinkStateMachine({ degradedLossRatio: 1.5 })).toThrow(/degradedLossRatio 1.5/);
    expect(() => createLinkStateMachine({ degradedLossRatio: 0.6, downLossRatio: 0.5 })).toThrow(/downLossRatio 0.5/);
    expect(() => createLinkStateMachine({ rttDegradedFactor: 0.5 })).toThrow(/rttDegradedFactor/);
    expect(() => createLinkStateMachine({ nowMs: Number.NaN })).toThrow(/nowMs NaN/);
  });
});

describe('link state machine: hysteresis (fast-check)', () => {
  const inputs = fc.array(fc.constantFrom<Input>('good', 'lossy', 'slow', 'dead', 'heavy'), { maxLength: 200 });
  const upAfter = fc.integer({ min: 1, max: 6 });

  it('enters up only after upAfter good evaluations in a row, and leaves usable only on silence or heavy loss', () => {
    fc.assert(
      fc.property(inputs, upAfter, fc.constantFrom<'probing' | 'up'>('probing', 'up'), (ins, n, initialState) => {
        const { events } = drive(ins, { upAfter: n, initialState });
        for (const e of events) {
          const k = e.atMs / TICK - 1; // index of the input that caused it
          if (e.to === 'up') {
            expect(k + 1).toBeGreaterThanOrEqual(n);
            for (let j = k - n + 1; j <= k; j++) expect(ins[j]).toBe('good');
          }
          if (isUsableState(e.from) && !isUsableState(e.to)) expect(['dead', 'heavy']).toContain(ins[k]);
          if (e.to === 'down') expect(['dead', 'heavy']).toContain(ins[k]);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('does not flap: quality flapping degrades once and stays degraded', () => {
    fc.assert(
      fc.property(upAfter.filter((n) => n >= 2), fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 40 }), (n, badRuns) => {
        // runs of bad input separated by runs of good input shorter than upAfter
        const ins: Input[] = [];
        for (const r of badRuns) {
          for (let i = 0; i < r; i++) ins.push(r % 2 === 0 ? 'lossy' : 'slow');
          for (let i = 0; i < (r % (n - 1)) + 1 && i < n - 1; i++) ins.push('good');
        }
        const { events } = drive(ins, { upAfter: n, initialState: 'up' });
        expect(events.map((e) => e.to)).toEqual(['degraded']);
      }),
    );
  });

  it('does not flap: silence flapping never makes the link usable again', () => {
    fc.assert(
      fc.property(upAfter.filter((n) => n >= 2), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 40 }), (n, runs) => {
        const ins: Input[] = [];
        for (const r of runs) {
          ins.push('dead');
          for (let i = 0; i < Math.min(r, n - 1); i++) ins.push('good');
        }
        const { states } = drive(ins, { upAfter: n, initialState: 'up' });
        expect(states.some(isUsableState)).toBe(false);
      }),
    );
  });
});
