// runService in-process: config file, ops server over real HTTP, SIGHUP/SIGTERM through an
// EventEmitter standing in for `process`.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  createCounter,
  createLifecycle,
  createLogger,
  createMetricsRegistry,
  createTypedEmitter,
  healthCheck,
  healthReport,
  runService,
} from '../src/index.js';
import type { HealthReport, Service, ServiceHost } from '../src/index.js';

const Schema = z.strictObject({ port: z.int().min(1).max(65535), psk: z.string().min(8), label: z.string().default('x') });
type Config = z.infer<typeof Schema>;

interface Hooks {
  startFails?: boolean;
  health?: () => HealthReport;
}

function makeService(hooks: Hooks = {}): Service<Config, { applied: number }> & { stops: number } {
  const registry = createMetricsRegistry({ app: 'hosted' });
  const applied = createCounter(registry, { name: 'edgebox_hosted_applied_total', help: 'applied configs' });
  let n = 0;
  const life = createLifecycle<Config>({
    name: 'hosted',
    schema: Schema,
    start: () => {
      if (hooks.startFails === true) throw new Error('cannot bind');
      applied.inc();
      n++;
    },
    reload: () => {
      applied.inc();
      n++;
    },
    stop: () => {
      svc.stops++;
    },
  });
  const svc = {
    name: 'hosted',
    configSchema: Schema,
    events: createTypedEmitter<object>(),
    registry,
    stops: 0,
    get state() {
      return life.state;
    },
    get config() {
      return life.config;
    },
    start: life.start,
    reload: life.reload,
    stop: life.stop,
    status: () => ({ applied: n }),
    health: hooks.health ?? (() => healthReport([healthCheck('hosted', 'ok')])),
  };
  return svc;
}

let dir: string;
let hosts: ServiceHost[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'runtime-host-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.allSettled(hosts.map((h) => h.stop()));
  hosts = [];
});

function logSink() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ app: 'hosted', level: 'debug', destination: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) } });
  return { lines, logger };
}

async function host(over: Partial<Parameters<typeof runService>[0]> & { service?: ReturnType<typeof makeService> } = {}) {
  const file = join(dir, `hosted-${Math.random().toString(16).slice(2)}.yaml`);
  writeFileSync(file, 'port: 4000\npsk: super-secret-psk\n');
  const target = new EventEmitter();
  const exits: number[] = [];
  const { lines, logger } = logSink();
  const service = over.service ?? makeService();
  const h = await runService({ service, configFile: file, logger, opsPort: 0, env: {}, signalTarget: target, exit: (c) => exits.push(c), defaultMetrics: false, ...over });
  hosts.push(h);
  return { h, file, target, exits, lines, service };
}

describe('runService', () => {
  it('loads the file, starts the service, and serves /metrics /health /ready /status', async () => {
    const { h, service, lines, file } = await host();
    expect(service.state).toBe('running');
    expect(service.config).toEqual({ port: 4000, psk: 'super-secret-psk', label: 'x' });
    expect(h.url).toBe(`http://127.0.0.1:${h.ops.port}`);
    expect(h.configFile).toBe(file);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('edgebox_hosted_applied_total{app="hosted"} 1');
    expect(metrics).toContain('# TYPE edgebox_hosted_config_reloads_total counter');
    const health = await fetch(`${h.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', ready: true, checks: [{ name: 'lifecycle', status: 'ok' }, { name: 'hosted', status: 'ok' }] });
    expect((await fetch(`${h.url}/ready`)).status).toBe(200);
    const status = (await (await fetch(`${h.url}/status`)).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ app: 'hosted', state: 'running', configFile: file, config: { port: 4000, psk: '[REDACTED]' }, service: { applied: 1 } });
    expect(JSON.stringify(status)).not.toContain('super-secret-psk');
    expect(lines.some((l) => l['msg'] === 'hosted started' && l['ops'] === h.url)).toBe(true);
  });

  it('SIGHUP re-reads the file and reloads; a bad file keeps the running config and logs why', async () => {
    const { h, file, target, service, lines } = await host();
    writeFileSync(file, 'port: 4001\npsk: super-secret-psk\n');
    target.emit('SIGHUP', 'SIGHUP');
    await vi.waitUntil(() => service.config?.port === 4001, { timeout: 2000 });
    writeFileSync(file, 'port: 70000\npsk: super-secret-psk\n');
    const refused = await h.reload();
    expect(refused).toMatchObject({ applied: false, error: { code: 'RUNTIME_CONFIG_INVALID' } });
    expect(refused.error?.message).toContain('hosted.port: 70000 is not valid: expected integer <= 65535');
    expect(service.config?.port).toBe(4001);
    expect(service.state).toBe('running');
    const why = lines.find((l) => l['msg'] === 'reload refused: keeping the running config');
    expect(why?.['reason']).toContain('hosted.port: 70000 is not valid: expected integer <= 65535');
    expect(typeof why?.['correlationId']).toBe('string');
    writeFileSync(file, 'port: [oops\n');
    expect((await h.reload()).error?.code).toBe('RUNTIME_CONFIG_PARSE');
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('edgebox_hosted_config_reloads_total{result="applied",app="hosted"} 1');
    expect(metrics).toContain('edgebox_hosted_config_reloads_total{result="refused",app="hosted"} 2');
  });

  it('a reload the service refuses is logged with its reason', async () => {
    const { h, file, lines } = await host();
    // the host validates the file with the service schema first, so make the service itself
    // refuse: a stopped service refuses every reload
    await h.service.stop();
    writeFileSync(file, 'port: 4002\npsk: super-secret-psk\n');
    const r = await h.reload();
    expect(r).toMatchObject({ applied: false, error: { code: 'RUNTIME_STATE' } });
    expect(lines.filter((l) => l['msg'] === 'reload refused: keeping the running config').at(-1)?.['reason']).toBe('cannot reload hosted while stopped');
  });

  it('SIGTERM stops the service and the ops server, then exits 0', async () => {
    const { h, target, exits, service } = await host();
    target.emit('SIGTERM', 'SIGTERM');
    await vi.waitUntil(() => exits.length > 0, { timeout: 2000 });
    expect(exits).toEqual([0]);
    expect(service.state).toBe('stopped');
    expect(service.stops).toBe(1);
    await expect(fetch(`${h.url}/health`)).rejects.toThrow();
    expect(target.eventNames()).toEqual([]);
    await h.stop();
    expect(service.stops).toBe(1);
  });

  it('env overrides apply to the app section and are logged', async () => {
    const { service, lines } = await host({ env: { EDGEBOX_HOSTED__PORT: '4500' } });
    expect(service.config?.port).toBe(4500);
    expect(lines.find((l) => l['msg'] === 'config overridden from the environment')?.['overrides']).toEqual(['EDGEBOX_HOSTED__PORT -> hosted.port']);
  });

  it('without a file it uses the default config; section false maps env vars from the document root', async () => {
    const service = makeService();
    const h = await runService({
      service,
      defaultConfig: { port: 1, psk: 'default-psk' },
      logger: logSink().logger,
      opsPort: 0,
      env: { EDGEBOX_HOSTED__PORT: '2' },
      signals: false,
      defaultMetrics: false,
    });
    hosts.push(h);
    expect(service.config).toEqual({ port: 2, psk: 'default-psk', label: 'x' });
    expect(h.configFile).toBeUndefined();
    await expect(
      runService({
        service: makeService(),
        defaultConfig: { port: 1, psk: 'default-psk' },
        logger: logSink().logger,
        opsPort: 0,
        env: { EDGEBOX_LABEL__TEXT: '"y"' },
        section: false,
        signals: false,
      }),
    ).rejects.toMatchObject({ code: 'RUNTIME_CONFIG_INVALID', message: 'config is invalid: label: {"text":"y"} is not valid: expected string' });
  });

  it('a bad config at start throws before anything listens', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'port: 0\npsk: short\n');
    const service = makeService();
    await expect(runService({ service, configFile: file, logger: logSink().logger, opsPort: 0, env: {}, signals: false })).rejects.toMatchObject({
      code: 'RUNTIME_CONFIG_INVALID',
      message: expect.stringContaining(`config file ${file} is invalid (2 issues)`),
    });
    expect(service.state).toBe('idle');
  });

  it('a port in use fails with RUNTIME_LISTEN before the service starts', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const service = makeService();
    try {
      await expect(host({ service, opsPort: port })).rejects.toMatchObject({ code: 'RUNTIME_LISTEN' });
      expect(service.state).toBe('idle');
    } finally {
      blocker.close();
    }
  });

  it('a failing start stops the service, closes the ops server and rethrows', async () => {
    const service = makeService({ startFails: true });
    await expect(host({ service })).rejects.toThrow('cannot bind');
    expect(service.state).toBe('stopped');
    expect(service.stops).toBe(1);
  });

  it('a service health that throws makes /health failing (503)', async () => {
    const { h } = await host({
      service: makeService({
        health: () => {
          throw new Error('probe crashed');
        },
      }),
    });
    const res = await fetch(`${h.url}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'failing', checks: [{ name: 'lifecycle' }, { name: 'service', status: 'failing', message: 'probe crashed' }] });
  });

  it('a stop that fails is rethrown after closing the ops server', async () => {
    const service = makeService();
    const { h } = await host({ service });
    const stop = vi.spyOn(service, 'stop').mockRejectedValueOnce(new Error('drain failed'));
    await expect(h.stop()).rejects.toThrow('drain failed');
    expect(stop).toHaveBeenCalledOnce();
    await expect(fetch(`${h.url}/health`)).rejects.toThrow();
  });
});
