/** Result shapes of shared/BENCH.md. */

/** 'edgebox' for our code, 'peer' for a system we compare against. */
export type BenchKind = 'edgebox' | 'peer';

/** One row of bench-results/<project>.json. */
export interface BenchResult {
  name: string;
  /** Median of `runs` runs; null when the contender failed or was unavailable. */
  value: number | null;
  unit: string;
  kind: BenchKind;
  runs: number;
  /** Why value is null. */
  error?: string;
}

/** A row as printed: optionally compared to another row by name. */
export interface BenchRow extends BenchResult {
  /** Name of the row this one's ratio is computed against (value / other.value). */
  ratioTo?: string;
}

/** The whole file. */
export interface BenchReport {
  project: string;
  date: string;
  node: string;
  host: { cpus: number; model: string };
  results: BenchResult[];
}
