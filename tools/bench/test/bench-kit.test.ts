import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildBenchReport, findRepoRoot, formatTable, measureRate, median, roundSignificant, runAlternating, writeBenchResults, type BenchRow } from '../src/index.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'bench-kit-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('median', () => {
  it('odd, even, unsorted, NaN ignored', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
    expect(median([Number.NaN, 7, 9])).toBe(8);
  });
  it('does not reorder the input', () => {
    const v = [3, 1, 2];
    median(v);
    expect(v).toEqual([3, 1, 2]);
  });
  it('throws on no samples', () => {
    expect(() => median([])).toThrow('median of 0 samples');
    expect(() => median([Number.NaN])).toThrow(RangeError);
  });
  it('roundSignificant', () => {
    expect(roundSignificant(1234.567)).toBe(1235);
    expect(roundSignificant(0.0123456, 3)).toBe(0.0123);
    expect(roundSignificant(0)).toBe(0);
  });
});

describe('runAlternating', () => {
  it('alternates the order every round and takes medians', async () => {
    const calls: string[] = [];
    const make = (name: string, values: number[]) => {
      let i = 0;
      return { name, unit: 'MB/s', run: () => (calls.push(name), values[i++]!) };
    };
    const rows = await runAlternating([make('a', [1, 5, 3]), make('b', [10, 30, 20]), { ...make('c', [7, 7, 7]), kind: 'peer' as const, ratioTo: 'a' }], 3);
    expect(calls).toEqual(['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    expect(rows.map((r) => [r.name, r.value, r.runs, r.kind])).toEqual([
      ['a', 3, 3, 'edgebox'],
      ['b', 20, 3, 'edgebox'],
      ['c', 7, 3, 'peer'],
    ]);
    expect(rows[2]!.ratioTo).toBe('a');
    expect(rows[0]!.samples).toEqual([1, 5, 3]);
  });

  it('reports a failing or unavailable contender with value null and the error, and stops running it', async () => {
    let bRuns = 0;
    const rows = await runAlternating(
      [
        { name: 'a', unit: 'x', run: async () => 1 },
        {
          name: 'b',
          unit: 'x',
          kind: 'peer',
          run: () => {
            bRuns++;
            if (bRuns === 2) throw new Error('peer crashed');
            return 2;
          },
        },
        { name: 'c', unit: 'x', kind: 'peer', unavailable: 'openvpn not installed', run: () => 3 },
        { name: 'd', unit: 'x', run: () => Number.NaN },
      ],
      4,
    );
    expect(bRuns).toBe(2);
    expect(rows[0]).toMatchObject({ value: 1, runs: 4 });
    expect(rows[1]).toMatchObject({ name: 'b', value: null, error: 'peer crashed', runs: 1 });
    expect(rows[2]).toMatchObject({ name: 'c', value: null, error: 'openvpn not installed', runs: 0 });
    expect(rows[3]).toMatchObject({ name: 'd', value: null, error: 'run returned NaN, expected a finite number' });
    expect(rows[1]!.error).toBe('peer crashed');
  });

  it('rejects a bad run count', async () => {
    await expect(runAlternating([], 0)).rejects.toThrow('runs 0 is not an integer >= 1');
  });
});

describe('measureRate', () => {
  it('runs at least minIterations and returns calls per second', () => {
    let n = 0;
    const rate = measureRate(() => n++, { durationMs: 5, batch: 4, minIterations: 100 });
    expect(n).toBeGreaterThanOrEqual(100);
    expect(n % 4).toBe(0);
    expect(rate).toBeGreaterThan(0);
  });
});

describe('formatTable', () => {
  it('prints name/value/unit/kind/ratio, n/a and errors for failures', () => {
    const rows: BenchRow[] = [
      { name: 'aead-node-chacha-1400', value: 812.3, unit: 'MB/s', kind: 'edgebox', runs: 5, ratioTo: 'aead-noble-chacha-1400' },
      { name: 'aead-noble-chacha-1400', value: 203.1, unit: 'MB/s', kind: 'edgebox', runs: 5 },
      { name: 'openvpn-tcp', value: null, unit: 'Mbit/s', kind: 'peer', runs: 0, error: 'not installed' },
      { name: 'small', value: 1.234, unit: 'ms', kind: 'edgebox', runs: 1, ratioTo: 'openvpn-tcp' },
      { name: 'mid', value: 12.34, unit: 'ms', kind: 'edgebox', runs: 1 },
    ];
    const t = formatTable(rows).split('\n');
    expect(t[0]).toMatch(/^name\s+value\s+unit\s+kind\s+ratio$/);
    expect(t[1]).toMatch(/^-+ {2}-+/);
    expect(t[2]).toMatch(/^aead-node-chacha-1400\s+812\s+MB\/s\s+edgebox\s+4\.00x aead-noble-chacha-1400$/);
    expect(t[3]).toMatch(/^aead-noble-chacha-1400\s+203\s+MB\/s\s+edgebox$/);
    expect(t[4]).toMatch(/^openvpn-tcp\s+n\/a\s+Mbit\/s\s+peer$/);
    expect(t[5]).toMatch(/^small\s+1\.23\s+ms\s+edgebox$/); // no ratio against a failed row
    expect(t[6]).toMatch(/^mid\s+12\.3\s/);
    expect(t[7]).toBe('! openvpn-tcp: not installed');
  });
});

describe('writeBenchResults', () => {
  it('writes <root>/bench-results/<project>.json in the BENCH.md shape', () => {
    const root = tmp();
    const file = writeBenchResults(
      'crypto',
      [
        { name: 'aead-node-chacha-1400', value: 812.3, unit: 'MB/s', kind: 'edgebox', runs: 5, samples: [1, 2], ratioTo: 'x' } as BenchRow,
        { name: 'peer-x', value: null, unit: 'MB/s', kind: 'peer', runs: 0, error: 'not installed' },
        { name: 'peer-y', value: null, unit: 'MB/s', kind: 'peer', runs: 0 },
      ],
      { root, date: new Date('2026-11-23T10:00:00.123Z') },
    );
    expect(file).toBe(join(root, 'bench-results', 'crypto.json'));
    const report = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(['project', 'date', 'node', 'host', 'results']);
    expect(report).toMatchObject({ project: 'crypto', date: '2026-11-23T10:00:00Z', node: process.version });
    const host = report.host as { cpus: number; model: string };
    expect(host.cpus).toBeGreaterThan(0);
    expect(typeof host.model).toBe('string');
    expect(report.results).toEqual([
      { name: 'aead-node-chacha-1400', value: 812.3, unit: 'MB/s', kind: 'edgebox', runs: 5 },
      { name: 'peer-x', value: null, unit: 'MB/s', kind: 'peer', runs: 0, error: 'not installed' },
      { name: 'peer-y', value: null, unit: 'MB/s', kind: 'peer', runs: 0, error: 'no measurement' },
    ]);
  });

  it('refuses a project name that would escape bench-results/', () => {
    expect(() => writeBenchResults('../x', [], { root: tmp() })).toThrow(/not a lowercase nx project name/);
  });

  it('finds the repo root from a nested folder by the workspaces package.json', () => {
    const root = tmp();
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'r', workspaces: ['packages/*'] }));
    mkdirSync(join(root, 'packages', 'p', 'bench'), { recursive: true });
    writeFileSync(join(root, 'packages', 'p', 'package.json'), JSON.stringify({ name: 'p' }));
    writeFileSync(join(root, 'packages', 'package.json'), '{not json');
    expect(findRepoRoot(join(root, 'packages', 'p', 'bench'))).toBe(root);
  });

  it('the default root is this repository', () => {
    expect(readFileSync(join(findRepoRoot(), 'package.json'), 'utf8')).toContain('"workspaces"');
    expect(buildBenchReport('x', []).results).toEqual([]);
  });
});
