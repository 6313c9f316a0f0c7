// Lifecycle as root: destroy and gc leave no namespace of the run; a SIGKILLed owner's lab is
// collected by gc while live labs are left alone; SIGTERM tears a lab down through its own
// handlers; spawned processes die with the lab; the CLI; non-root gets NETLAB_NOT_ROOT.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, gc, listNamespaces, listRuns, stateDir } from '@edgebox/netlab';
import type { LabInfo } from '@edgebox/netlab';
import { liveLabCount } from '../src/cleanup.js';
import { reportNotRoot, root } from './root-gate.js';

reportNotRoot();

const here = new URL('.', import.meta.url).pathname;
const tsNode = (file: string, args: string[] = []) => [process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', file, ...args]] as const;
const children = new Set<ChildProcess>();

function start(file: string, args: string[] = []): ChildProcess {
  const [cmd, argv] = tsNode(file, args);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function firstLine(child: ChildProcess, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no output within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before printing; stderr: ${err}`));
    });
    // A child that cannot even be spawned (e.g. uid 65534 cannot execute a node binary under
    // /root) must fail the test at once and say so, not time out.
    child.once('error', (spawnError) => {
      clearTimeout(timer);
      reject(new Error(`could not spawn ${child.spawnfile}: ${spawnError.message}`));
    });
  });
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

/** Lab namespaces created since `before` that no other live process owns (i.e. our leftovers). */
async function leftoversSince(before: readonly string[]): Promise<string[]> {
  const others = new Set(listRuns().filter((r) => r.ownerPid !== process.pid).flatMap((r) => r.namespaces));
  return (await listNamespaces()).filter((n) => n.startsWith('ebx-') && !before.includes(n) && !others.has(n));
}

async function namespacesOf(runId: string): Promise<string[]> {
  return (await listNamespaces()).filter((n) => n.startsWith(`ebx-${runId}-`));
}

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await gc({ own: true });
  await gc(); // the SIGKILLed fixtures' runs, if a test failed before collecting them
});

describe.runIf(root.ok)('lifecycle', () => {
  it('destroy removes namespaces, processes and the state file, and is idempotent', async () => {
    const lab = await createLab({ nodes: { a: {}, b: {} }, links: [{ name: 'ab', a: { node: 'a' }, b: { node: 'b' } }] });
    const sleeper = lab.spawn('a', 'sleep', ['300']);
    expect(await namespacesOf(lab.runId)).toHaveLength(2);
    expect(existsSync(join(stateDir(), `${lab.runId}.json`))).toBe(true);
    expect(liveLabCount()).toBeGreaterThan(0);
    expect(process.listenerCount('SIGTERM')).toBeGreaterThan(0);
    await lab.destroy();
    await lab.destroy();
    expect(sleeper.signalCode).toBe('SIGTERM');
    expect(await namespacesOf(lab.runId)).toEqual([]);
    expect(existsSync(join(stateDir(), `${lab.runId}.json`))).toBe(false);
    expect(liveLabCount()).toBe(0);
    expect(process.listenerCount('SIGTERM')).toBe(0);
    await expect(lab.exec('a', 'true')).rejects.toMatchObject({ code: 'NETLAB_DESTROYED' });
  });

  it('gc collects a SIGKILLed owner\'s lab and leaves live labs alone', async () => {
    const mine = await createLab({ nodes: { solo: {} } });
    try {
      const child = start(join(here, 'fixtures/hold-lab.ts'));
      const info = JSON.parse(await firstLine(child)) as LabInfo;
      expect(await namespacesOf(info.runId)).toHaveLength(2);
      // While the owner lives, gc must not touch its lab.
      await gc();
      expect(await namespacesOf(info.runId)).toHaveLength(2);
      expect(listRuns().find((r) => r.runId === info.runId)?.ownerAlive).toBe(true);

      child.kill('SIGKILL');
      await exited(child);
      expect(await namespacesOf(info.runId)).toHaveLength(2); // SIGKILL leaves them behind
      expect(listRuns().find((r) => r.runId === info.runId)?.ownerAlive).toBe(false);
      const result = await gc();
      expect(result.runs).toContain(info.runId);
      expect(result.namespaces.sort()).toEqual([`ebx-${info.runId}-a`, `ebx-${info.runId}-b`]);
      expect(await namespacesOf(info.runId)).toEqual([]);
      expect(existsSync(info.stateFile)).toBe(false);
      // This process's own live lab survived the collection.
      expect(await namespacesOf(mine.runId)).toHaveLength(1);
    } finally {
      await mine.destroy();
    }
  });

  it('gc({ own: true }) collects this process\'s labs that were never destroyed', async () => {
    const leaked = await createLab({ nodes: { x: {} } });
    const result = await gc({ own: true, runIds: [leaked.runId] });
    expect(result.runs).toEqual([leaked.runId]);
    expect(await namespacesOf(leaked.runId)).toEqual([]);
    await leaked.destroy(); // still safe
  });

  it('SIGTERM tears the lab down through its own handlers', async () => {
    const child = start(join(here, 'fixtures/hold-lab.ts'));
    const info = JSON.parse(await firstLine(child)) as LabInfo;
    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(await namespacesOf(info.runId)).toEqual([]);
    expect(existsSync(info.stateFile)).toBe(false);
  });

  it('an abort while building leaves nothing behind', async () => {
    const before = await listNamespaces();
    const ac = new AbortController();
    const p = createLab({ nodes: { a: {}, b: {}, c: {}, d: {} } }, { signal: ac.signal });
    setImmediate(() => ac.abort());
    await expect(p).rejects.toMatchObject({ code: 'NETLAB_ABORTED' });
    expect(await leftoversSince(before)).toEqual([]);
    await expect(createLab({ nodes: { a: {} } }, { signal: ac.signal })).rejects.toMatchObject({ code: 'NETLAB_ABORTED' });
  });

  it('a failing build is torn down and names the failing command', async () => {
    const before = await listNamespaces();
    await expect(createLab({ nodes: { a: { sysctls: { 'net.ipv4.no_such_key': 1 } } } })).rejects.toMatchObject({
      code: 'NETLAB_COMMAND_FAILED',
      message: expect.stringContaining('sysctl -q -w net.ipv4.no_such_key=1'),
    });
    expect(await leftoversSince(before)).toEqual([]);
  });

  it('CLI: up prints names and tears down on SIGINT; list and gc run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-cli-'));
    try {
      const specFile = join(dir, 'spec.json');
      writeFileSync(specFile, JSON.stringify({ nodes: { p: {}, q: {} }, links: [{ name: 'pq', a: { node: 'p', ipv4: '10.54.0.1/24' }, b: { node: 'q', ipv4: '10.54.0.2/24' } }] }));
      const cli = join(here, '../src/cli.ts');
      const up = start(cli, ['up', specFile]);
      const info = JSON.parse(await firstLine(up)) as LabInfo;
      expect(info.links.pq?.a.namespace).toBe(`ebx-${info.runId}-p`);
      expect(await namespacesOf(info.runId)).toHaveLength(2);

      const list = start(cli, ['list']);
      let listed = '';
      list.stdout!.on('data', (c: Buffer) => (listed += c.toString()));
      expect((await exited(list)).code).toBe(0);
      expect(listed).toMatch(new RegExp(`${info.runId} pid=\\d+ live ebx-${info.runId}-p`));

      const gcRun = start(cli, ['gc']);
      expect((await exited(gcRun)).code).toBe(0);
      expect(await namespacesOf(info.runId)).toHaveLength(2); // owner alive: untouched

      up.kill('SIGINT');
      expect((await exited(up)).signal).toBe('SIGINT');
      expect(await namespacesOf(info.runId)).toEqual([]);

      const bad = start(cli, ['up', join(dir, 'missing.json')]);
      let err = '';
      bad.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      expect((await exited(bad)).code).toBe(1);
      expect(err).toContain('NETLAB_SPEC_INVALID');
      const usage = start(cli, ['frobnicate']);
      expect((await exited(usage)).code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to run without root, saying why', async () => {
    const [cmd, argv] = tsNode(join(here, 'fixtures/not-root.ts'));
    const child = spawn(cmd, argv, { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: '/tmp' } });
    children.add(child);
    const line = JSON.parse(await firstLine(child)) as { code?: string; message?: string };
    expect(line.code).toBe('NETLAB_NOT_ROOT');
    expect(line.message).toContain('running as uid 65534');
  });
});
