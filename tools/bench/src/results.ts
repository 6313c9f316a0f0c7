/**
 * Writes bench-results/<project>.json at the repository root in exactly the shape of
 * shared/BENCH.md: {project, date, node, host {cpus, model}, results [{name, value, unit,
 * kind, runs, error?}]}. Extra fields on the rows (samples, ratioTo) are left out.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { BenchReport, BenchResult } from './types.js';

/** Options of writeBenchResults(). */
export interface WriteBenchResultsOptions {
  /** Repository root (default: nearest ancestor of cwd whose package.json has workspaces). */
  root?: string;
  /** Timestamp (default now). */
  date?: Date;
}

/**
 * The repository root: the nearest ancestor of `from` whose package.json declares
 * workspaces; falls back to this package's own location (tools/bench/{src,dist} -> ../../..).
 *
 * @example const root = findRepoRoot();
 */
export function findRepoRoot(from: string = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { workspaces?: unknown }).workspaces !== undefined) return dir;
      } catch {
        // unreadable package.json: keep looking upwards
      }
    }
    const up = dirname(dir);
    if (up === dir) return resolve(import.meta.dirname, '../../..');
    dir = up;
  }
}

/**
 * Build the report object (BENCH.md shape) without writing it.
 *
 * @example const report = buildBenchReport('crypto', rows);
 */
export function buildBenchReport(project: string, results: readonly BenchResult[], date: Date = new Date()): BenchReport {
  const cpu = cpus();
  return {
    project,
    date: date.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    node: process.version,
    host: { cpus: cpu.length, model: cpu[0]?.model.trim() ?? 'unknown' },
    results: results.map((r) => {
      const row: BenchResult = { name: r.name, value: r.value, unit: r.unit, kind: r.kind, runs: r.runs };
      if (r.value === null) row.error = r.error ?? 'no measurement';
      else if (r.error !== undefined) row.error = r.error;
      return row;
    }),
  };
}

/**
 * Write `<repo root>/bench-results/<project>.json` and return its path.
 *
 * @example const file = writeBenchResults('crypto', rows);
 */
export function writeBenchResults(project: string, results: readonly BenchResult[], options: WriteBenchResultsOptions = {}): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(project)) throw new RangeError(`project name ${JSON.stringify(project)} is not a lowercase nx project name`);
  const dir = join(options.root ?? findRepoRoot(), 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${project}.json`);
  writeFileSync(file, JSON.stringify(buildBenchReport(project, results, options.date), null, 2) + '\n');
  return file;
}
