/** Human-readable result table printed by every bench (the JSON file is for machines). */
import type { BenchRow } from './types.js';

const HEADERS = ['name', 'value', 'unit', 'kind', 'ratio'] as const;

function formatValue(v: number | null): string {
  if (v === null) return 'n/a';
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/**
 * A plain-text table with columns name / value / unit / kind / ratio. The ratio column is
 * value / value of the row named by `ratioTo` (e.g. node:crypto vs noble, edgebox vs a peer);
 * failed rows show `n/a` and their error below the table.
 *
 * @example console.log(formatTable(rows));
 */
export function formatTable(rows: readonly BenchRow[]): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const cells = rows.map((r) => {
    const other = r.ratioTo === undefined ? undefined : byName.get(r.ratioTo);
    const ratio = r.value !== null && other?.value != null && other.value !== 0 ? `${(r.value / other.value).toFixed(2)}x ${other.name}` : '';
    return [r.name, formatValue(r.value), r.unit, r.kind, ratio];
  });
  const widths = HEADERS.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const out = [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  for (const r of rows) if (r.error !== undefined) out.push(`! ${r.name}: ${r.error}`);
  return out.join('\n');
}
