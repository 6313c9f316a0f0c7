/**
 * App hosting with real child processes: a killed app is restarted (with its restart counted),
 * an app that keeps failing stops at the crash-loop limit, stop() ends every child within the
 * deadline, and an operator's start clears a crash-loop.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@edgebox/runtime';
import { validateAppliance } from '../src/config/appliance-config.js';
import { createSupervisor } from '../src/hosting/supervisor.js';
import type { Supervisor } from '../src/hosting/supervisor.js';
import { loopbackDocument, loopbackSupervisor, tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function started(apps: readonly string[]): Promise<{ sup: Supervisor; dir: string }> {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  const sup = await loopbackSupervisor(dir, apps);
  cleanups.push(() => sup.stop(3000));
  await sup.start();
  return { sup, dir };
}

describe('hosting', () => {
  it('restarts an app whose process was killed and reports the restart', async () => {
    const { sup } = await started(['p2p']);
    const before = sup.app('p2p');
    expect(before).toMatchObject({ state: 'running', restarts: 0 });
    process.kill(before.pid!, 'SIGKILL');
    await sup.waitFor('p2p', ['backoff', 'starting']);
    const after = await sup.waitFor('p2p', ['running'], 30_000);
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(1);
    expect(after.lastError).toMatchObject({ code: 'SUPERVISOR_CHILD', message: expect.stringContaining('SIGKILL') });
    const kinds = sup.bus.since('0').entries.filter((e) => e.event.source === 'supervisor' && e.event.subject === 'p2p').map((e) => e.event.states?.new);
    expect(kinds).toEqual(expect.arrayContaining(['running', 'backoff', 'starting']));
    expect(alive(before.pid!)).toBe(false);
  });

  it('stops restarting at the crash-loop limit; a manual start clears it', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const doc = loopbackDocument(dir, ['tunnel']);
    // certificate files outside the data dir that do not exist: every start fails
    (doc['tunnel'] as { pki: object }).pki = { ca: '/nonexistent/ca.pem', cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' };
    const config = await validateAppliance(doc, { env: {} });
    const sup = createSupervisor({ config, isRoot: false, spawn: { stdio: 'ignore' }, logger: createLogger({ app: 'supervisor', silent: true }), env: {} });
    cleanups.push(() => sup.stop(3000));
    await sup.start();
    const status = await sup.waitFor('tunnel', ['crash-loop'], 60_000);
    // crashLoopMax 3: the 4th failure within the window stops it (3 restarts after the first start)
    expect(status.restarts).toBe(3);
    expect(status.reason).toMatch(/^crash-loop: 4 crashes/);
    // the files are read concurrently: whichever is missing first names itself
    expect(status.lastError).toMatchObject({ code: 'TUNNEL_CONFIG', message: expect.stringMatching(/\/nonexistent\/(ca|cert|key)\.pem: ENOENT/) });
    expect(status.pid).toBeNull();
    await new Promise((r) => setTimeout(r, 400)); // longer than the max backoff: still down
    expect(sup.app('tunnel').state).toBe('crash-loop');
    await expect(sup.startApp('tunnel')).rejects.toMatchObject({ code: 'TUNNEL_CONFIG' });
    expect(['backoff', 'starting']).toContain(sup.app('tunnel').state);
  });

  it('stop() ends every child within the deadline', async () => {
    const { sup } = await started(['tunnel', 'p2p']);
    const pids = sup.apps().filter((a) => a.pid !== null).map((a) => a.pid!);
    expect(pids).toHaveLength(2);
    const t0 = Date.now();
    await sup.stop(3000);
    expect(Date.now() - t0).toBeLessThan(3000 + 2000);
    expect(pids.filter(alive)).toEqual([]);
    expect(sup.apps().map((a) => a.state)).toEqual(['disabled', 'stopped', 'disabled', 'stopped']);
  });

  it('stop, start and restart one app', async () => {
    const { sup } = await started(['p2p']);
    const pid = sup.app('p2p').pid!;
    expect(await sup.stopApp('p2p')).toMatchObject({ state: 'stopped', pid: null });
    expect(alive(pid)).toBe(false);
    expect(await sup.startApp('p2p')).toMatchObject({ state: 'running' });
    const pid2 = sup.app('p2p').pid!;
    expect(await sup.restartApp('p2p')).toMatchObject({ state: 'running', restarts: 0 });
    expect(sup.app('p2p').pid).not.toBe(pid2);
    await expect(sup.startApp('bonding')).rejects.toMatchObject({ code: 'SUPERVISOR_APP_DISABLED' });
  });
});
