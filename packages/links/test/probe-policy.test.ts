import { describe, expect, it } from 'vitest';
import { createProbePolicy } from '../src/probe-policy.js';

describe('probe policy', () => {
  it('probes a link that never sent anything at once', () => {
    const p = createProbePolicy();
    expect(p.due('probing', 0)).toBe(true);
    expect(p.nextDueMs('up')).toBe(-Infinity);
  });

  it('sends no probe while data flows, and one after an idle interval', () => {
    const p = createProbePolicy({ intervalMs: 200 });
    for (let t = 0; t <= 2000; t += 50) {
      p.onSent(t); // data every 50 ms
      expect(p.due('up', t)).toBe(false);
    }
    expect(p.due('up', 2199)).toBe(false);
    expect(p.due('up', 2200)).toBe(true);
    expect(p.nextDueMs('degraded')).toBe(2200);
    p.onProbeSent(2200);
    expect(p.due('up', 2300)).toBe(false);
    expect([p.lastProbeMs, p.lastSentMs, p.probesSent]).toEqual([2200, 2200, 1]);
  });

  it('keeps the latest send time when calls arrive out of order', () => {
    const p = createProbePolicy({ intervalMs: 200 });
    p.onSent(1000);
    p.onSent(900);
    expect(p.lastSentMs).toBe(1000);
  });

  it('backs off on a down link up to the cap, and resets when the link leaves down', () => {
    const p = createProbePolicy({ intervalMs: 200, downMaxIntervalMs: 1000 });
    let t = 0;
    const gaps: number[] = [];
    p.onProbeSent(t);
    for (let i = 0; i < 6; i++) {
      const next = p.nextDueMs('down');
      gaps.push(next - t);
      t = next;
      expect(p.due('down', t)).toBe(true);
      p.onProbeSent(t);
    }
    expect(gaps).toEqual([200, 400, 800, 1000, 1000, 1000]);
    expect(p.currentIntervalMs('probing')).toBe(200);
    expect(p.downProbes).toBe(0);
    expect(p.nextDueMs('probing')).toBe(t + 200);
  });

  it('never probes a disabled link', () => {
    const p = createProbePolicy();
    expect(p.due('disabled', 1e12)).toBe(false);
    expect(p.nextDueMs('disabled')).toBe(Infinity);
  });

  it('refuses bad init', () => {
    expect(() => createProbePolicy({ intervalMs: 0 })).toThrow(/intervalMs 0/);
    expect(() => createProbePolicy({ intervalMs: 500, downMaxIntervalMs: 100 })).toThrow(/downMaxIntervalMs 100/);
  });
});
