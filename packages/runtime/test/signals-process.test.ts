// handleSignals in real child processes receiving real signals.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/signal-child.ts', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Child {
  proc: ChildProcess;
  lines: string[];
  waitFor(line: string, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  signal(sig: NodeJS.Signals): number;
}

function run(mode: string, deadlineMs = 2000): Child {
  const proc = spawn(process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', fixture, mode, String(deadlineMs)], {
    cwd: pkgDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  let signalledAt = 0;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal, ms: performance.now() - signalledAt }));
  });
  return {
    proc,
    lines,
    exited,
    signal(sig) {
      if (signalledAt === 0) signalledAt = performance.now();
      proc.kill(sig);
      return signalledAt;
    },
    waitFor(line, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for "${line}"; stdout: ${lines.join('|')}; stderr: ${stderr}`)), timeoutMs);
        const check = (): void => {
          if (lines.includes(line)) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

describe('signals in a real child process', () => {
  it('SIGTERM stops gracefully and exits 0', async () => {
    const c = run('ok');
    await c.waitFor('ready');
    c.signal('SIGTERM');
    const { code, signal } = await c.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(c.lines).toContain('stop SIGTERM');
  });

  it('SIGINT stops gracefully and exits 0', async () => {
    const c = run('ok');
    await c.waitFor('ready');
    c.signal('SIGINT');
    expect((await c.exited).code).toBe(0);
    expect(c.lines).toContain('stop SIGINT');
  });

  it('a stop that misses the deadline exits 1 at the deadline and aborts the stop signal', async () => {
    const c = run('hang', 300);
    await c.waitFor('ready');
    c.signal('SIGTERM');
    const { code, ms } = await c.exited;
    expect(code).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(5000);
    expect(c.lines).toEqual(['ready', 'stop SIGTERM', 'deadline']);
  });

  it('a stop that fails exits 1', async () => {
    const c = run('throw');
    await c.waitFor('ready');
    c.signal('SIGTERM');
    expect((await c.exited).code).toBe(1);
  });

  it('a second SIGINT forces exit 1 without waiting for the deadline; a second SIGTERM does not', async () => {
    const c = run('hang', 10_000);
    await c.waitFor('ready');
    c.signal('SIGINT');
    await c.waitFor('stop SIGINT');
    c.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    expect(c.proc.exitCode).toBeNull();
    c.proc.kill('SIGINT');
    const { code, ms } = await c.exited;
    expect(code).toBe(1);
    expect(ms).toBeLessThan(5000);
  });

  it('SIGHUP reloads; SIGHUPs during a reload queue exactly one more', async () => {
    const c = run('slow-reload');
    await c.waitFor('ready');
    c.proc.kill('SIGHUP');
    await c.waitFor('reload-begin 1');
    c.proc.kill('SIGHUP');
    c.proc.kill('SIGHUP');
    c.proc.kill('SIGHUP');
    await c.waitFor('reload-end 2');
    await new Promise((r) => setTimeout(r, 400));
    expect(c.lines.filter((l) => l.startsWith('reload'))).toEqual(['reload-begin 1', 'reload-end 1', 'reload-begin 2', 'reload-end 2']);
    c.signal('SIGTERM');
    expect((await c.exited).code).toBe(0);
  });

  it('dispose() removes the handlers: SIGTERM kills the process the default way', async () => {
    const c = run('dispose');
    await c.waitFor('ready');
    c.signal('SIGTERM');
    expect(await c.exited).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(c.lines).not.toContain('stop SIGTERM');
  });
});
