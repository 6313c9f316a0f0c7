/**
 * zod issues → {@link ConfigIssue}s an operator can act on: the path, the offending value
 * (redacted under secret-looking keys) and the expectation in words.
 *
 *   tunnel.listen.port: 70000 is not valid: expected integer <= 65535
 *   tunnel.mode: "fast" is not valid: expected one of "udp", "tcp"
 *   tunnel.lisen: unknown key: expected one of listen, peers (did you mean "listen"?)
 *   tunnel.psk: [REDACTED] is not valid: expected at least 32 characters
 *   tunnel.peers: missing: expected array
 */
import type { z } from 'zod';
import type { ConfigIssue } from './errors.js';
import { isSecretPath, redactConfig, REDACTED } from './redact.js';
import { isIntegerAt, knownKeysAt } from './schema-walk.js';

type ZodIssue = z.core.$ZodIssue;

/** What {@link configIssuesFromZod} needs besides the issues. */
export interface IssueContext {
  /** The schema that produced the issues (for integer/known-key introspection). */
  schema?: unknown;
  /** The data that was validated (values are looked up by path when zod did not report them). */
  data?: unknown;
  /** Prefix for displayed paths: the section an app's own file stands for (`tunnel`). */
  pathPrefix?: string;
  /** Display path → env variable that set it. */
  sources?: ReadonlyMap<string, string>;
}

const IDENT = /^[A-Za-z_$][\w$-]*$/;

/**
 * Dotted path with indices in brackets; `(root)` for the empty path.
 *
 * @example
 * formatPath(['peers', 0, 'port']); // 'peers[0].port'
 */
export function formatPath(path: readonly PropertyKey[], prefix?: string): string {
  let out = prefix ?? '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && IDENT.test(seg)) out += out.length === 0 ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out.length === 0 ? '(root)' : out;
}

/**
 * A value as shown in a message: strings quoted, objects as short JSON, at most 80 characters.
 *
 * @example
 * formatValue('fast'); // '"fast"'
 */
export function formatValue(value: unknown): string {
  let text: string;
  if (value === undefined) text = 'undefined';
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
  else if (value instanceof Date) text = Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** zod issues → config issues (an unknown-keys issue becomes one issue per key). */
export function configIssuesFromZod(issues: readonly ZodIssue[], ctx: IssueContext = {}): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(ctx.schema, issue.path);
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        out.push(build(path, valueAt(ctx.data, path), unknownKeyExpectation(key, known), ctx, 'unknown key'));
      }
      continue;
    }
    const value = 'input' in issue && issue.input !== undefined ? issue.input : valueAt(ctx.data, issue.path);
    const missing = value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union');
    out.push(build(issue.path, value, expectation(issue, ctx.schema), ctx, missing ? 'missing' : undefined));
  }
  return out;
}

function build(path: readonly PropertyKey[], value: unknown, expected: string, ctx: IssueContext, what?: string): ConfigIssue {
  const display = formatPath(path, ctx.pathPrefix);
  const shown = isSecretPath(path) && value !== undefined ? REDACTED : redactConfig(value);
  const head = what ?? `${shown === REDACTED ? REDACTED : formatValue(shown)} is not valid`;
  const source = ctx.sources?.get(display);
  const message = `${display}: ${head}: expected ${expected}${source === undefined ? '' : ` (from ${source})`}`;
  const issue: ConfigIssue = { path: display, value: shown, expected, message };
  if (source !== undefined) issue.source = source;
  return issue;
}

/** The value at `path` in plain data (undefined when absent). */
export function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let node = data;
  for (const seg of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    if (node instanceof Map) node = node.get(seg);
    else node = Object.hasOwn(node, seg) ? (node as Record<PropertyKey, unknown>)[seg] : undefined;
  }
  return node;
}

function unknownKeyExpectation(key: string, known: string[]): string {
  if (known.length === 0) return 'no such key';
  const list = known.length > 12 ? `${known.slice(0, 12).join(', ')}, ...` : known.join(', ');
  const near = nearest(key, known);
  return `one of ${list}${near === undefined ? '' : ` (did you mean "${near}"?)`}`;
}

function expectation(issue: ZodIssue, schema: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.expected === 'int' || (issue.expected === 'number' && isIntegerAt(schema, issue.path))) return 'integer';
      return String(issue.expected);
    }
    case 'too_big':
    case 'too_small': {
      const big = issue.code === 'too_big';
      const limit = big ? issue.maximum : issue.minimum;
      const inclusive = issue.inclusive ?? true;
      switch (issue.origin) {
        case 'number':
        case 'int':
        case 'bigint': {
          const noun = issue.origin !== 'number' || isIntegerAt(schema, issue.path) ? 'integer' : 'number';
          return `${noun} ${big ? '<' : '>'}${inclusive ? '=' : ''} ${String(limit)}`;
        }
        case 'string':
        case 'array':
        case 'set':
        case 'file': {
          const unit = issue.origin === 'string' ? 'character' : issue.origin === 'file' ? 'byte' : 'item';
          const n = Number(limit);
          const plural = n === 1 ? unit : `${unit}s`;
          if (issue.exact === true) return `exactly ${n} ${plural}`;
          return `${big ? 'at most' : 'at least'} ${inclusive ? n : big ? n - 1 : n + 1} ${plural}`;
        }
        case 'date':
          return `a date ${big ? '<' : '>'}${inclusive ? '=' : ''} ${new Date(Number(limit)).toISOString()}`;
        default:
          return issue.message;
      }
    }
    case 'invalid_format': {
      const f = issue as z.core.$ZodStringFormatIssues;
      switch (f.format) {
        case 'regex':
          return `a string matching ${f.pattern}`;
        case 'starts_with':
          return `a string starting with ${JSON.stringify(f.prefix)}`;
        case 'ends_with':
          return `a string ending with ${JSON.stringify(f.suffix)}`;
        case 'includes':
          return `a string including ${JSON.stringify(f.includes)}`;
        default:
          return `a valid ${f.format}`;
      }
    }
    case 'not_multiple_of':
      return `a multiple of ${issue.divisor}`;
    case 'invalid_value':
      return issue.values.length === 1 ? formatValue(issue.values[0]) : `one of ${issue.values.map(formatValue).join(', ')}`;
    case 'invalid_union': {
      if (issue.inclusive === false) return 'exactly one of the allowed forms (it matches several)';
      if (issue.discriminator !== undefined && issue.options !== undefined && issue.options.length > 0) {
        const options = issue.options.map(formatValue).join(', ');
        // zod 4 points the path at the discriminator key itself
        return issue.path.at(-1) === issue.discriminator ? `one of ${options}` : `an object whose ${issue.discriminator} is one of ${options}`;
      }
      const forms = new Set<string>();
      for (const branch of issue.errors) {
        const top = branch.find((b) => b.path.length === 0);
        if (top !== undefined) forms.add(expectation(top, undefined));
        else if (branch.length > 0) forms.add('a matching object');
      }
      return forms.size > 0 ? [...forms].join(' or ') : 'one of the allowed forms';
    }
    default:
      return issue.message;
  }
}

/** The known key closest to `key` (case/underscore-insensitive, or edit distance <= 2). */
function nearest(key: string, known: string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const k = norm(key);
  let best: string | undefined;
  let bestD = 3;
  for (const cand of known) {
    const d = cand === key ? 99 : norm(cand) === k ? 0 : editDistance(k, norm(cand));
    if (d < bestD) {
      best = cand;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
