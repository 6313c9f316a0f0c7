// Process helpers of the benches: wait for a line a child prints, stop it (SIGTERM, then SIGKILL).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { jsonLine, stopProcess, waitForLine } from '../src/index.js';

const node = (code: string) => spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });

describe('bench process helpers', () => {
  it('waitForLine resolves on the matching line, split across chunks, and stopProcess ends the child', async () => {
    const child = node(`process.stdout.write('{"msg":"sta'); setTimeout(() => process.stdout.write('rting"}\\nready\\n'), 50); setInterval(() => {}, 1000);`);
    await waitForLine(child, (l) => jsonLine(l)?.msg === 'starting', 5000, 'the starting line');
    await stopProcess(child);
    expect(child.signalCode).toBe('SIGTERM');
  });

  it('rejects when the child exits first or nothing matches in time, naming what was awaited', async () => {
    await expect(waitForLine(node('console.log("bye")'), (l) => l === 'ready', 5000, 'readiness')).rejects.toThrow('process exited before readiness');
    const quiet = node('setInterval(() => {}, 1000)');
    await expect(waitForLine(quiet, () => true, 100, 'a word')).rejects.toThrow('no a word within 100 ms');
    await stopProcess(quiet);
  });

  it('stopProcess kills a child that ignores SIGTERM after the grace period, and is safe on an exited one', async () => {
    const stubborn = node(`process.on('SIGTERM', () => {}); console.log('armed'); setInterval(() => {}, 1000);`);
    await waitForLine(stubborn, (l) => l === 'armed', 5000, 'armed');
    await stopProcess(stubborn, 200);
    expect(stubborn.signalCode).toBe('SIGKILL');
    await stopProcess(stubborn);
    await stopProcess(undefined);
    expect(jsonLine('not json')).toBeUndefined();
    expect(jsonLine('[1]')).toBeUndefined();
  });
});
