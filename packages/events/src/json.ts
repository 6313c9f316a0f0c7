/**
 * JSON value types and the check that event data is plain, bounded JSON: what survives
 * `JSON.stringify` → IPC → `JSON.parse` unchanged (events.md §3). Depth is bounded before
 * anything recurses deeply, so hostile input cannot overflow the stack.
 */

/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object (event `data`). */
export type JsonObject = { [key: string]: JsonValue };

/** Where and why a value is not plain JSON. */
export interface JsonProblem {
  path: (string | number)[];
  value: unknown;
  expected: string;
}

/**
 * True for `{}`-like objects: the prototype is Object.prototype or null (not Date, Map, class instances).
 *
 * @example isPlainObject({ a: 1 }); // true; isPlainObject(new Date()) is false
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The first place `value` is not plain JSON within `maxDepth` levels (the root is level 1),
 * or undefined when it is. `undefined` object properties are allowed (JSON omits them);
 * `undefined` array items, NaN, ±Infinity, bigint, functions, symbols and non-plain objects
 * are not.
 *
 * @example findJsonProblem({ at: new Date() }, 16); // { path: ['at'], value: Date, expected: 'a plain JSON object' }
 */
export function findJsonProblem(value: unknown, maxDepth: number, path: (string | number)[] = []): JsonProblem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { path, value, expected: 'a finite number' };
    case 'object':
      if (value === null) return undefined;
      if (path.length >= maxDepth) return { path, value, expected: `nesting at most ${maxDepth} levels deep` };
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) return { path: [...path, i], value: item, expected: 'a JSON value' };
          const p = findJsonProblem(item, maxDepth, [...path, i]);
          if (p !== undefined) return p;
        }
        return undefined;
      }
      if (!isPlainObject(value)) return { path, value, expected: 'a plain JSON object' };
      for (const key of Object.keys(value)) {
        const item = value[key];
        if (item === undefined) continue;
        const p = findJsonProblem(item, maxDepth, [...path, key]);
        if (p !== undefined) return p;
      }
      return undefined;
    default:
      return { path, value, expected: 'a JSON value' };
  }
}
