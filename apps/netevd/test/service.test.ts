// The netevd Service: the runtime contract suite, then reload validation and rollback kept
// visible, the REST API (status, interfaces, 404s, token), SSE delivering each event once and
// in order, and metrics. Sources are the in-memory fake; scripts and routing are real
// (routing with no interfaces touches nothing).
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus, createEventFactory, createSseDecoder } from '@edgebox/events';
import { describeServiceContract } from '@edgebox/runtime/testing';
import { createNetevdService } from '../src/service.js';
import type { NetevdService } from '../src/service.js';
import { fakeSourceFactory } from './fake-source.js';
import { recordingScript, silent, tempDir, uid, waitFor, writeScript } from './helpers.js';

const base = (dir: string) => ({ dataDir: join(dir, 'data'), scripts: { dir, ownerUid: uid }, api: { port: 0 }, debounce: { waitMs: 20, maxWaitMs: 200 } });

let contractDir: string;
beforeAll(async () => {
  contractDir = await tempDir();
});

describeServiceContract({
  name: 'netevd',
  create: () => createNetevdService({ logger: silent, sources: { netlink: fakeSourceFactory().factory } }),
  get goodConfig() {
    return base(contractDir);
  },
  get changedConfig() {
    return { ...base(contractDir), scripts: { dir: contractDir, ownerUid: uid, timeoutMs: 1234 } };
  },
  badConfig: { api: { port: 70000 } },
});

describe('netevd service', () => {
  let dir: string;
  let svc: NetevdService;
  let fake: ReturnType<typeof fakeSourceFactory>;
  const get = async (path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${svc.apiUrl}${path}`, init);
    const text = await res.text();
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') === true ? JSON.parse(text) : text };
  };

  beforeAll(async () => {
    dir = await tempDir();
    await writeScript(dir, 'routable', '10-rec', recordingScript(join(dir, 'runs.log'), 'routable'));
    await writeScript(dir, 'degraded', '10-fail', '#!/bin/sh\necho nope >&2\nexit 4\n');
    fake = fakeSourceFactory([{ iface: 'eth0', state: 'routable', addresses: ['10.0.0.2/24'] }]);
    svc = createNetevdService({
      logger: silent,
      sources: { netlink: fake.factory },
      // What runService's host.reload answers for a file that does not parse.
      reloadSource: async () => ({ applied: false, error: { code: 'RUNTIME_CONFIG_PARSE', message: 'netevd.yaml: line 2: bad YAML' } }),
    });
    await svc.start(base(dir));
  });
  afterAll(async () => {
    await svc.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(contractDir, { recursive: true, force: true });
  });

  it('runs startup scripts and shows the interface', async () => {
    await svc.idle();
    expect(svc.interfaces()).toEqual([expect.objectContaining({ name: 'eth0', state: 'routable', addresses: ['10.0.0.2/24'], backend: 'netlink' })]);
    expect(svc.status().scripts).toMatchObject({ transitions: 1, runs: 1, failures: 0 });
    const { status, body } = await get('/api/v1/interfaces/eth0');
    expect(status).toBe(200);
    expect(body).toMatchObject({ name: 'eth0', state: 'routable' });
    expect((await get('/api/v1/interfaces/nope0')).status).toBe(404);
    expect(((await get('/api/v1/interfaces/nope0')).body as { error: { code: string } }).error.code).toBe('NETEVD_NOT_FOUND');
    expect((await get('/api/v1/nothing')).status).toBe(404);
    expect((await get('/api/v1/interfaces/%E0%A4%A')).status).toBe(400);
    expect((await get('/api/v1/status', { method: 'PUT' })).status).toBe(404);
  });

  it('a failing script lands in the dead-letter list, visible in the API, and in metrics', async () => {
    fake.last().link('eth0', 'degraded', []);
    await waitFor(() => svc.deadLetters().length === 1, 'a dead letter');
    const { body } = await get('/api/v1/dead-letter');
    expect(body).toEqual([expect.objectContaining({ code: 'NETEVD_SCRIPT_FAILED', state: 'degraded', interface: 'eth0', exitCode: 4, stderr: 'nope\n' })]);
    const metrics = (await get('/metrics')).body as string;
    expect(metrics).toMatch(/edgebox_netevd_events_total\{kind="link.state",interface="eth0",backend="netlink",app="netevd"\} 2/);
    expect(metrics).toMatch(/edgebox_netevd_script_runs_total\{state="degraded",result="failed",app="netevd"\} 1/);
    expect(metrics).toMatch(/edgebox_netevd_source_up\{backend="netlink",app="netevd"\} 1/);
    expect(metrics).toContain('edgebox_netevd_event_to_script_seconds_count');
    const cleared = await get('/api/v1/dead-letter', { method: 'DELETE' });
    expect(cleared.body).toEqual({ cleared: 1 });
  });

  it('an invalid config on reload keeps the running one and the API says why', async () => {
    const before = svc.config;
    const r = await svc.reload({ ...base(dir), scripts: { dir, timeoutMs: -5 } });
    expect(r.applied).toBe(false);
    expect(svc.state).toBe('running');
    expect(svc.config).toBe(before);
    const { body } = await get('/api/v1/status');
    const reload = (body as { reload: { applied: boolean; error: { code: string; message: string } } }).reload;
    expect(reload.applied).toBe(false);
    expect(reload.error.code).toBe('RUNTIME_CONFIG_INVALID');
    expect(reload.error.message).toContain('scripts.timeoutMs');
    const health = (await get('/health')).body as { checks: { name: string; status: string }[] };
    expect(health.checks).toContainEqual(expect.objectContaining({ name: 'reload', status: 'degraded' }));
  });

  it('POST /api/v1/reload reports a file that does not parse (409) and records it', async () => {
    const { status, body } = await get('/api/v1/reload', { method: 'POST' });
    expect(status).toBe(409);
    expect(body).toMatchObject({ applied: false, error: { code: 'RUNTIME_CONFIG_PARSE' } });
    expect(svc.status().reload).toMatchObject({ applied: false, error: { code: 'RUNTIME_CONFIG_PARSE', message: 'netevd.yaml: line 2: bad YAML' } });
    expect(svc.state).toBe('running');
  });

  it('a reload that only a restart can apply is refused', async () => {
    const r = await svc.reload({ ...base(dir), backends: ['netlink', 'networkd'] });
    expect(r).toMatchObject({ applied: false, error: { code: 'NETEVD_RELOAD_UNSUPPORTED' } });
    const ok = await svc.reload({ ...base(dir), scripts: { dir, ownerUid: uid, retries: 1 } });
    expect(ok.applied).toBe(true);
    expect(svc.status().reload).toMatchObject({ applied: true, error: null });
  });

  it('SSE delivers each event once and in order, and resumes after Last-Event-ID', async () => {
    const ac = new AbortController();
    const res = await fetch(`${svc.apiUrl}/api/v1/events?interface=sse*`, { headers: { accept: 'text/event-stream' }, signal: ac.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const got: { id: string; state: string }[] = [];
    const reading = (async () => {
      const dec = createSseDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          for (const r of dec.push(chunk)) if (r.ok) got.push({ id: r.message.id, state: (JSON.parse(r.message.data) as { states: { new: string } }).states.new });
        }
      } catch {
        // aborted
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 100; i++) fake.last().link(`sse${i % 3}`, `s${i}`);
    await waitFor(() => got.length >= 100, '100 SSE events');
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await reading;
    expect(got.map((g) => g.state)).toEqual(Array.from({ length: 100 }, (_, i) => `s${i}`));
    expect(new Set(got.map((g) => g.id)).size).toBe(100);
    // Resume from the 90th: exactly the last ten.
    const again = await fetch(`${svc.apiUrl}/api/v1/events?interface=sse*&stream=1`, { headers: { 'last-event-id': got[89]!.id }, signal: AbortSignal.timeout(500) }).catch(() => undefined);
    const dec = createSseDecoder();
    const replayed: string[] = [];
    try {
      for await (const chunk of again!.body as unknown as AsyncIterable<Uint8Array>) for (const r of dec.push(chunk)) if (r.ok) replayed.push((JSON.parse(r.message.data) as { states: { new: string } }).states.new);
    } catch {
      // timeout ends the stream
    }
    expect(replayed).toEqual(Array.from({ length: 10 }, (_, i) => `s${90 + i}`));
    const json = (await get('/api/v1/events?interface=sse1&limit=2')).body as { states: { new: string } }[];
    expect(json.map((e) => e.states.new)).toEqual(['s94', 's97']);
    expect((await get('/api/v1/events?bogus=1')).status).toBe(400);
  });
});

describe('netevd API token', () => {
  it('needs the bearer token when one is set (and off loopback the config requires one)', async () => {
    const dir = await tempDir();
    const svc = createNetevdService({ logger: silent, sources: { netlink: fakeSourceFactory().factory } });
    await expect(svc.start({ ...base(dir), api: { host: '0.0.0.0', port: 0 } })).rejects.toThrow(/api.token/);
    await svc.start({ ...base(dir), api: { port: 0, token: 'a-token-of-sixteen+' } });
    try {
      expect((await fetch(`${svc.apiUrl}/api/v1/status`)).status).toBe(401);
      expect((await fetch(`${svc.apiUrl}/api/v1/status`, { headers: { authorization: 'Bearer wrong-token-xxxxxxx' } })).status).toBe(401);
      expect((await fetch(`${svc.apiUrl}/api/v1/status`, { headers: { authorization: 'Bearer a-token-of-sixteen+' } })).status).toBe(200);
      expect((await fetch(`${svc.apiUrl}/health`)).status).toBe(200);
    } finally {
      await svc.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('netevd scripts through the daemon', () => {
  it('a hanging script is killed at its timeout and dead-lettered; a script named with shell characters runs as a name', async () => {
    const dir = await tempDir();
    const marker = join(dir, 'pwned');
    const log = join(dir, 'ran.log');
    await writeScript(dir, 'no-carrier', '10-hang', `#!/bin/sh\necho started >> '${log}'\nsleep 300\n`);
    await writeScript(dir, 'no-carrier', `20-$(touch ${marker.replaceAll('/', '_')});\`id\``, `#!/bin/sh\necho second >> '${log}'\n`);
    const fake = fakeSourceFactory();
    const svc = createNetevdService({ logger: silent, sources: { netlink: fake.factory } });
    await svc.start({ ...base(dir), scripts: { dir, ownerUid: uid, timeoutMs: 300, killGraceMs: 100 } });
    try {
      const t0 = Date.now();
      fake.last().link('eth9', 'no-carrier');
      await waitFor(() => svc.deadLetters().length === 1, 'the hanging script dead-lettered');
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(svc.deadLetters()[0]).toMatchObject({ code: 'NETEVD_SCRIPT_TIMEOUT', timedOut: true, interface: 'eth9', state: 'no-carrier' });
      await svc.idle();
      expect((await readFile(log, 'utf8')).split('\n').filter((l) => l !== '')).toEqual(['started', 'second']);
      expect(existsSync(marker)).toBe(false);
      expect(svc.status().scripts).toMatchObject({ runs: 2, timeouts: 1, failures: 1 });
    } finally {
      await svc.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('netevd interface filter', () => {
  it('holds for every backend: an excluded interface reaches neither the table nor the scripts', async () => {
    const dir = await tempDir();
    const log = join(dir, 'runs.log');
    await writeScript(dir, 'routable', '10-rec', recordingScript(log, 'routable'));
    const fake = fakeSourceFactory();
    const svc = createNetevdService({ logger: silent, sources: { netlink: fake.factory } });
    await svc.start({ ...base(dir), interfaces: { exclude: ['lo', 'docker*'] } });
    try {
      fake.last().link('docker0', 'routable', ['172.17.0.1/16']);
      fake.last().link('eth0', 'routable', ['10.0.0.2/24']);
      await svc.idle();
      expect(svc.interfaces().map((i) => i.name)).toEqual(['eth0']);
      expect((await readFile(log, 'utf8')).split('\n').filter((l) => l !== '').map((l) => l.split('|')[2])).toEqual(['eth0']);
    } finally {
      await svc.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('netevd on a shared bus', () => {
  it('handles only its own events: a link.state from another app runs no netevd script', async () => {
    const dir = await tempDir();
    const log = join(dir, 'runs.log');
    await writeScript(dir, 'up', '10-rec', recordingScript(log, 'up'));
    await writeScript(dir, 'routable', '10-rec', recordingScript(log, 'routable'));
    const bus = createEventBus();
    const fake = fakeSourceFactory();
    const svc = createNetevdService({ logger: silent, bus, sources: { netlink: fake.factory } });
    await svc.start(base(dir));
    try {
      bus.publish(createEventFactory({ source: 'bonding' }).create({ kind: 'link.state', interface: 'wan0', subject: 'wan0', states: { old: 'down', new: 'up' }, data: { linkId: 0 } }));
      fake.last().link('eth0', 'routable', ['10.0.0.2/24']);
      await svc.idle();
      expect(svc.interfaces().map((i) => i.name)).toEqual(['eth0']);
      expect((await readFile(log, 'utf8')).split('\n').filter((l) => l !== '').map((l) => l.split('|').slice(0, 3).join('|'))).toEqual(['routable|routable|eth0']);
    } finally {
      await svc.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
