import { describe, expect, it, vi } from 'vitest';
import { createDemoService, DEMO_DEFAULT_CONFIG, DemoConfigSchema } from '../src/demo/demo-service.js';
import { describeServiceContract } from '../src/testing.js';

describeServiceContract({
  name: 'demo',
  create: () => createDemoService(),
  goodConfig: { intervalMs: 20 },
  changedConfig: { intervalMs: 30, stallFactor: 4 },
  badConfig: { intervalMs: 5 },
  deadlineMs: 1000,
});

describe('demo heartbeat service', () => {
  it('counts ticks into status, events and edgebox_demo_ticks_total', async () => {
    const demo = createDemoService();
    const seen: number[] = [];
    demo.events.on('tick', ({ ticks }) => seen.push(ticks));
    await demo.start({ intervalMs: 10 });
    await vi.waitUntil(() => demo.status().ticks >= 3, { timeout: 2000, interval: 5 });
    await demo.stop();
    const status = demo.status();
    expect(seen.slice(0, 3)).toEqual([1, 2, 3]);
    expect(status.intervalMs).toBe(10);
    expect(Date.parse(status.startedAt!)).not.toBeNaN();
    expect(Date.parse(status.lastTickAt!)).not.toBeNaN();
    const text = await demo.registry.metrics();
    expect(text).toContain(`edgebox_demo_ticks_total{app="demo"} ${status.ticks}`);
    expect(text).toContain('edgebox_demo_interval_seconds{app="demo"} 0.01');
    const after = status.ticks;
    await new Promise((r) => setTimeout(r, 40));
    expect(demo.status().ticks).toBe(after);
  });

  it('is degraded when ticks stall and ok when they flow', async () => {
    let now = 1_000_000;
    const demo = createDemoService({ now: () => now });
    expect(await demo.health()).toMatchObject({ status: 'degraded', ready: false, checks: [{ name: 'ticker', message: 'idle' }] });
    await demo.start({ intervalMs: 1000, stallFactor: 3 });
    try {
      expect(await demo.health()).toMatchObject({ status: 'ok', ready: true, checks: [{ name: 'ticker', message: '0 ticks' }] });
      now += 3500;
      expect(await demo.health()).toMatchObject({ status: 'degraded', ready: true, checks: [{ name: 'ticker', message: 'no tick for 3500 ms (interval 1000 ms)' }] });
    } finally {
      await demo.stop();
    }
    expect((await demo.health()).status).toBe('failing');
  });

  it('reload re-arms the timer with the new interval and keeps the count', async () => {
    const demo = createDemoService();
    const reloaded: number[] = [];
    demo.events.on('reloaded', ({ intervalMs }) => reloaded.push(intervalMs));
    await demo.start({ intervalMs: 10 });
    await vi.waitUntil(() => demo.status().ticks >= 2, { timeout: 2000, interval: 5 });
    const before = demo.status().ticks;
    expect(await demo.reload({ intervalMs: 15 })).toEqual({ applied: true });
    await vi.waitUntil(() => demo.status().ticks > before, { timeout: 2000, interval: 5 });
    expect(demo.status().intervalMs).toBe(15);
    expect(reloaded).toEqual([15]);
    await demo.stop();
  });

  it('has a strict schema with defaults; the embedded default config is valid', () => {
    expect(DemoConfigSchema.parse({})).toEqual({ intervalMs: 1000, stallFactor: 3 });
    expect(DemoConfigSchema.parse(DEMO_DEFAULT_CONFIG)).toEqual({ intervalMs: 1000, stallFactor: 3 });
    expect(DemoConfigSchema.safeParse({ intervalMs: 100, extra: 1 }).success).toBe(false);
    expect(createDemoService().status()).toEqual({ ticks: 0, intervalMs: 1000, startedAt: null, lastTickAt: null });
  });
});
