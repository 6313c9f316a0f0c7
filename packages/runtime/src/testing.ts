/**
 * `@edgebox/runtime/testing`: the Service contract as a vitest suite. Every Service
 * implementation runs it in a few lines; it checks what hosts rely on (ARCHITECTURE.md rule 3):
 * start → status/health → reload(changed) applied → reload(bad) refused with the old config
 * still running and the error naming the path → stop within the deadline → stop again →
 * start after stop, and a registry that scrapes `edgebox_<name>_` metrics.
 *
 * Needs vitest (a peer dependency); import it from test files only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatPath } from './config-issues.js';
import { LIFECYCLE_STATES } from './lifecycle-states.js';
import type { AnyService } from './service.js';

export { describeReadmeCodes, readmeSection, tableCodes, type ReadmeCodesInit } from './testing-readme.js';

/** Options of {@link describeServiceContract}. */
export interface ServiceContractInit {
  /** The service name (also the metric prefix `edgebox_<name>_`). */
  name: string;
  /** A fresh, unstarted service per test. */
  create: () => AnyService | Promise<AnyService>;
  /** A valid config. */
  goodConfig: unknown;
  /** A different valid config that reload must apply. */
  changedConfig: unknown;
  /** An invalid config that start and reload must refuse. */
  badConfig: unknown;
  /** Does start() after stop() work? (default true; false: it must be RUNTIME_STATE) */
  restartable?: boolean;
  /** Stop deadline the service must meet (default 5000 ms). */
  deadlineMs?: number;
}

/**
 * Registers the contract suite for one service.
 *
 * @example
 * // test/demo-service.test.ts
 * describeServiceContract({
 *   name: 'demo',
 *   create: () => createDemoService(),
 *   goodConfig: { intervalMs: 50 },
 *   changedConfig: { intervalMs: 80 },
 *   badConfig: { intervalMs: -1 },
 * });
 */
export function describeServiceContract(init: ServiceContractInit): void {
  const deadlineMs = init.deadlineMs ?? 5000;
  const restartable = init.restartable ?? true;

  describe(`Service contract: ${init.name}`, () => {
    let created: AnyService[] = [];
    const make = async (): Promise<AnyService> => {
      const service = await init.create();
      created.push(service);
      return service;
    };
    const badPath = async (service: AnyService): Promise<string> => {
      const result = await service.configSchema.safeParseAsync(init.badConfig);
      expect(result.success, 'badConfig must fail the service schema').toBe(false);
      return formatPath(result.error?.issues[0]?.path ?? []);
    };

    afterEach(async () => {
      await Promise.allSettled(created.map((s) => s.stop({ deadlineMs })));
      created = [];
    });

    it('has its name, a config schema, typed events and its own registry; starts idle', async () => {
      const s = await make();
      expect(s.name).toBe(init.name);
      expect((await s.configSchema.safeParseAsync(init.goodConfig)).success).toBe(true);
      expect((await s.configSchema.safeParseAsync(init.changedConfig)).success).toBe(true);
      expect((await s.configSchema.safeParseAsync(init.badConfig)).success).toBe(false);
      for (const m of ['on', 'once', 'off', 'emit'] as const) expect(typeof s.events[m]).toBe('function');
      expect(typeof s.registry.metrics).toBe('function');
      expect(s.state).toBe('idle');
      expect(s.config).toBeUndefined();
    });

    it('refuses a bad config at start with RUNTIME_CONFIG_INVALID naming the path, and stays idle', async () => {
      const s = await make();
      const path = await badPath(s);
      const err: unknown = await s.start(init.badConfig).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'RUNTIME_CONFIG_INVALID' });
      expect((err as Error).message).toContain(path);
      expect(s.state).toBe('idle');
    });

    it('starts and reports a JSON status and a health report that is not failing', async () => {
      const s = await make();
      await s.start(init.goodConfig);
      expect(s.state).toBe('running');
      expect(s.config).toEqual(await s.configSchema.parseAsync(init.goodConfig));
      const status = s.status();
      expect(JSON.parse(JSON.stringify(status))).toEqual(status);
      const health = await s.health();
      expect(['ok', 'degraded']).toContain(health.status);
      expect(typeof health.ready).toBe('boolean');
      expect(Array.isArray(health.checks)).toBe(true);
      for (const check of health.checks) {
        expect(typeof check.name).toBe('string');
        expect(['ok', 'degraded', 'failing']).toContain(check.status);
        expect(Number.isNaN(Date.parse(check.observedAt))).toBe(false);
      }
    });

    it('start is idempotent: a second and concurrent starts share one start', async () => {
      const s = await make();
      await Promise.all([s.start(init.goodConfig), s.start(init.goodConfig)]);
      await s.start(init.goodConfig);
      expect(s.state).toBe('running');
    });

    it('applies a changed config on reload', async () => {
      const s = await make();
      await s.start(init.goodConfig);
      const result = await s.reload(init.changedConfig);
      expect(result).toEqual({ applied: true });
      expect(s.state).toBe('running');
      expect(s.config).toEqual(await s.configSchema.parseAsync(init.changedConfig));
    });

    it('refuses a bad config on reload, keeps the running config and names the path', async () => {
      const s = await make();
      const path = await badPath(s);
      await s.start(init.goodConfig);
      await s.reload(init.changedConfig);
      const result = await s.reload(init.badConfig);
      expect(result.applied).toBe(false);
      expect(result.error?.code).toBe('RUNTIME_CONFIG_INVALID');
      expect(result.error?.message).toContain(path);
      expect(JSON.parse(JSON.stringify(result))).toEqual(result);
      expect(s.state).toBe('running');
      expect(s.config).toEqual(await s.configSchema.parseAsync(init.changedConfig));
      expect((await s.health()).status).not.toBe('failing');
    });

    it('refuses a reload before start with RUNTIME_STATE', async () => {
      const s = await make();
      const result = await s.reload(init.goodConfig);
      expect(result.applied).toBe(false);
      expect(result.error?.code).toBe('RUNTIME_STATE');
    });

    it(`stops within ${deadlineMs} ms; stop again (and concurrently) is a no-op`, async () => {
      const s = await make();
      await s.start(init.goodConfig);
      const t0 = performance.now();
      await Promise.all([s.stop({ deadlineMs }), s.stop({ deadlineMs })]);
      expect(performance.now() - t0).toBeLessThan(deadlineMs);
      expect(s.state).toBe('stopped');
      await s.stop({ deadlineMs });
      expect(s.state).toBe('stopped');
      expect(LIFECYCLE_STATES).toContain(s.state);
    });

    if (restartable) {
      it('starts again after stop', async () => {
        const s = await make();
        await s.start(init.goodConfig);
        await s.stop({ deadlineMs });
        await s.start(init.changedConfig);
        expect(s.state).toBe('running');
        expect(s.config).toEqual(await s.configSchema.parseAsync(init.changedConfig));
      });
    } else {
      it('refuses start after stop with RUNTIME_STATE (not restartable)', async () => {
        const s = await make();
        await s.start(init.goodConfig);
        await s.stop({ deadlineMs });
        await expect(s.start(init.goodConfig)).rejects.toMatchObject({ code: 'RUNTIME_STATE' });
      });
    }

    it(`scrapes edgebox_${init.name}_ metrics from its registry`, async () => {
      const s = await make();
      await s.start(init.goodConfig);
      const text = await s.registry.metrics();
      expect(text).toContain(`edgebox_${init.name}_`);
      for (const line of text.split('\n')) {
        const m = /^# TYPE (\S+) (\S+)/.exec(line);
        if (m !== null && m[1]!.startsWith('edgebox_')) expect(m[1]!.startsWith(`edgebox_${init.name}_`), m[1]).toBe(true);
      }
    });
  });
}
