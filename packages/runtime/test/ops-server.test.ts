import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCounter, createMetricsRegistry, createOpsServer, healthCheck, healthReport } from '../src/index.js';
import type { HealthReport, OpsServer, OpsServerInit } from '../src/index.js';

let servers: OpsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function start(over: Partial<OpsServerInit> = {}): Promise<OpsServer> {
  const registry = createMetricsRegistry({ app: 'demo' });
  createCounter(registry, { name: 'edgebox_demo_ticks_total', help: 'Ticks' }).inc(2);
  const server = await createOpsServer({
    port: 0,
    registries: registry,
    health: () => healthReport([healthCheck('ticker', 'ok')]),
    ...over,
  });
  servers.push(server);
  return server;
}

function raw(server: OpsServer, method: string, path: string, agent?: Agent): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: server.host, port: server.port, method, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{"x":1}' : undefined);
  });
}

describe('ops server over real HTTP', () => {
  it('listens on loopback port 0 by default and reports its URL', async () => {
    const s = await start();
    expect(s.host).toBe('127.0.0.1');
    expect(s.port).toBeGreaterThan(0);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
  });

  it('GET /metrics serves Prometheus text with the registry content type; several registries are joined', async () => {
    const other = createMetricsRegistry({ app: 'host' });
    createCounter(other, { name: 'edgebox_host_reloads_total', help: 'r' });
    const empty = createMetricsRegistry({ app: 'empty' });
    const s = await start({ registries: [createMetricsRegistry({ app: 'demo' }), other, empty] });
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toContain('edgebox_host_reloads_total{app="host"} 0');
    const single = await start();
    expect(await (await fetch(`${single.url}/metrics?x=1`)).text()).toContain('edgebox_demo_ticks_total{app="demo"} 2');
  });

  it('GET /health is 200 for ok and degraded, 503 for failing, with the report as JSON', async () => {
    let report: HealthReport = healthReport([healthCheck('ticker', 'ok')]);
    const s = await start({ health: () => report });
    let res = await fetch(`${s.url}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toMatchObject({ status: 'ok', ready: true, checks: [{ name: 'ticker', status: 'ok' }] });
    report = healthReport([healthCheck('ticker', 'degraded', 'stalled')]);
    res = await fetch(`${s.url}/health`);
    expect(res.status).toBe(200);
    expect((await res.json()) as HealthReport).toMatchObject({ status: 'degraded' });
    report = healthReport([healthCheck('ticker', 'failing', 'dead')]);
    res = await fetch(`${s.url}/health`);
    expect(res.status).toBe(503);
    expect((await res.json()) as HealthReport).toMatchObject({ status: 'failing', checks: [{ message: 'dead' }] });
  });

  it('GET /ready is 200 when ready and 503 otherwise, with the named checks', async () => {
    let ready = false;
    const s = await start({
      ready: async () => healthReport([healthCheck('listener', ready ? 'ok' : 'failing', ready ? undefined : 'not bound')]),
    });
    let res = await fetch(`${s.url}/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, status: 'failing', checks: [{ name: 'listener', message: 'not bound' }] });
    ready = true;
    res = await fetch(`${s.url}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true });
    const derived = await start({ health: () => healthReport([healthCheck('x', 'degraded')], false) });
    expect((await fetch(`${derived.url}/ready`)).status).toBe(503);
  });

  it('GET /status serves the status JSON ({} without a status function)', async () => {
    const s = await start({ status: () => ({ ticks: 3, nested: { ok: true } }) });
    expect(await (await fetch(`${s.url}/status`)).json()).toEqual({ ticks: 3, nested: { ok: true } });
    const bare = await start();
    expect(await (await fetch(`${bare.url}/status`)).json()).toEqual({});
  });

  it('unknown paths are 404 and other methods 405, both with the error envelope', async () => {
    const s = await start();
    const nf = await fetch(`${s.url}/nope`);
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ error: { code: 'RUNTIME_NOT_FOUND', message: 'no ops endpoint /nope: try /metrics, /health, /ready or /status' } });
    const proto = await fetch(`${s.url}/__proto__`);
    expect(proto.status).toBe(404);
    const post = await raw(s, 'POST', '/metrics');
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    expect(JSON.parse(post.body)).toEqual({ error: { code: 'RUNTIME_METHOD_NOT_ALLOWED', message: 'POST /metrics is not allowed: expected GET or HEAD' } });
  });

  it('HEAD answers like GET without a body', async () => {
    const s = await start();
    const head = await raw(s, 'HEAD', '/health');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
  });

  it('a failing handler is a 500 envelope and is reported to onError', async () => {
    const errors: string[] = [];
    const s = await start({
      health: () => {
        throw Object.assign(new Error('probe exploded'), { code: 'DEMO_PROBE' });
      },
      status: () => Promise.reject(new Error('no status')),
      onError: (_err, path) => errors.push(path),
    });
    const res = await fetch(`${s.url}/health`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'DEMO_PROBE', message: 'probe exploded' } });
    expect((await fetch(`${s.url}/status`)).status).toBe(500);
    expect(errors).toEqual(['/health', '/status']);
  });

  it('close() also closes idle keep-alive connections, promptly, and is idempotent', async () => {
    const s = await start();
    const agent = new Agent({ keepAlive: true });
    const res = await raw(s, 'GET', '/health', agent);
    expect(res.status).toBe(200);
    const t0 = performance.now();
    await Promise.all([s.close(), s.close()]);
    expect(performance.now() - t0).toBeLessThan(1000);
    await expect(fetch(`${s.url}/health`)).rejects.toThrow();
    agent.destroy();
  });

  it('a port in use is RUNTIME_LISTEN; bad ports and no registries are RUNTIME_INVALID_ARGUMENT', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(start({ port })).rejects.toMatchObject({ code: 'RUNTIME_LISTEN', details: { port, errno: 'EADDRINUSE' } });
    } finally {
      blocker.close();
    }
    await expect(start({ port: 70000 })).rejects.toMatchObject({ code: 'RUNTIME_INVALID_ARGUMENT' });
    await expect(start({ registries: [] })).rejects.toMatchObject({ code: 'RUNTIME_INVALID_ARGUMENT' });
  });

  it('brackets IPv6 hosts in the URL', async () => {
    const s = await start({ host: '::1' }).catch(() => undefined);
    if (s !== undefined) {
      expect(s.url).toBe(`http://[::1]:${s.port}`);
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
    } else {
      // no IPv6 loopback in this environment: the listen error must still be ours
      await expect(start({ host: '::1' })).rejects.toMatchObject({ code: 'RUNTIME_LISTEN' });
    }
  });
});
