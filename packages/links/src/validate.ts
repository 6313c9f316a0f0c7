/**
 * Checks of init options (cold path: factories and setLinks only). Each returns the value or
 * its default, or throws LINKS_INVALID_ARGUMENT naming the field, the value and the range.
 */
import { LinksInvalidArgumentError } from './errors.js';

/** A finite number in [min, max] (default when undefined). */
export function numberIn(field: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_VALUE): number {
  const v = value ?? fallback;
  if (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max) return v;
  throw new LinksInvalidArgumentError(field, v, max === Number.MAX_VALUE ? `a finite number >= ${min}` : `a finite number in ${min}..${max}`);
}

/** A finite number > 0 (default when undefined). */
export function positive(field: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  throw new LinksInvalidArgumentError(field, v, 'a finite number > 0');
}

/** An integer in [min, max] (default when undefined). */
export function integerIn(field: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (Number.isInteger(v) && v >= min && v <= max) return v;
  throw new LinksInvalidArgumentError(field, v, `an integer in ${min}..${max}`);
}
