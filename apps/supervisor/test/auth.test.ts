/**
 * Auth of the admin API over HTTP: keys required (requireKeys, or once a key exists on
 * loopback) → 401 without or with a bad/revoked key, 403 for a viewer's mutating request,
 * admin allowed; open loopback use without keys; /health stays open; keys hashed at rest;
 * mutating calls audited with the key id.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@edgebox/runtime';
import { createAdminApi, isLoopbackHost } from '../src/api/admin-api.js';
import type { AdminApi } from '../src/api/admin-api.js';
import { openKeyStore } from '../src/auth/key-store.js';
import { validateAppliance } from '../src/config/appliance-config.js';
import { createSupervisor } from '../src/hosting/supervisor.js';
import type { Supervisor } from '../src/hosting/supervisor.js';
import { tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An appliance with no apps (auth does not depend on them) and its API on 127.0.0.1:0. */
async function api(requireKeys: boolean): Promise<{ api: AdminApi; sup: Supervisor; dir: string }> {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  const config = await validateAppliance({ supervisor: { api: { host: '127.0.0.1', port: 0 }, auth: { requireKeys }, dataDir: dir } }, { env: {} });
  const sup = createSupervisor({ config, isRoot: false, logger: createLogger({ app: 'supervisor', silent: true }), env: {} });
  const a = await createAdminApi({ supervisor: sup });
  cleanups.push(() => sup.stop(1000));
  cleanups.push(() => a.close());
  return { api: a, sup, dir };
}

const call = async (a: AdminApi, method: string, path: string, key?: string): Promise<{ status: number; body: { error?: { code: string; message: string } } }> => {
  const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
  const res = await fetch(`${a.url}${path}`, { method, headers });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
};

describe('auth', () => {
  it('with keys required: 401 without a key or with a bad one, 403 for a viewer mutating, admin allowed', async () => {
    const { api: a, dir } = await api(true);
    const keys = openKeyStore(dir);
    const viewer = (await keys.create({ name: 'grafana', role: 'viewer' })).key;
    const admin = (await keys.create({ name: 'ops', role: 'admin' })).key;

    expect(await call(a, 'GET', '/api/v1/status')).toMatchObject({ status: 401, body: { error: { code: 'SUPERVISOR_UNAUTHORIZED' } } });
    expect(await call(a, 'POST', '/api/v1/reload')).toMatchObject({ status: 401, body: { error: { code: 'SUPERVISOR_UNAUTHORIZED' } } });
    expect((await call(a, 'GET', '/api/v1/status', `${viewer.slice(0, -2)}xx`)).status).toBe(401);
    expect((await call(a, 'GET', '/metrics', 'garbage')).status).toBe(401);

    expect((await call(a, 'GET', '/api/v1/status', viewer)).status).toBe(200);
    expect(await call(a, 'POST', '/api/v1/reload', viewer)).toMatchObject({ status: 403, body: { error: { code: 'SUPERVISOR_FORBIDDEN', message: expect.stringContaining('viewer') } } });
    expect(await call(a, 'PUT', '/api/v1/config', viewer)).toMatchObject({ status: 403 });
    expect(await call(a, 'POST', '/api/v1/apps/p2p/stop', viewer)).toMatchObject({ status: 403 });

    expect((await call(a, 'POST', '/api/v1/reload', admin)).status).toBe(200);
    // X-Api-Key works too
    const res = await fetch(`${a.url}/api/v1/status`, { headers: { 'x-api-key': viewer } });
    expect(res.status).toBe(200);

    // probes stay open
    expect((await call(a, 'GET', '/health')).status).toBe(200);

    // a revoked key is refused at once
    await keys.revoke('ops');
    expect((await call(a, 'POST', '/api/v1/reload', admin)).status).toBe(401);

    // hashed at rest; the audit log names the key of each mutating call
    const stored = await readFile(`${dir}/api-keys.json`, 'utf8');
    expect(stored).not.toContain(admin.split('_')[2]);
    expect(stored).not.toContain(viewer.split('_')[2]);
    const audit = (await readFile(`${dir}/audit.log`, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit).toEqual(expect.arrayContaining([expect.objectContaining({ method: 'POST', path: '/api/v1/reload', keyName: 'ops', role: 'admin', status: 200 })]));
    expect(audit).toEqual(expect.arrayContaining([expect.objectContaining({ method: 'POST', path: '/api/v1/reload', keyName: 'grafana', status: 403 })]));
  });

  it('on loopback without keys local use is open; once a key exists it is required', async () => {
    const { api: a, sup, dir } = await api(false);
    expect((await call(a, 'GET', '/api/v1/status')).status).toBe(200);
    expect(sup.status().api.auth).toBe('local-open');
    expect((await call(a, 'POST', '/api/v1/reload')).status).toBe(200);
    await openKeyStore(dir).create({ name: 'first', role: 'admin' });
    expect((await call(a, 'GET', '/api/v1/status')).status).toBe(401);
  });

  it('only loopback addresses count as loopback', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.0.2.1')).toBe(false);
  });
});
