// A writer killed with SIGKILL in the middle of saving never leaves an unloadable book: the
// next load finds the last or the previous committed version, and reports nothing corrupt.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAddressBook } from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgebox-peers-crash-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function runAndKill(path: string, killAfter: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@edgebox/source', '--import', 'tsx', join(import.meta.dirname, 'fixtures', 'crash-writer.ts'), path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let committed = 0;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = chunk.trim().split('\n');
      committed = Number(lines.at(-1));
      if (committed >= killAfter) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(committed) : reject(new Error(`writer exited with ${String(_code)}`))));
  });
}

describe('address book killed mid-write', () => {
  it('loads a committed version after SIGKILL at arbitrary points, three times over', async () => {
    const path = join(dir, 'peers.json');
    let previous = 0;
    for (const killAfter of [40, 90, 150]) {
      const committed = await runAndKill(path, killAfter);
      const book = await openAddressBook({ path, autoSaveDelayMs: false });
      const report = book.status().lastLoad!;
      expect(report.problems.filter((p) => p.kind !== 'missing')).toEqual([]);
      expect(report.source).toBe('main');
      // the child may have committed more than it printed before dying, never less
      expect(book.size).toBeGreaterThanOrEqual(committed);
      expect(book.size).toBeGreaterThan(previous);
      // peers are exactly 0..n-1 in order: no torn or mixed file
      expect(book.list().map((p) => p.metadata.n)).toEqual(Array.from({ length: book.size }, (_, i) => String(i)));
      previous = book.size;
      await book.close();
    }
  }, 60_000);
});
