/**
 * The admin API over HTTP against real app processes (tunnel, p2p, netevd on loopback, no
 * root): status and apps, resources passed through, the error envelope, the OpenAPI document,
 * /metrics from every running app, /health and /ready, SSE with filters and resume, config
 * validate/apply (an invalid document changes nothing).
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { Validator, type SpecData } from '@seriousme/openapi-schema-validator';
import { createAdminApi, CONTROLLERS } from '../src/api/admin-api.js';
import type { AdminApi } from '../src/api/admin-api.js';
import type { Supervisor } from '../src/hosting/supervisor.js';
import { loopbackDocument, loopbackSupervisor, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let sup: Supervisor;
let api: AdminApi;

const get = async (path: string, init?: RequestInit): Promise<{ status: number; body: unknown; text: string; type: string | null }> => {
  const res = await fetch(`${api.url}${path}`, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, body, text, type: res.headers.get('content-type') };
};

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  sup = await loopbackSupervisor(dir, ['tunnel', 'p2p', 'netevd']);
  await sup.start();
  api = await createAdminApi({ supervisor: sup });
}, 90_000);

afterAll(async () => {
  await api?.close();
  await sup?.stop(3000);
  await cleanup?.();
});

describe('status and apps', () => {
  it('GET /api/v1/status lists every app with its state', async () => {
    const r = await get('/api/v1/status');
    expect(r.status).toBe(200);
    const body = r.body as { apps: { name: string; state: string; reason: string | null; pid: number | null }[]; api: { auth: string } };
    expect(body.apps.map((a) => a.name).sort()).toEqual(['bonding', 'netevd', 'p2p', 'tunnel']);
    for (const name of ['tunnel', 'p2p', 'netevd']) expect(body.apps.find((a) => a.name === name)).toMatchObject({ state: 'running', pid: expect.any(Number) });
    expect(body.apps.find((a) => a.name === 'bonding')).toMatchObject({ state: 'disabled', reason: expect.stringMatching(/^disabled: not configured/) });
    expect(body.api.auth).toBe('local-open');
  });

  it('GET /api/v1/apps/:name includes the Service status', async () => {
    const r = await get('/api/v1/apps/p2p');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'p2p', state: 'running', service: { state: 'running', status: { running: true, peerId: expect.any(String) } } });
  });

  it('an unknown app is a 404 envelope', async () => {
    const r = await get('/api/v1/apps/vpn');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: { code: 'SUPERVISOR_NOT_FOUND', message: expect.stringContaining('"vpn"') } });
  });

  it('an unknown route is a 404 envelope', async () => {
    const r = await get('/api/v1/nothing-here');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: { code: 'SUPERVISOR_NOT_FOUND' } });
  });
});

describe('resources', () => {
  it('passes tunnel sessions, netevd interfaces and p2p peers through', async () => {
    const sessions = await get('/api/v1/tunnel/sessions');
    expect(sessions.status).toBe(200);
    expect(sessions.body).toEqual([]);
    const streams = await get('/api/v1/tunnel/streams');
    expect(streams.body).toMatchObject({ openStreams: 0, services: [{ name: 'echo', port: 7 }] });
    const ifaces = await get('/api/v1/netevd/interfaces');
    expect(ifaces.status).toBe(200);
    expect(Array.isArray(ifaces.body)).toBe(true);
    const peers = await get('/api/v1/p2p/peers');
    expect(peers).toMatchObject({ status: 200, body: [] });
  });

  it('a resource of a disabled app is 409 with the reason', async () => {
    const r = await get('/api/v1/bonding/links');
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ error: { code: 'SUPERVISOR_APP_DISABLED', message: expect.stringContaining('not configured') } });
  });
});

describe('OpenAPI', () => {
  it('is an OpenAPI 3 document listing every controller route', async () => {
    const r = await get('/api/docs-json');
    expect(r.status).toBe(200);
    const doc = r.body as { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, { responses?: object }>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBeTruthy();
    // Valid against the OpenAPI JSON schema of its version (what code generators and gateways check).
    const validation = await new Validator().validate(structuredClone(doc) as unknown as SpecData);
    expect(validation.errors ?? [], JSON.stringify(validation.errors)).toEqual([]);
    expect(validation.valid).toBe(true);
    const methods = new Map<number, string>([
      [RequestMethod.GET, 'get'],
      [RequestMethod.POST, 'post'],
      [RequestMethod.PUT, 'put'],
      [RequestMethod.DELETE, 'delete'],
    ]);
    let routes = 0;
    for (const controller of CONTROLLERS) {
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const key of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as unknown as Record<string, unknown>)[key];
        if (key === 'constructor' || typeof handler !== 'function') continue;
        const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        if (sub === undefined) continue;
        const method = methods.get(Reflect.getMetadata(METHOD_METADATA, handler) as number)!;
        const path = `/${[base, sub].filter((p) => p !== '' && p !== '/').join('/')}`.replace(/\/+/g, '/').replace(/:(\w+)/g, '{$1}');
        expect(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} in the OpenAPI document`).toBeDefined();
        expect(doc.paths[path]![method]!.responses).toBeDefined();
        routes++;
      }
    }
    expect(routes).toBeGreaterThanOrEqual(24);
    // structurally valid: every operation has responses, every path starts with /
    for (const [path, ops] of Object.entries(doc.paths)) {
      expect(path.startsWith('/')).toBe(true);
      for (const op of Object.values(ops)) expect(Object.keys(op.responses ?? {}).length).toBeGreaterThan(0);
    }
    const docs = await get('/api/docs');
    expect((docs.body as { openapi: string }).openapi).toBe(doc.openapi);
  });
});

describe('metrics and health', () => {
  it('/metrics holds the metrics of every running app and of the supervisor', async () => {
    const r = await get('/metrics');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/text\/plain/);
    for (const app of ['tunnel', 'p2p', 'netevd', 'supervisor']) expect(r.text).toMatch(new RegExp(`^edgebox_${app}_\\w+`, 'm'));
    expect(r.text).toMatch(/app="p2p"/);
    expect(r.text).toMatch(/^process_resident_memory_bytes/m);
  });

  it('/health and /ready carry a named check per app', async () => {
    const h = await get('/health');
    expect(h.status).toBe(200);
    expect((h.body as { checks: { name: string }[] }).checks.map((c) => c.name).sort()).toEqual(['bonding', 'netevd', 'p2p', 'tunnel']);
    const r = await get('/ready');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ready: true });
  });
});

describe('events', () => {
  it('streams supervisor and app events as SSE, filtered, resuming from Last-Event-ID', async () => {
    const ac = new AbortController();
    const res = await fetch(`${api.url}/api/v1/events?app=supervisor,netevd&kind=app.state,link.*`, { headers: { 'last-event-id': '0' }, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const deadline = Date.now() + 15_000;
    while (!(text.includes('event: app.state') && text.includes('"source":"netevd"')) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ac.abort();
    expect(text).toContain('event: app.state');
    expect(text).toMatch(/^id: \S+-\d+$/m);
    expect(text).toContain('"source":"netevd"');
    expect(text).not.toContain('"source":"p2p"');
  });

  it('a bad filter is a 400 envelope', async () => {
    const r = await get('/api/v1/events?colour=red');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'EVENTS_FILTER_SYNTAX' } });
  });
});

describe('config', () => {
  it('GET /api/v1/config redacts secrets', async () => {
    const r = await get('/api/v1/config');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ tunnel: { pki: { key: '[REDACTED]' } }, p2p: { identity: { keyFile: '[REDACTED]' } } });
  });

  it('validate names the path, value and expectation of every issue', async () => {
    const doc = loopbackDocument(dir, ['tunnel', 'p2p']);
    (doc['tunnel'] as { dest: { listen: { port: number } } }).dest.listen.port = 70000;
    (doc['p2p'] as Record<string, unknown>)['listen'] = 'not-a-list';
    const r = await get('/api/v1/config/validate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) });
    expect(r.status).toBe(400);
    const issues = (r.body as { error: { code: string; details: { issues: { path: string; value: unknown; expected: string }[] } } }).error;
    expect(issues.code).toBe('RUNTIME_CONFIG_INVALID');
    expect(issues.details.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'tunnel.dest.listen.port', value: 70000, expected: 'integer <= 65535' }),
        expect.objectContaining({ path: 'p2p.listen', value: 'not-a-list' }),
      ]),
    );
  });

  it('an invalid apply is refused with 400 and nothing changes', async () => {
    const before = await get('/api/v1/config');
    const pidsBefore = sup.apps().map((a) => [a.name, a.pid]);
    const doc = loopbackDocument(dir, ['tunnel']);
    doc['tunnel'] = { role: 'dest' }; // no pki, no dest section
    const r = await get('/api/v1/config', { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: 'tunnel:\n  role: dest\n' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'RUNTIME_CONFIG_INVALID', details: { issues: expect.arrayContaining([expect.objectContaining({ path: 'tunnel.pki' })]) } } });
    expect((await get('/api/v1/config')).body).toEqual(before.body);
    expect(sup.apps().map((a) => [a.name, a.pid])).toEqual(pidsBefore);
    await expect(readFile(`${dir}/edgebox.yaml`, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    // and it was audited
    const audit = await readFile(`${dir}/audit.log`, 'utf8');
    expect(audit).toMatch(/"method":"PUT","path":"\/api\/v1\/config".*"status":400/);
  });

  it('a valid apply reloads what changed and writes the file', async () => {
    const doc = loopbackDocument(dir, ['tunnel', 'p2p', 'netevd']);
    (doc['p2p'] as Record<string, unknown>)['access'] = { defaultAction: 'allow', rules: [] };
    (doc['netevd'] as { debounce?: object })['debounce'] = { waitMs: 10 };
    const r = await get('/api/v1/config', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ applied: true, apps: { tunnel: { outcome: 'unchanged' }, p2p: { outcome: 'reloaded' }, netevd: { outcome: 'reloaded' } } });
    expect(await readFile(`${dir}/edgebox.yaml`, 'utf8')).toContain('waitMs: 10');
  });
});
