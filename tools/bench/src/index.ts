/**
 * @edgebox/bench: the helpers every project's benchmark uses so that all of them measure and
 * report the same way (shared/BENCH.md): median of runs, contenders run alternately, one
 * table format, one JSON file per project in bench-results/.
 */
export { median, roundSignificant } from './stats.js';
export { runAlternating, measureRate, type Contender, type AlternatingResult } from './alternate.js';
export { formatTable } from './table.js';
export { writeBenchResults, buildBenchReport, findRepoRoot, type WriteBenchResultsOptions } from './results.js';
export { waitForLine, jsonLine, stopProcess } from './process.js';
export type { BenchKind, BenchResult, BenchRow, BenchReport } from './types.js';
