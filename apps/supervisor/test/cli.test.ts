/**
 * The edgebox CLI in-process: `start` from a config file prints where the API is and runs the
 * apps; `status`, `apps --json`, `app p2p restart` and `events` talk to it; `keys` manage the
 * key file; `config validate` names the issues of a bad file; SIGTERM stops every app.
 */
import { EventEmitter } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@edgebox/runtime';
import type { SignalTarget } from '@edgebox/runtime';
import { stringify } from 'yaml';
import { runEdgeboxCli } from '../src/cli.js';
import { loopbackDocument, tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function io(argv: string[], extra: { signalTarget?: SignalTarget } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const exits: number[] = [];
  return {
    out,
    err,
    exits,
    io: { argv, env: { HOME: '/nonexistent' }, out: (l: string) => out.push(l), err: (l: string) => err.push(l), exit: (c: number) => exits.push(c), logger: createLogger({ app: 'supervisor', silent: true }), ...extra },
  };
}

describe('edgebox CLI', () => {
  it('start, status, apps, app restart, events, keys, SIGTERM', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const file = `${dir}/edgebox.yaml`;
    await writeFile(file, stringify(loopbackDocument(dir, ['p2p'])));
    const signals = new EventEmitter();
    const started = io(['start', '--config', file], { signalTarget: signals as unknown as SignalTarget });
    const running = runEdgeboxCli(started.io);
    const deadline = Date.now() + 60_000;
    while (!started.out.includes('ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(started.out[0]).toMatch(/^edgebox admin API: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/status/);
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(started.out[0]!)![1]!;
    expect(started.out.join('\n')).toMatch(/p2p\s+running/);
    expect(started.out.join('\n')).toMatch(/bonding\s+disabled: not configured/);

    const status = io(['status', '--url', url]);
    expect(await runEdgeboxCli(status.io)).toBe(0);
    expect(status.out.join('\n')).toMatch(/^p2p\s+running\s+\d+/m);
    expect(status.out.join('\n')).toMatch(/^tunnel\s+disabled/m);

    const apps = io(['apps', '--url', url, '--json']);
    expect(await runEdgeboxCli(apps.io)).toBe(0);
    expect((JSON.parse(apps.out.join('\n')) as { name: string }[]).map((a) => a.name)).toEqual(['netevd', 'tunnel', 'bonding', 'p2p']);

    const restart = io(['app', 'p2p', 'restart', '--url', url]);
    expect(await runEdgeboxCli(restart.io)).toBe(0);
    expect(restart.out.join('\n')).toMatch(/p2p\s+running/);

    const unknown = io(['app', 'vpn', 'stop', '--url', url]);
    expect(await runEdgeboxCli(unknown.io)).toBe(1);
    expect(unknown.err.join('\n')).toMatch(/SUPERVISOR_NOT_FOUND/);

    const events = io(['events', '--url', url, '--app', 'supervisor']);
    expect(await runEdgeboxCli(events.io)).toBe(0);
    expect(events.out.join('\n')).toMatch(/supervisor\s+app\.state\s+info\s+p2p running -> stopping/);

    const created = io(['keys', 'create', '--name', 'ci', '--role', 'viewer', '--data-dir', dir]);
    expect(await runEdgeboxCli(created.io)).toBe(0);
    const key = created.out[0]!;
    expect(key).toMatch(/^ebk_[0-9a-f]{8}_/);
    // a key now exists: requests need it, and a viewer cannot stop apps
    const refused = io(['app', 'p2p', 'stop', '--url', url]);
    expect(await runEdgeboxCli(refused.io)).toBe(1);
    expect(refused.err.join('\n')).toMatch(/SUPERVISOR_UNAUTHORIZED/);
    const forbidden = io(['app', 'p2p', 'stop', '--url', url, '--key', key]);
    expect(await runEdgeboxCli(forbidden.io)).toBe(1);
    expect(forbidden.err.join('\n')).toMatch(/SUPERVISOR_FORBIDDEN/);
    const listed = io(['keys', 'list', '--data-dir', dir]);
    expect(await runEdgeboxCli(listed.io)).toBe(0);
    expect(listed.out.join('\n')).toMatch(/ci\s+viewer/);
    expect(await runEdgeboxCli(io(['keys', 'revoke', 'ci', '--data-dir', dir]).io)).toBe(0);

    signals.emit('SIGTERM', 'SIGTERM');
    expect(await running).toBe(0);
    expect(started.out.at(-1)).toBe('stopped');
    expect(started.exits).toEqual([0]);
  });

  it('config validate names each issue; usage errors exit 2', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const file = `${dir}/bad.yaml`;
    await writeFile(file, 'supervisor:\n  api: { port: 99999 }\np2p:\n  identity: {}\n');
    const r = io(['config', 'validate', file]);
    expect(await runEdgeboxCli(r.io)).toBe(1);
    const text = r.err.join('\n');
    expect(text).toMatch(/supervisor\.api\.port: 99999 is not valid: expected integer <= 65535/);
    expect(text).toMatch(/p2p\.identity\.keyFile: missing/);
    expect(await runEdgeboxCli(io(['frobnicate']).io)).toBe(2);
    expect(await runEdgeboxCli(io(['keys', 'create', '--data-dir', dir]).io)).toBe(2);
  });
});
