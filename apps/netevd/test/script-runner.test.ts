// runScript for real (no root needed): exit status, output capture and its cap, no shell, and a
// hanging script killed at its timeout together with the children it left in its group.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../src/script-runner.js';
import { tempDir, waitFor, writeScript } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('runScript', () => {
  it('passes exactly the env given and captures stdout and stderr', async () => {
    const p = await writeScript(dir, 'routable', '10-env', '#!/bin/sh\necho "link=$LINK home=${HOME-unset}"\necho oops >&2\nexit 3\n');
    const r = await runScript(p, { PATH: '/usr/bin:/bin', LINK: 'eth0' });
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('link=eth0 home=unset\n');
    expect(r.stderr).toBe('oops\n');
    expect(r.timedOut).toBe(false);
  });

  it('caps output and counts what it dropped', async () => {
    const p = await writeScript(dir, 'routable', '20-loud', '#!/bin/sh\nhead -c 5000 /dev/zero | tr "\\0" x\n');
    const r = await runScript(p, { PATH: '/usr/bin:/bin' }, { outputMaxBytes: 1000 });
    expect(r.ok).toBe(true);
    expect(r.stdout.length).toBe(1000);
    expect(r.truncatedBytes).toBe(4000);
  });

  it('runs a file named with shell metacharacters as a path, no shell involved', async () => {
    const marker = join(dir, 'injected');
    const name = `30-$(touch ${marker.replaceAll('/', '_')});x`;
    const p = await writeScript(dir, 'routable', name, '#!/bin/sh\necho ran\n');
    const r = await runScript(p, { PATH: '/usr/bin:/bin' });
    expect(r.ok).toBe(true);
    expect(r.stdout).toBe('ran\n');
    expect(existsSync(marker)).toBe(false);
  });

  it('kills a hanging script and the children of its process group at the timeout', async () => {
    const pidFile = join(dir, 'child.pid');
    const p = await writeScript(dir, 'routable', '40-hang', `#!/bin/sh\nsleep 300 &\necho $! > '${pidFile}'\ntrap '' TERM\nsleep 300\n`);
    const t0 = Date.now();
    const r = await runScript(p, { PATH: '/usr/bin:/bin' }, { timeoutMs: 300, killGraceMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.ok).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5000);
    const child = Number(execFileSync('cat', [pidFile], { encoding: 'utf8' }).trim());
    await waitFor(() => !alive(child), `background child ${child} killed`);
    expect(alive(r.pid!)).toBe(false);
  });

  it('reports a script that cannot start', async () => {
    const r = await runScript(join(dir, 'nope'), { PATH: '/bin' });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/ENOENT/);
  });
});
