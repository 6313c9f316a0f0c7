/**
 * The demo service: a heartbeat ticker, the smallest real Service. It counts ticks every
 * `intervalMs` (edgebox_demo_ticks_total), shows {ticks, intervalMs, startedAt} as status,
 * and reports degraded health when ticks stall (no tick for `stallFactor` intervals).
 * Reload re-arms the timer with the new interval without losing the count.
 */
import { z } from 'zod';
import { healthCheck, healthReport } from '../health.js';
import type { HealthReport } from '../health.js';
import { createLifecycle, lifecycleHealth } from '../lifecycle.js';
import { createCounter, createGauge, createMetricsRegistry } from '../metrics.js';
import type { Service } from '../service.js';
import { createTypedEmitter } from '../typed-events.js';

export const DemoConfigSchema = z.strictObject({
  /** Tick interval. */
  intervalMs: z.int().min(10).max(60_000).default(1000),
  /** Health turns degraded after this many intervals without a tick. */
  stallFactor: z.number().min(1.5).max(100).default(3),
});

export type DemoConfig = z.infer<typeof DemoConfigSchema>;

/** The embedded default config of the demo CLI. */
export const DEMO_DEFAULT_CONFIG: z.input<typeof DemoConfigSchema> = { intervalMs: 1000 };

export type DemoStatus = {
  ticks: number;
  intervalMs: number;
  startedAt: string | null;
  lastTickAt: string | null;
};

export interface DemoEvents {
  tick: { ticks: number; at: number };
  reloaded: { intervalMs: number };
}

export interface DemoServiceInit {
  /** Clock in ms (tests). */
  now?: () => number;
}

/**
 * Creates the demo heartbeat service.
 *
 * @example
 * const demo = createDemoService();
 * demo.events.on('tick', ({ ticks }) => console.log('tick', ticks));
 * await demo.start({ intervalMs: 250 });
 */
export function createDemoService(init: DemoServiceInit = {}): Service<DemoConfig, DemoStatus, DemoEvents> {
  const now = init.now ?? Date.now;
  const events = createTypedEmitter<DemoEvents>();
  const registry = createMetricsRegistry({ app: 'demo' });
  const ticksTotal = createCounter(registry, { name: 'edgebox_demo_ticks_total', help: 'Heartbeat ticks since the process started' });
  const intervalGauge = createGauge(registry, { name: 'edgebox_demo_interval_seconds', help: 'Configured heartbeat interval' });

  let ticks = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let armedAt = 0;
  let lastTickAt: number | undefined;
  let startedAt: number | undefined;

  const tick = (): void => {
    ticks++;
    lastTickAt = now();
    ticksTotal.inc();
    events.emit('tick', { ticks, at: lastTickAt });
  };
  const arm = (intervalMs: number): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = setInterval(tick, intervalMs);
    armedAt = now();
    intervalGauge.set(intervalMs / 1000);
  };
  const disarm = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };

  const life = createLifecycle<DemoConfig>({
    name: 'demo',
    schema: DemoConfigSchema,
    start(config) {
      startedAt = now();
      lastTickAt = undefined;
      arm(config.intervalMs);
    },
    reload(next) {
      arm(next.intervalMs);
      events.emit('reloaded', { intervalMs: next.intervalMs });
    },
    stop() {
      disarm();
    },
  });

  const ownHealth = (): HealthReport => {
    const config = life.config;
    if (life.state !== 'running' && life.state !== 'reloading') return lifecycleHealth(life.state, 'ticker');
    const intervalMs = config?.intervalMs ?? 1000;
    const since = now() - (lastTickAt ?? armedAt);
    const limit = intervalMs * (config?.stallFactor ?? 3);
    return since > limit
      ? healthReport([healthCheck('ticker', 'degraded', `no tick for ${since} ms (interval ${intervalMs} ms)`)])
      : healthReport([healthCheck('ticker', 'ok', `${ticks} ticks`)]);
  };

  return {
    name: 'demo',
    configSchema: DemoConfigSchema,
    events,
    registry,
    get state() {
      return life.state;
    },
    get config() {
      return life.config;
    },
    start: life.start,
    reload: life.reload,
    stop: life.stop,
    status: () => ({
      ticks,
      intervalMs: life.config?.intervalMs ?? DemoConfigSchema.shape.intervalMs.parse(undefined),
      startedAt: startedAt === undefined ? null : new Date(startedAt).toISOString(),
      lastTickAt: lastTickAt === undefined ? null : new Date(lastTickAt).toISOString(),
    }),
    health: ownHealth,
  };
}
