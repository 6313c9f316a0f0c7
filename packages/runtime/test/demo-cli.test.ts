import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DEMO_USAGE, runDemo } from '../src/demo/cli.js';
import type { DemoIo } from '../src/demo/cli.js';
import { createLogger } from '../src/index.js';
import type { ServiceHost } from '../src/index.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'runtime-demo-'));
let hosts: ServiceHost[] = [];
afterEach(async () => {
  await Promise.allSettled(hosts.map((h) => h.stop()));
  hosts = [];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const exits: number[] = [];
  const target = new EventEmitter();
  const value: DemoIo = {
    argv,
    env,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    exit: (c) => exits.push(c),
    logger: createLogger({ app: 'demo', silent: true }),
    signalTarget: target,
  };
  return { value, out, err, exits, target };
}

describe('demo CLI (in-process)', () => {
  it('prints what started and the four URLs', async () => {
    const t = io(['--port', '0']);
    const host = await runDemo(t.value);
    hosts.push(host!);
    const banner = t.out.join('\n');
    expect(banner).toMatch(/^edgebox demo started: heartbeat ticker "demo" counting a tick every 1000 ms \(pid \d+, config: embedded default\)/);
    for (const p of ['metrics', 'health', 'ready', 'status']) expect(banner).toContain(`${host!.url}/${p}`);
    expect(banner).toContain('Ctrl-C or SIGTERM stops it; SIGHUP re-reads the config.');
    expect((await fetch(`${host!.url}/health`)).status).toBe(200);
  });

  it('reads --config and EDGEBOX_PORT / EDGEBOX_DEMO__* from the environment', async () => {
    const file = join(dir, 'demo.toml');
    writeFileSync(file, 'intervalMs = 250\n');
    const t = io(['--config', file], { EDGEBOX_PORT: '0', EDGEBOX_DEMO__STALL_FACTOR: '5' });
    const host = await runDemo(t.value);
    hosts.push(host!);
    expect(t.out[0]).toContain(`every 250 ms`);
    expect(t.out[0]).toContain(`config: ${file}`);
    expect(host!.service.config).toEqual({ intervalMs: 250, stallFactor: 5 });
  });

  it('SIGTERM stops it and exits 0', async () => {
    const t = io(['-p', '0']);
    const host = await runDemo(t.value);
    hosts.push(host!);
    t.target.emit('SIGTERM', 'SIGTERM');
    await vi.waitUntil(() => t.exits.length > 0, { timeout: 2000 });
    expect(t.exits).toEqual([0]);
    expect(host!.service.state).toBe('stopped');
  });

  it('--help prints usage and exits 0; bad arguments and ports exit 2', async () => {
    const help = io(['--help']);
    expect(await runDemo(help.value)).toBeUndefined();
    expect(help.out).toEqual([DEMO_USAGE]);
    expect(help.exits).toEqual([0]);
    const unknown = io(['--nope']);
    await runDemo(unknown.value);
    expect(unknown.exits).toEqual([2]);
    expect(unknown.err[0]).toContain('--nope');
    for (const port of ['70000', 'abc', '-1']) {
      const bad = io([`--port=${port}`]);
      await runDemo(bad.value);
      expect(bad.exits).toEqual([2]);
      expect(bad.err[0]).toBe(`port ${JSON.stringify(port)} is not valid: expected integer 0..65535`);
    }
  });

  it('a bad config file is explained line by line and exits 1', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'intervalMs: 1\nstallFactor: 0\n');
    const t = io(['--config', file, '--port', '0']);
    expect(await runDemo(t.value)).toBeUndefined();
    expect(t.exits).toEqual([1]);
    expect(t.err[0]).toBe(
      `edgebox demo did not start: config file ${file} is invalid (2 issues):\n  demo.intervalMs: 1 is not valid: expected integer >= 10\n  demo.stallFactor: 0 is not valid: expected number >= 1.5`,
    );
  });
});

describe('demo CLI (real process)', () => {
  it('starts, serves /metrics and /health over HTTP, and stops cleanly on SIGTERM', async () => {
    const proc = spawn(process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', 'src/demo/main.ts', '--port', '0'], {
      cwd: pkgDir,
      env: { ...process.env, EDGEBOX_DEMO__INTERVAL_MS: '50', EDGEBOX_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stdout = '';
      proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
      await vi.waitUntil(() => /metrics {2}(http:\/\/\S+)\/metrics/.test(stdout), { timeout: 15_000, interval: 20 });
      const base = /metrics {2}(http:\/\/\S+)\/metrics/.exec(stdout)![1]!;
      expect(stdout).toContain('counting a tick every 50 ms');
      await vi.waitUntil(async () => /edgebox_demo_ticks_total\{app="demo"\} [1-9]/.test(await (await fetch(`${base}/metrics`)).text()), { timeout: 5000, interval: 50 });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/edgebox_demo_ticks_total\{app="demo"\} [1-9]/);
      expect(metrics).toContain('process_cpu_user_seconds_total{app="demo"}');
      const health = await fetch(`${base}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', ready: true });
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stdout).toContain('"msg":"demo stopped"');
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  });
});
