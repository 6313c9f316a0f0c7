/**
 * Read-only introspection of zod 4 schemas through their public `_zod.def`: which schema sits
 * at a config path (to say "integer" rather than "number", to list known keys, to map
 * `EDGEBOX_X__LISTEN_PORT` onto `listenPort`). Anything it does not understand yields
 * undefined; callers then fall back to what the zod issue says.
 */

/** The parts of a zod schema this module reads. */
export interface SchemaNode {
  _zod: { def: SchemaDef };
}

interface SchemaDef {
  type: string;
  shape?: Record<string, SchemaNode>;
  innerType?: SchemaNode;
  in?: SchemaNode;
  element?: SchemaNode;
  valueType?: SchemaNode;
  items?: SchemaNode[];
  rest?: SchemaNode | null;
  options?: SchemaNode[];
  left?: SchemaNode;
  right?: SchemaNode;
  getter?: () => SchemaNode;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional', 'success']);

function isNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && typeof (value as { _zod?: { def?: { type?: unknown } } })._zod?.def?.type === 'string';
}

/**
 * Strips wrappers (optional, default, nullable, readonly, catch), the input side of pipes and
 * lazy getters.
 */
export function unwrapSchema(schema: unknown): SchemaNode | undefined {
  let node: unknown = schema;
  for (let i = 0; i < 32 && isNode(node); i++) {
    const def = node._zod.def;
    if (WRAPPERS.has(def.type)) node = def.innerType;
    else if (def.type === 'pipe') node = def.in;
    else if (def.type === 'lazy' && typeof def.getter === 'function') node = def.getter();
    else return node;
  }
  return undefined;
}

/** The (unwrapped) schema at `path`, or undefined when the path leaves what we understand. */
export function schemaAt(schema: unknown, path: readonly PropertyKey[]): SchemaNode | undefined {
  let node = unwrapSchema(schema);
  for (let i = 0; i < path.length; i++) {
    if (node === undefined) return undefined;
    const key = path[i]!;
    const def = node._zod.def;
    switch (def.type) {
      case 'object':
        node = typeof key === 'string' && def.shape !== undefined && Object.hasOwn(def.shape, key) ? unwrapSchema(def.shape[key]) : undefined;
        break;
      case 'array':
        node = unwrapSchema(def.element);
        break;
      case 'record':
      case 'map':
        node = unwrapSchema(def.valueType);
        break;
      case 'tuple':
        node = typeof key === 'number' ? unwrapSchema(def.items?.[key] ?? def.rest) : undefined;
        break;
      case 'union':
      case 'intersection': {
        const branches = def.type === 'union' ? (def.options ?? []) : [def.left, def.right];
        const rest = path.slice(i);
        for (const b of branches) {
          const found = schemaAt(b, rest);
          if (found !== undefined) return found;
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }
  return node;
}

/** The keys an object schema knows at `path` (empty when not an object schema). */
export function knownKeysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  const node = schemaAt(schema, path);
  if (node === undefined) return [];
  const def = node._zod.def;
  if (def.type === 'object' && def.shape !== undefined) return Object.keys(def.shape);
  if (def.type === 'union' || def.type === 'intersection') {
    const branches = def.type === 'union' ? (def.options ?? []) : [def.left, def.right];
    return [...new Set(branches.flatMap((b) => knownKeysAt(b, [])))];
  }
  return [];
}

/** True when the schema at `path` is an integer number (`z.int()`, `z.number().int()`). */
export function isIntegerAt(schema: unknown, path: readonly PropertyKey[]): boolean {
  const node = schemaAt(schema, path);
  if (node === undefined || node._zod.def.type !== 'number') return false;
  const format = (node as { format?: unknown }).format;
  return typeof format === 'string' && /int/.test(format);
}
