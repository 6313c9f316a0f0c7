/** Summary statistics for benchmark samples. */

/**
 * Median of the samples (mean of the two middle ones for an even count). Ignores NaN.
 * Throws a RangeError for no finite samples: a benchmark without a measurement is a bug.
 *
 * @example median([3, 1, 2]) // 2
 */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) throw new RangeError('median of 0 samples');
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/**
 * Round to `digits` significant digits (tables and JSON stay readable; medians of noisy runs
 * carry no more precision than that).
 *
 * @example roundSignificant(1234.567, 4) // 1235
 */
export function roundSignificant(value: number, digits = 4): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  return Number(value.toPrecision(digits));
}
