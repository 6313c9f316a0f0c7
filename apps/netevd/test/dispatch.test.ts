// The dispatcher with a recording runner (real scripts run in script-runner and the lab tests):
// debounce per interface (first change at once, the settled one after the quiet time), no run
// when a burst ends where it began, one run at a time per key, retries with backoff, the
// bounded dead-letter list, filters and startup events.
import { afterEach, describe, expect, it } from 'vitest';
import { createEventFactory } from '@edgebox/events';
import type { EventV1, JsonObject } from '@edgebox/events';
import { parseConfig } from '../src/config.js';
import type { NetevdConfigInput } from '../src/config.js';
import { createDispatcher, dispatchKey } from '../src/dispatch.js';
import type { Dispatcher } from '../src/dispatch.js';
import type { ScriptResult } from '../src/script-runner.js';
import { silent, tempDir, uid, writeScript } from './helpers.js';

const factory = createEventFactory({ source: 'netevd' });
const link = (iface: string, state: string, extra: Record<string, unknown> = {}, addresses: string[] = []): EventV1 =>
  factory.create({ kind: 'link.state', interface: iface, subject: iface, states: { new: state }, addresses, data: { backend: 'netlink', ifindex: 2, startup: false, ...extra } as JsonObject });

interface Call {
  path: string;
  env: Record<string, string>;
}

function recorder(outcomes: ((call: Call, n: number) => Partial<ScriptResult>) | undefined = undefined, delayMs = 0) {
  const calls: Call[] = [];
  let running = 0;
  let maxRunning = 0;
  const run = async (path: string, env: Record<string, string>): Promise<ScriptResult> => {
    const call = { path, env };
    calls.push(call);
    running++;
    maxRunning = Math.max(maxRunning, running);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    running--;
    const over = outcomes?.(call, calls.length) ?? {};
    return { path, ok: true, exitCode: 0, signal: null, timedOut: false, error: null, startedAt: new Date().toISOString(), durationMs: 1, pid: 1, stdout: '', stderr: '', truncatedBytes: 0, ...over };
  };
  return { calls, run, maxRunning: () => maxRunning };
}

let d: Dispatcher | undefined;
afterEach(async () => {
  await d?.close();
  d = undefined;
});

async function setup(over: NetevdConfigInput['scripts'] = {}, debounce: NetevdConfigInput['debounce'] = { waitMs: 40, maxWaitMs: 400 }) {
  const dir = await tempDir();
  for (const s of ['routable', 'degraded', 'no-carrier', 'routes']) {
    await writeScript(dir, s, '10-first', '#!/bin/sh\n');
    await writeScript(dir, s, '20-second', '#!/bin/sh\n');
  }
  const config = await parseConfig({ scripts: { dir, ownerUid: uid, ...over }, debounce });
  return { dir, config };
}

describe('dispatcher', () => {
  it('runs the folder in order with the event env; each state once', async () => {
    const { config } = await setup();
    const r = recorder();
    d = createDispatcher({ config, logger: silent, run: r.run });
    d.push(link('eth0', 'routable', {}, ['10.0.0.2/24']));
    await d.idle();
    expect(r.calls.map((c) => c.path.split('/').slice(-2).join('/'))).toEqual(['routable.d/10-first', 'routable.d/20-second']);
    expect(r.calls[0]!.env).toMatchObject({ LINK: 'eth0', STATE: 'routable', ADDRESSES: '10.0.0.2/24' });
  });

  it('a burst runs its first change at once and the settled state once; a burst ending where it began runs nothing more', async () => {
    const { config } = await setup();
    const r = recorder();
    d = createDispatcher({ config, logger: silent, run: r.run });
    for (let i = 0; i < 50; i++) d.push(link('eth0', i % 2 === 0 ? 'no-carrier' : 'routable'));
    d.push(link('eth0', 'degraded'));
    await d.idle();
    const states = r.calls.filter((c) => c.path.endsWith('10-first')).map((c) => c.env.STATE);
    expect(states).toEqual(['no-carrier', 'degraded']);
    const before = r.calls.length;
    d.push(link('eth0', 'routable'));
    d.push(link('eth0', 'degraded'));
    await d.idle();
    // leading routable, then the settled degraded equals... routable ran last: degraded runs again.
    expect(r.calls.slice(before).filter((c) => c.path.endsWith('10-first')).map((c) => c.env.STATE)).toEqual(['routable', 'degraded']);
    expect(d.stats().received).toBe(53);
  });

  it('keys run side by side, one run at a time per key', async () => {
    const { config } = await setup({}, { waitMs: 0, maxWaitMs: 1, leading: true });
    const r = recorder(undefined, 30);
    d = createDispatcher({ config, logger: silent, run: r.run });
    d.push(link('eth0', 'routable'));
    d.push(link('eth1', 'routable'));
    await d.idle();
    expect(r.calls).toHaveLength(4);
    expect(r.maxRunning()).toBe(2);
  });

  it('retries a failing script with backoff, then dead-letters it; the list is bounded', async () => {
    const { config } = await setup({ retries: 2, retryBackoffMs: 20, deadLetterMax: 2 });
    const r = recorder((call) => (call.path.endsWith('10-first') ? { ok: false, exitCode: 1, stderr: 'boom' } : {}));
    d = createDispatcher({ config, logger: silent, run: r.run });
    const t0 = Date.now();
    d.push(link('eth0', 'routable'));
    await d.idle();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(60); // 20 + 40
    expect(r.calls.filter((c) => c.path.endsWith('10-first'))).toHaveLength(3);
    expect(r.calls.filter((c) => c.path.endsWith('20-second'))).toHaveLength(1); // the folder goes on
    expect(d.deadLetters()).toEqual([expect.objectContaining({ code: 'NETEVD_SCRIPT_FAILED', state: 'routable', interface: 'eth0', attempts: 3, exitCode: 1, stderr: 'boom' })]);
    for (const i of ['eth1', 'eth2']) d.push(link(i, 'routable'));
    await d.idle();
    // eth1 and eth2 retry concurrently (one queue per interface), so either may fail last; the
    // bound keeps the two newest and drops eth0's, the oldest.
    expect(d.deadLetters().map((x) => x.interface).sort()).toEqual(['eth1', 'eth2']);
    expect(d.stats()).toMatchObject({ retries: 6, deadLetters: 3 });
    expect(d.clearDeadLetters()).toBe(2);
    expect(d.deadLetters()).toEqual([]);
  });

  it('a timed-out run is dead-lettered with NETEVD_SCRIPT_TIMEOUT', async () => {
    const { config } = await setup();
    const r = recorder(() => ({ ok: false, exitCode: null, signal: 'SIGTERM', timedOut: true }));
    d = createDispatcher({ config, logger: silent, run: r.run });
    d.push(link('eth0', 'degraded'));
    await d.idle();
    expect(d.deadLetters()[0]).toMatchObject({ code: 'NETEVD_SCRIPT_TIMEOUT', timedOut: true });
    expect(d.stats().timeouts).toBe(2);
  });

  it('applies the filter and skips startup events when scripts.startup is false', async () => {
    const { config } = await setup({ filter: 'interface ~ wan*', startup: false });
    const r = recorder();
    d = createDispatcher({ config, logger: silent, run: r.run });
    d.push(link('lan0', 'routable'));
    d.push(link('wan0', 'routable', { startup: true }));
    d.push(link('wan0', 'routable')); // same as the startup state: not a transition
    d.push(link('wan1', 'degraded'));
    await d.idle();
    expect(r.calls.map((c) => `${c.env.LINK} ${c.env.STATE}`)).toEqual(['wan1 degraded', 'wan1 degraded']);
    expect(d.stats().filtered).toBe(2);
  });

  it('route changes run routes.d, each one (ids differ)', async () => {
    const { config } = await setup({}, { waitMs: 0, maxWaitMs: 1 });
    const r = recorder();
    d = createDispatcher({ config, logger: silent, run: r.run });
    d.push(factory.create({ kind: 'route.changed', states: { new: 'changed' }, data: { backend: 'netlink' } }));
    await d.idle();
    expect(r.calls.map((c) => c.path.split('/').at(-2))).toEqual(['routes.d', 'routes.d']);
  });

  it('keys networkd axes apart', () => {
    expect(dispatchKey(link('eth0', 'configured', { backend: 'networkd', stateType: 'administrative' }))).toBe('networkd/administrative/eth0');
    expect(dispatchKey(link('eth0', 'routable', { backend: 'networkd', stateType: 'operational' }))).toBe('networkd/eth0');
  });
});
