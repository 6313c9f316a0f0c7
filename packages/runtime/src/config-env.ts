/**
 * Environment overrides for config: `EDGEBOX_<SECTION>__<KEY>__<SUB>=value`.
 *
 * - A double underscore nests; a single underscore stays inside a name. Names match config
 *   keys case- and underscore-insensitively, preferring keys already in the document, then
 *   keys the schema knows: `EDGEBOX_DEMO__INTERVAL_MS` sets `demo.intervalMs`.
 * - Digits address array elements: `EDGEBOX_P2P__PEERS__0__ADDRESS`.
 * - A value is parsed as JSON when it parses (`70000`, `true`, `["a"]`, `"007"`), else kept as
 *   the string.
 * - Variables without `__` (`EDGEBOX_LOG_LEVEL`, `EDGEBOX_PORT`) are never config.
 * - With `section: 'tunnel'` the document is the tunnel section itself (an app's own file),
 *   and only `EDGEBOX_TUNNEL__...` applies, so the same variable works for the appliance file
 *   and the app's file.
 *
 * The input document is not mutated: containers on an overridden path are copied.
 */
import { formatPath } from './config-issues.js';
import { knownKeysAt } from './schema-walk.js';

/** Prefix of config override variables: `EDGEBOX_<SECTION>__<KEY>`. */
export const DEFAULT_ENV_PREFIX = 'EDGEBOX';

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Options of {@link applyEnvOverrides}. */
export interface EnvOverrideInit {
  env: Readonly<Record<string, string | undefined>>;
  /** Variable prefix (default `EDGEBOX`); a trailing `_` is optional. */
  prefix?: string;
  /** The section the document stands for. */
  section?: string;
  /** Schema used to find key spellings not yet in the document. */
  schema?: unknown;
}

/** One variable that changed the document. */
export interface AppliedOverride {
  /** The variable name. */
  name: string;
  /** The display path it set (`tunnel.listen.port`). */
  path: string;
}

/**
 * Applies every matching variable (in name order) and says which did what.
 *
 * @example
 * applyEnvOverrides({ listen: { port: 1 } }, { env: { EDGEBOX_TUNNEL__LISTEN__PORT: '443' }, section: 'tunnel' });
 * // { data: { listen: { port: 443 } }, applied: [{ name: 'EDGEBOX_TUNNEL__LISTEN__PORT', path: 'tunnel.listen.port' }] }
 */
export function applyEnvOverrides(doc: unknown, init: EnvOverrideInit): { data: unknown; applied: AppliedOverride[] } {
  const prefix = (init.prefix ?? DEFAULT_ENV_PREFIX).replace(/_?$/, '_');
  const section = init.section === undefined ? undefined : norm(init.section);
  const applied: AppliedOverride[] = [];
  let data = doc;
  const names = Object.keys(init.env)
    .filter((n) => n.startsWith(prefix) && n.includes('__', prefix.length))
    .sort();
  for (const name of names) {
    const raw = init.env[name];
    if (raw === undefined) continue;
    let segs = name.slice(prefix.length).split('__');
    if (segs.some((s) => s.length === 0)) continue;
    if (section !== undefined) {
      if (norm(segs[0]!) !== section) continue;
      segs = segs.slice(1);
    }
    if (data === undefined || data === null) data = {};
    if (typeof data !== 'object') continue; // a scalar document: the schema will say so
    const path = resolvePath(data, segs, init.schema);
    if (path === undefined) continue;
    data = setAt(data, path, parseEnvValue(raw));
    applied.push({ name, path: formatPath(path, init.section) });
  }
  return { data, applied };
}

/**
 * JSON when it parses, else the raw string.
 *
 * @example
 * parseEnvValue('70000'); // 70000
 * parseEnvValue('eth0');  // 'eth0'
 */
export function parseEnvValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function norm(s: string): string {
  return s.toLowerCase().replace(/[_-]/g, '');
}

function resolvePath(data: unknown, segs: string[], schema: unknown): PropertyKey[] | undefined {
  const path: PropertyKey[] = [];
  let node: unknown = data;
  for (const seg of segs) {
    let key: PropertyKey;
    if (Array.isArray(node) && /^\d+$/.test(seg)) {
      key = Number(seg);
    } else {
      const n = norm(seg);
      const existing = typeof node === 'object' && node !== null ? Object.keys(node) : [];
      key = existing.find((k) => norm(k) === n) ?? knownKeysAt(schema, path).find((k) => norm(k) === n) ?? seg.toLowerCase();
      if (FORBIDDEN.has(key)) return undefined;
    }
    path.push(key);
    node = typeof node === 'object' && node !== null ? (node as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return path;
}

function setAt(root: unknown, path: PropertyKey[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [key, ...rest] = path as [PropertyKey, ...PropertyKey[]];
  const node = typeof root === 'object' && root !== null ? root : {};
  const copy = (Array.isArray(node) ? [...(node as unknown[])] : { ...node }) as Record<PropertyKey, unknown>;
  const child = Object.hasOwn(copy, key) ? copy[key] : undefined;
  copy[key] = setAt(child, rest, value);
  return copy;
}
