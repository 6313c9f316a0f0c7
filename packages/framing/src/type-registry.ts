/**
 * Optional type registry of the decoders (framing.md §6): which frame types a protocol knows
 * and, per type, which flag bits it allows. Compiled once into a 256-entry table so the hot
 * path does one array load per frame instead of a Set/Map lookup:
 *
 *   table[type] = 0                 unknown type  -> FRAMING_UNKNOWN_TYPE
 *   table[type] = 0x100 | flagMask  known; flags & ~flagMask != 0 -> FRAMING_RESERVED
 */
import { FLAGS_ALL } from './constants.js';
import { invalidArgument } from './errors.js';

/**
 * The types a decoder accepts: a list of type numbers (every flag allowed), or a map
 * type -> allowed flag bits.
 *
 * @example
 * const tunnelTypes: KnownTypes = new Map([[0x10, FLAG_FIN], [0x11, 0], [0x12, FLAG_ACK]]);
 */
export type KnownTypes = Iterable<number> | ReadonlyMap<number, number>;

const KNOWN = 0x100;

function checkByte(field: string, v: unknown): number {
  if (typeof v !== 'number' || (v & 0xff) !== v) throw invalidArgument(field, v, 'an integer in 0..255');
  return v;
}

function isMap(t: KnownTypes): t is ReadonlyMap<number, number> {
  return typeof (t as { get?: unknown }).get === 'function' && typeof (t as { entries?: unknown }).entries === 'function';
}

/** Compile `knownTypes` (undefined = accept every type and flag). Cold: runs at creation. */
export function compileTypeTable(knownTypes: KnownTypes | undefined): Uint16Array | null {
  if (knownTypes === undefined) return null;
  if (knownTypes === null || typeof (knownTypes as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw invalidArgument('knownTypes', knownTypes, 'an iterable of type numbers or a Map type -> flag mask');
  }
  const table = new Uint16Array(256);
  if (isMap(knownTypes)) {
    for (const [type, mask] of knownTypes) table[checkByte('knownTypes type', type)] = KNOWN | checkByte('knownTypes flag mask', mask);
  } else {
    for (const type of knownTypes) table[checkByte('knownTypes type', type)] = KNOWN | FLAGS_ALL;
  }
  return table;
}
