import { describe, expect, it } from 'vitest';
import { combineHealth, createHealthChecks, healthCheck, healthReport, lifecycleHealth, worstStatus } from '../src/index.js';

const fixed = new Date('2026-01-02T03:04:05.000Z');

describe('health model', () => {
  it('worstStatus orders ok < degraded < failing', () => {
    expect(worstStatus('ok', 'degraded')).toBe('degraded');
    expect(worstStatus('failing', 'ok')).toBe('failing');
    expect(worstStatus('ok', 'ok')).toBe('ok');
  });

  it('healthReport: status is the worst check, readiness fails only on failing readiness checks', () => {
    expect(healthReport([])).toEqual({ status: 'ok', ready: true, checks: [] });
    const degraded = healthReport([healthCheck('a', 'ok', undefined, { now: fixed }), healthCheck('b', 'degraded', 'slow', { now: fixed })]);
    expect(degraded).toEqual({
      status: 'degraded',
      ready: true,
      checks: [
        { name: 'a', status: 'ok', observedAt: '2026-01-02T03:04:05.000Z' },
        { name: 'b', status: 'degraded', message: 'slow', observedAt: '2026-01-02T03:04:05.000Z' },
      ],
    });
    expect(healthReport([healthCheck('a', 'ok')], false).ready).toBe(false);
    const failing = healthReport([healthCheck('disk', 'failing', 'full', { readiness: false })]);
    expect(failing.status).toBe('failing');
    expect(failing.ready).toBe(false);
    expect(failing.checks[0]!.readiness).toBe(false);
  });

  it('combineHealth takes the worst status, ready only when all are ready, and concatenates checks', () => {
    const a = healthReport([healthCheck('a', 'ok')]);
    const b = healthReport([healthCheck('b', 'degraded')], false);
    const c = combineHealth(a, b);
    expect(c.status).toBe('degraded');
    expect(c.ready).toBe(false);
    expect(c.checks.map((x) => x.name)).toEqual(['a', 'b']);
    expect(combineHealth()).toEqual({ status: 'ok', ready: true, checks: [] });
    expect(combineHealth(a, healthReport([healthCheck('x', 'failing')])).ready).toBe(false);
  });

  it('lifecycleHealth maps states to liveness and readiness', () => {
    expect(lifecycleHealth('running')).toMatchObject({ status: 'ok', ready: true });
    expect(lifecycleHealth('reloading')).toMatchObject({ status: 'ok', ready: true });
    for (const s of ['idle', 'starting', 'stopping'] as const) expect(lifecycleHealth(s)).toMatchObject({ status: 'degraded', ready: false });
    for (const s of ['stopped', 'failed'] as const) expect(lifecycleHealth(s, 'svc')).toMatchObject({ status: 'failing', ready: false, checks: [{ name: 'svc', message: s }] });
  });
});

describe('createHealthChecks', () => {
  it('runs named checks concurrently and normalises their outcomes', async () => {
    const checks = createHealthChecks({ now: () => fixed });
    checks.add('bool-ok', () => true);
    checks.add('bool-bad', () => false);
    checks.add('status', async () => 'degraded' as const);
    checks.add('object', () => ({ status: 'ok', message: 'fine' }));
    checks.add('weird', () => 'nonsense' as never);
    const report = await checks.run();
    expect(checks.names).toEqual(['bool-ok', 'bool-bad', 'status', 'object', 'weird']);
    const by = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(by['bool-ok']).toMatchObject({ status: 'ok', observedAt: fixed.toISOString() });
    expect(by['bool-bad']!.status).toBe('failing');
    expect(by['status']!.status).toBe('degraded');
    expect(by['object']).toMatchObject({ status: 'ok', message: 'fine' });
    expect(by['weird']).toMatchObject({ status: 'failing', message: expect.stringContaining('expected ok, degraded, failing or a boolean') });
    expect(typeof by['object']!.durationMs).toBe('number');
    expect(report.status).toBe('failing');
    expect(report.ready).toBe(false);
  });

  it('a throwing check is failing with its message', async () => {
    const checks = createHealthChecks();
    checks.add('db', () => {
      throw new Error('connection refused');
    });
    checks.add('async', () => Promise.reject('plain'));
    const report = await checks.run();
    expect(report.checks).toEqual([
      expect.objectContaining({ name: 'db', status: 'failing', message: 'connection refused' }),
      expect.objectContaining({ name: 'async', status: 'failing', message: 'plain' }),
    ]);
  });

  it('a check over its timeout is failing and its signal is aborted', async () => {
    const checks = createHealthChecks({ timeoutMs: 1000 });
    let aborted: unknown;
    checks.add(
      'slow',
      (signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
            setTimeout(() => resolve('ok'), 50);
          });
        }),
      { timeoutMs: 30 },
    );
    checks.add('fast', () => 'ok');
    const t0 = performance.now();
    const report = await checks.run();
    expect(performance.now() - t0).toBeLessThan(500);
    expect(report.checks[0]).toMatchObject({ name: 'slow', status: 'failing', message: 'check "slow" timed out after 30 ms' });
    expect(aborted).toMatchObject({ code: 'RUNTIME_HEALTH_TIMEOUT' });
    expect(report.checks[1]!.status).toBe('ok');
  });

  it('liveness-only checks do not hold readiness back unless failing liveness overall', async () => {
    const checks = createHealthChecks();
    checks.add('disk', () => 'degraded', { readiness: false });
    expect(await checks.run()).toMatchObject({ status: 'degraded', ready: true });
  });

  it('refuses duplicate or empty names and bad timeouts; remove works', () => {
    const checks = createHealthChecks();
    checks.add('a', () => true);
    expect(() => checks.add('a', () => true)).toThrowError(expect.objectContaining({ code: 'RUNTIME_INVALID_ARGUMENT' }));
    expect(() => checks.add('', () => true)).toThrowError(expect.objectContaining({ code: 'RUNTIME_INVALID_ARGUMENT' }));
    expect(() => checks.add('b', () => true, { timeoutMs: 0 })).toThrowError(expect.objectContaining({ code: 'RUNTIME_INVALID_ARGUMENT' }));
    expect(() => createHealthChecks({ timeoutMs: NaN })).toThrow(/timeout NaN is not valid/);
    expect(checks.remove('a')).toBe(true);
    expect(checks.remove('a')).toBe(false);
    expect(checks.names).toEqual([]);
  });
});
