// Script folders and the script environment: order, the safety checks, and validation that
// drops hostile values instead of passing them.
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '@edgebox/events';
import type { EventInit, EventV1 } from '@edgebox/events';
import { assertRunnable, folderOf, listAllScripts, listScripts, scriptEnv } from '../src/scripts.js';
import { isNetevdError } from '../src/errors.js';
import { tempDir, uid, writeScript } from './helpers.js';

const ev = (over: Partial<EventInit> = {}) =>
  createEvent({ id: 7, source: 'netevd', kind: 'link.state', interface: 'eth0', subject: 'eth0', states: { old: 'degraded', new: 'routable' }, addresses: ['10.0.0.2/24', 'fe80::1/64'], data: { backend: 'netlink', ifindex: 3 }, ...over });

describe('scriptEnv', () => {
  it('builds the cleared env from a valid event', () => {
    const { env, dropped } = scriptEnv(ev());
    expect(dropped).toEqual([]);
    expect(Object.keys(env).sort()).toEqual(['ADDRESSES', 'BACKEND', 'JSON', 'LINK', 'LINKINDEX', 'OLDSTATE', 'PATH', 'STATE']);
    expect(env).toMatchObject({ LINK: 'eth0', LINKINDEX: '3', STATE: 'routable', OLDSTATE: 'degraded', BACKEND: 'netlink', ADDRESSES: '10.0.0.2/24 fe80::1/64' });
    expect(JSON.parse(env.JSON!)).toMatchObject({ interface: 'eth0', states: { new: 'routable' } });
  });

  it.each(['$(reboot)', '`id`', 'a;b', 'eth0 x', "it's", 'a|b', 'x&y', 'ü0'])('drops LINK and JSON for the interface %j', (name) => {
    const { env, dropped } = scriptEnv(ev({ interface: name, subject: name }));
    expect(env.LINK).toBeUndefined();
    expect(env.JSON).toBeUndefined();
    expect(dropped).toEqual(expect.arrayContaining(['LINK', 'JSON']));
    expect(Object.values(env).join('\n')).not.toContain(name);
    expect(env.STATE).toBe('routable');
  });

  it('drops an address that is not one (the schema refuses it too; the env does not rely on that)', () => {
    // An event object built without the schema (a bug upstream) still cannot smuggle a value in.
    const forged = { ...ev(), addresses: ['10.0.0.2/24', 'fe80::1%$(x)', '$(reboot)'] } as EventV1;
    const { env, dropped } = scriptEnv(forged);
    expect(env.ADDRESSES).toBe('10.0.0.2/24');
    expect(JSON.parse(env.JSON!).addresses).toEqual(['10.0.0.2/24']);
    expect(dropped).toContain('ADDRESSES(item)');
  });

  it('drops a state, backend or ifindex that fails validation', () => {
    const { env, dropped } = scriptEnv(ev({ states: { new: 'Routable;x' }, data: { backend: 'x y', ifindex: -1 } }));
    expect(env.STATE).toBeUndefined();
    expect(env.BACKEND).toBeUndefined();
    expect(env.LINKINDEX).toBeUndefined();
    expect(dropped).toEqual(expect.arrayContaining(['STATE', 'BACKEND', 'LINKINDEX']));
  });

  it('maps events to folders', () => {
    expect(folderOf(ev())).toBe('routable');
    expect(folderOf(ev({ kind: 'route.changed', interface: undefined, states: { new: 'changed' } }))).toBe('routes');
    expect(folderOf(ev({ states: { new: '../etc' } }))).toBeUndefined();
  });
});

describe('script folders', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    await writeScript(dir, 'routable', '20-b', '#!/bin/sh\n');
    await writeScript(dir, 'routable', '10-a', '#!/bin/sh\n');
    await writeScript(dir, 'routable', 'a-last', '#!/bin/sh\n');
    await writeScript(dir, 'routable', '30-group-writable', '#!/bin/sh\n', 0o775);
    await writeScript(dir, 'routable', '40-not-exec', '#!/bin/sh\n', 0o644);
    await writeScript(dir, 'routable', '.swp', '#!/bin/sh\n');
    await symlink(join(dir, 'routable.d', '10-a'), join(dir, 'routable.d', '50-link'));
    await mkdir(join(dir, 'routable.d', '60-dir'));
    await writeScript(dir, 'no-carrier', '10-x', '#!/bin/sh\n');
    await mkdir(join(dir, 'junk'));
    await writeFile(join(dir, 'netevd.yaml'), '');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists a folder sorted with a verdict for each file', async () => {
    const list = await listScripts(dir, 'routable', uid);
    expect(list.map((s) => s.name)).toEqual(['10-a', '20-b', '30-group-writable', '40-not-exec', '50-link', '60-dir', 'a-last']);
    const verdict = Object.fromEntries(list.map((s) => [s.name, s.problem]));
    expect(verdict['10-a']).toBeNull();
    expect(verdict['30-group-writable']).toMatch(/group or other writable/);
    expect(verdict['40-not-exec']).toMatch(/not executable/);
    expect(verdict['50-link']).toMatch(/symbolic link/);
    expect(verdict['60-dir']).toMatch(/not a regular file/);
  });

  it('refuses a script owned by someone else', async () => {
    const list = await listScripts(dir, 'routable', uid + 1);
    expect(list.find((s) => s.name === '10-a')!.problem).toMatch(/owned by uid/);
    await expect(assertRunnable(join(dir, 'routable.d', '10-a'), uid + 1)).rejects.toSatisfy((e) => isNetevdError(e, 'NETEVD_SCRIPT_UNSAFE'));
    await expect(assertRunnable(join(dir, 'routable.d', '10-a'), uid)).resolves.toBeUndefined();
  });

  it('lists every state folder, and nothing for a missing one', async () => {
    const all = await listAllScripts(dir, uid);
    expect(new Set(all.map((s) => s.state))).toEqual(new Set(['no-carrier', 'routable']));
    expect(await listScripts(dir, 'carrier', uid)).toEqual([]);
    expect(await listAllScripts(join(dir, 'none'), uid)).toEqual([]);
  });

  it('an other-writable folder entry is refused even when executable', async () => {
    const p = await writeScript(dir, 'carrier', '10-ow', '#!/bin/sh\n');
    await chmod(p, 0o757);
    expect((await listScripts(dir, 'carrier', uid))[0]!.runnable).toBe(false);
  });
});

describe('script folder safety', () => {
  it('a group- or other-writable folder runs none of its scripts', async () => {
    const dir = await tempDir();
    await writeScript(dir, 'routable', '10-a', '#!/bin/sh\n');
    await chmod(join(dir, 'routable.d'), 0o777);
    const [s] = await listScripts(dir, 'routable', uid);
    expect(s!.runnable).toBe(false);
    expect(s!.problem).toMatch(/folder .*routable\.d mode 0777 is group or other writable/);
    await chmod(join(dir, 'routable.d'), 0o755);
    expect((await listScripts(dir, 'routable', uid))[0]!.runnable).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });

  it('a symlinked folder runs none of its scripts', async () => {
    const dir = await tempDir();
    await writeScript(dir, 'elsewhere', '10-a', '#!/bin/sh\n');
    await symlink(join(dir, 'elsewhere.d'), join(dir, 'routable.d'));
    expect((await listScripts(dir, 'routable', uid))[0]!.problem).toMatch(/not a real directory/);
    await rm(dir, { recursive: true, force: true });
  });
});
