/**
 * Event filters: a spec object (source/kind/subject/interface globs, minimum severity, a
 * `where` condition), a small condition language, and query-string parsing for
 * `GET /api/v1/events?app=bonding&kind=link.*`. Everything compiles once into a closure tree;
 * matching an event is a few property reads and comparisons, no parsing, no allocation.
 *
 * Condition language (events.md §6):
 *
 *   expr       := or
 *   or         := and (("or" | "||") and)*
 *   and        := not (("and" | "&&") not)*
 *   not        := ("not" | "!") not | "(" expr ")" | test
 *   test       := field [op value | "in" "(" value ("," value)* ")"]    (a bare field: present, not null)
 *   op         := "==" | "=" | "!=" | "~" | "!~" | ">" | ">=" | "<" | "<="
 *   field      := v | id | time | source | kind | severity | subject | interface
 *               | states.old | states.new | addresses[.N] | data(.key)*
 *   value      := number | 'quoted' | "quoted" | bareword | true | false | null
 *
 * `~` is a glob match (compileGlob). Ordering compares numbers, severities (by rank: `severity
 * >= warning`) and `time` (as instants). A field holding an array (`addresses`) matches when
 * any item does. Negations (`!=`, `!~`, `not`) are exact complements: a missing field is `!=`
 * everything.
 */
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, SEVERITIES } from './constants.js';
import { EventsError, describeValue } from './errors.js';
import { compileGlob, compileGlobs, type GlobMatcher } from './glob.js';
import { isSeverity, severityRank, type EventV1, type Severity } from './schema.js';

/** A compiled filter: true to keep the event. */
export type EventFilter = (event: EventV1) => boolean;

/** A filter as data. Every given field must match (AND); globs within one field are OR-ed. */
export interface FilterSpec {
  /** Source globs (`bonding`, `net*`). */
  source?: string | readonly string[];
  /** Kind globs (`link.*`). */
  kind?: string | readonly string[];
  /** Subject globs (`eth*`). */
  subject?: string | readonly string[];
  /** Interface globs (`wan?`). */
  interface?: string | readonly string[];
  /** Minimum severity: `warning` keeps warning and error. */
  severity?: Severity;
  /** A condition in the filter language: `states.new == routable and data.rttMs > 50`. */
  where?: string;
}

/** Anything `compileFilter` accepts: undefined (everything), a condition, a spec or a function. */
export type FilterInput = string | FilterSpec | EventFilter | undefined;

/**
 * The filter that keeps everything (what `compileFilter(undefined)` returns).
 *
 * @example bus.subscribe({ filter: matchAll });
 */
export const matchAll: EventFilter = () => true;

// -- tokens -------------------------------------------------------------------------------

type TokenType = 'word' | 'string' | 'op' | 'punct' | 'end';

interface Token {
  type: TokenType;
  text: string;
  pos: number;
}

const OPS = ['==', '!=', '>=', '<=', '!~', '&&', '||', '=', '~', '>', '<', '!'];
const PUNCT = '()[],';
const WORD_STOP = new Set([...' \t\r\n()[],=!<>~&|\'"']);

function syntaxError(expression: string, pos: number, expected: string, found: string): EventsError {
  return new EventsError('EVENTS_FILTER_SYNTAX', `filter ${describeValue(expression)} at ${pos}: expected ${expected}, found ${found}`, {
    details: { expression: describeValue(expression), position: pos, expected, found },
  });
}

function describeToken(t: Token): string {
  return t.type === 'end' ? 'end of input' : describeValue(t.text);
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      i++;
      continue;
    }
    if (PUNCT.includes(ch)) {
      out.push({ type: 'punct', text: ch, pos: i });
      i++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const start = i;
      let text = '';
      i++;
      for (;;) {
        if (i >= src.length) throw syntaxError(src, start, `a closing ${ch}`, 'end of input');
        const c = src[i]!;
        if (c === ch) break;
        if (c === '\\' && i + 1 < src.length) {
          const n = src[i + 1]!;
          // \n and \t for control characters; any other escaped character stands for itself,
          // except that \* \? \\ stay escaped so globs can match them literally.
          text += n === 'n' ? '\n' : n === 't' ? '\t' : n === '*' || n === '?' || n === '\\' ? `\\${n}` : n;
          i += 2;
          continue;
        }
        text += c;
        i++;
      }
      out.push({ type: 'string', text, pos: start });
      i++;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op !== undefined) {
      out.push({ type: 'op', text: op, pos: i });
      i += op.length;
      continue;
    }
    if (ch === '&' || ch === '|') throw syntaxError(src, i, `"${ch}${ch}"`, describeValue(ch));
    const start = i;
    while (i < src.length && !WORD_STOP.has(src[i]!)) i++;
    out.push({ type: 'word', text: src.slice(start, i), pos: start });
  }
  out.push({ type: 'end', text: '', pos: src.length });
  return out;
}

// -- fields -------------------------------------------------------------------------------

type Getter = (event: EventV1) => unknown;

const TOP_FIELDS = ['v', 'id', 'time', 'source', 'kind', 'severity', 'subject', 'interface', 'states', 'addresses', 'data'] as const;
const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*$/;
const FIELD_LIST = 'v, id, time, source, kind, severity, subject, interface, states.old, states.new, addresses, data.<key>';

function step(value: unknown, key: string): unknown {
  if (Array.isArray(value)) {
    if (!/^\d+$/.test(key)) return undefined;
    return value[Number(key)];
  }
  if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
  return (value as Record<string, unknown>)[key];
}

function compileField(src: string, tok: Token): { getter: Getter; root: string } {
  if (!FIELD_RE.test(tok.text)) throw syntaxError(src, tok.pos, `a field (${FIELD_LIST})`, describeToken(tok));
  const parts = tok.text.split('.');
  const root = parts[0]!;
  const rest = parts.slice(1);
  if (!(TOP_FIELDS as readonly string[]).includes(root)) {
    throw syntaxError(src, tok.pos, `a field (${FIELD_LIST})`, `unknown field ${describeValue(root)}`);
  }
  if (root === 'states' ? rest.length !== 1 || (rest[0] !== 'old' && rest[0] !== 'new') : root === 'addresses' ? rest.length > 1 || (rest.length === 1 && !/^\d+$/.test(rest[0]!)) : root !== 'data' && rest.length > 0) {
    throw syntaxError(src, tok.pos, `a field (${FIELD_LIST})`, `unknown field ${describeValue(tok.text)}`);
  }
  const key = root as keyof EventV1;
  if (rest.length === 0) return { getter: (e) => e[key], root };
  if (rest.length === 1) {
    const k = rest[0]!;
    return { getter: (e) => step(e[key], k), root };
  }
  return {
    getter: (e) => {
      let v: unknown = e[key];
      for (const k of rest) {
        v = step(v, k);
        if (v === undefined) return undefined;
      }
      return v;
    },
    root,
  };
}

// -- values and comparisons ---------------------------------------------------------------

interface Literal {
  type: 'word' | 'string' | 'bool' | 'null';
  text: string;
  num: number | undefined;
  pos: number;
}

const NUMBER_RE = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function literalOf(tok: Token): Literal {
  if (tok.type === 'string') return { type: 'string', text: tok.text, num: undefined, pos: tok.pos };
  const t = tok.text;
  if (t === 'true' || t === 'false') return { type: 'bool', text: t, num: undefined, pos: tok.pos };
  if (t === 'null') return { type: 'null', text: t, num: undefined, pos: tok.pos };
  return { type: 'word', text: t, num: NUMBER_RE.test(t) ? Number(t) : undefined, pos: tok.pos };
}

// Unquote glob escapes for literal use: `\*` in a quoted string is a literal star.
function plainText(lit: Literal): string {
  return lit.type === 'string' ? lit.text.replace(/\\([*?\\])/g, '$1') : lit.text;
}

type Test = (v: unknown) => boolean;

function equalsTest(lit: Literal): Test {
  const text = plainText(lit);
  const num = lit.num;
  return (v) => {
    switch (typeof v) {
      case 'string':
        return v === text;
      case 'number':
        return num !== undefined && v === num;
      case 'boolean':
        return lit.type !== 'string' && text === String(v);
      default:
        return v === null && lit.type === 'null';
    }
  };
}

// Any item of an array matches; a scalar is itself.
function anyOf(test: Test): Test {
  return (v) => {
    if (Array.isArray(v)) {
      for (const item of v) if (test(item)) return true;
      return false;
    }
    return test(v);
  };
}

function orderTest(src: string, root: string, op: string, lit: Literal): Test {
  const cmp = (a: number, b: number): boolean => (op === '>' ? a > b : op === '>=' ? a >= b : op === '<' ? a < b : a <= b);
  if (root === 'severity') {
    const text = plainText(lit);
    if (!isSeverity(text)) throw syntaxError(src, lit.pos, `a severity (${SEVERITIES.join(', ')}) after ${op}`, describeValue(text));
    const rank = severityRank(text);
    return (v) => typeof v === 'string' && severityRank(v) >= 0 && cmp(severityRank(v), rank);
  }
  if (root === 'time') {
    const at = Date.parse(plainText(lit));
    if (Number.isNaN(at)) throw syntaxError(src, lit.pos, `an ISO 8601 date-time after ${op}`, describeValue(lit.text));
    return (v) => {
      if (typeof v !== 'string') return false;
      const t = Date.parse(v);
      return !Number.isNaN(t) && cmp(t, at);
    };
  }
  if (lit.num === undefined) throw syntaxError(src, lit.pos, `a number after ${op}`, describeValue(lit.text));
  const num = lit.num;
  return (v) => typeof v === 'number' && cmp(v, num);
}

function globTest(src: string, lit: Literal): Test {
  let m: GlobMatcher;
  try {
    m = compileGlob(lit.text);
  } catch {
    throw syntaxError(src, lit.pos, 'a glob of at most 256 characters', describeValue(lit.text));
  }
  return (v) => (typeof v === 'string' ? m(v) : typeof v === 'number' || typeof v === 'boolean' ? m(String(v)) : false);
}

// -- parser -------------------------------------------------------------------------------

class Parser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly src: string,
    private readonly toks: Token[],
  ) {}

  parse(): EventFilter {
    if (this.peek().type === 'end') throw syntaxError(this.src, 0, 'a condition', 'end of input');
    const f = this.or();
    const t = this.peek();
    if (t.type !== 'end') throw syntaxError(this.src, t.pos, '"and", "or" or end of input', describeToken(t));
    return f;
  }

  private peek(): Token {
    return this.toks[this.i]!;
  }

  private next(): Token {
    const t = this.toks[this.i]!;
    if (t.type !== 'end') this.i++;
    return t;
  }

  private isKeyword(t: Token, ...words: string[]): boolean {
    return (t.type === 'word' || t.type === 'op') && words.includes(t.text);
  }

  private or(): EventFilter {
    const parts = [this.and()];
    while (this.isKeyword(this.peek(), 'or', '||')) {
      this.next();
      parts.push(this.and());
    }
    if (parts.length === 1) return parts[0]!;
    return (e) => {
      for (const p of parts) if (p(e)) return true;
      return false;
    };
  }

  private and(): EventFilter {
    const parts = [this.not()];
    while (this.isKeyword(this.peek(), 'and', '&&')) {
      this.next();
      parts.push(this.not());
    }
    if (parts.length === 1) return parts[0]!;
    if (parts.length === 2) {
      const [a, b] = parts as [EventFilter, EventFilter];
      return (e) => a(e) && b(e);
    }
    return (e) => {
      for (const p of parts) if (!p(e)) return false;
      return true;
    };
  }

  private enter(t: Token): void {
    if (++this.depth > MAX_FILTER_DEPTH) throw syntaxError(this.src, t.pos, `nesting at most ${MAX_FILTER_DEPTH} levels deep`, 'deeper nesting');
  }

  private not(): EventFilter {
    const t = this.peek();
    if (this.isKeyword(t, 'not', '!')) {
      this.next();
      this.enter(t);
      const inner = this.not();
      this.depth--;
      return (e) => !inner(e);
    }
    if (t.type === 'punct' && t.text === '(') {
      this.next();
      this.enter(t);
      const inner = this.or();
      this.depth--;
      const close = this.next();
      if (close.type !== 'punct' || close.text !== ')') throw syntaxError(this.src, close.pos, '")"', describeToken(close));
      return inner;
    }
    return this.test();
  }

  private value(after: string): Literal {
    const t = this.next();
    if ((t.type === 'word' && !['and', 'or', 'not', 'in'].includes(t.text)) || t.type === 'string') return literalOf(t);
    throw syntaxError(this.src, t.pos, `a value after ${after}`, describeToken(t));
  }

  private test(): EventFilter {
    const ft = this.next();
    if (ft.type !== 'word' || ['and', 'or', 'not', 'in'].includes(ft.text)) throw syntaxError(this.src, ft.pos, 'a field or "("', describeToken(ft));
    const { getter, root } = compileField(this.src, ft);
    const opTok = this.peek();
    if (opTok.type === 'word' && opTok.text === 'in') {
      this.next();
      const open = this.next();
      if (open.type !== 'punct' || (open.text !== '(' && open.text !== '[')) throw syntaxError(this.src, open.pos, '"(" after in', describeToken(open));
      const tests: Test[] = [];
      for (;;) {
        tests.push(equalsTest(this.value(tests.length === 0 ? '"("' : '","')));
        const sep = this.next();
        if (sep.type === 'punct' && (sep.text === ')' || sep.text === ']')) break;
        if (sep.type !== 'punct' || sep.text !== ',') throw syntaxError(this.src, sep.pos, '"," or ")"', describeToken(sep));
      }
      const test = anyOf((v) => tests.some((t) => t(v)));
      return (e) => test(getter(e));
    }
    if (opTok.type !== 'op' || opTok.text === '!' || opTok.text === '&&' || opTok.text === '||') {
      // A bare field: present and not null.
      return (e) => {
        const v = getter(e);
        return v !== undefined && v !== null;
      };
    }
    this.next();
    const op = opTok.text;
    const lit = this.value(`"${op}"`);
    const negate = op === '!=' || op === '!~';
    let test: Test;
    if (op === '==' || op === '=' || op === '!=') test = anyOf(equalsTest(lit));
    else if (op === '~' || op === '!~') test = anyOf(globTest(this.src, lit));
    else test = anyOf(orderTest(this.src, root, op, lit));
    return negate ? (e) => !test(getter(e)) : (e) => test(getter(e));
  }
}

/**
 * Compile a condition in the filter language into a predicate. Throws EVENTS_FILTER_SYNTAX
 * naming the position, what was expected and what was found.
 *
 * @example
 * const f = parseFilterExpression('states.new == routable and data.rttMs > 50');
 * f(event); // boolean
 * parseFilterExpression('severity >= warnin'); // EVENTS_FILTER_SYNTAX: expected a severity ...
 */
export function parseFilterExpression(expression: string): EventFilter {
  if (typeof expression !== 'string') throw syntaxError(String(expression), 0, 'a filter expression (a string)', describeValue(expression));
  if (expression.length > MAX_FILTER_LENGTH) {
    throw syntaxError(expression, MAX_FILTER_LENGTH, `at most ${MAX_FILTER_LENGTH} characters`, `${expression.length} characters`);
  }
  return new Parser(expression, tokenize(expression)).parse();
}

// -- specs and queries --------------------------------------------------------------------

function globList(field: string, value: unknown): GlobMatcher {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new EventsError('EVENTS_FILTER_SYNTAX', `filter ${field} ${describeValue(value)} is invalid: expected a non-empty glob or list of globs`, {
      details: { field, expected: 'a non-empty glob or list of globs' },
    });
  }
  return compileGlobs(list as string[]);
}

const SPEC_KEYS = ['source', 'kind', 'subject', 'interface', 'severity', 'where'];

/**
 * Compile any filter input once: undefined → everything, a string → a condition, a function →
 * itself, a FilterSpec → every given field must match.
 *
 * @example
 * const f = compileFilter({ source: 'bonding', kind: 'link.*', severity: 'warning' });
 * bus.subscribe({ filter: f });
 */
export function compileFilter(input: FilterInput): EventFilter {
  if (input === undefined) return matchAll;
  if (typeof input === 'function') return input;
  if (typeof input === 'string') return parseFilterExpression(input);
  if (typeof input !== 'object' || input === null) {
    throw new EventsError('EVENTS_FILTER_SYNTAX', `filter ${describeValue(input)} is invalid: expected a string, a FilterSpec or a function`, {
      details: { expected: 'a string, a FilterSpec or a function' },
    });
  }
  for (const key of Object.keys(input)) {
    if (!SPEC_KEYS.includes(key)) {
      throw new EventsError('EVENTS_FILTER_SYNTAX', `filter field ${describeValue(key)} is unknown: expected one of ${SPEC_KEYS.join(', ')}`, {
        details: { field: key, expected: SPEC_KEYS },
      });
    }
  }
  const parts: EventFilter[] = [];
  if (input.source !== undefined) {
    const m = globList('source', input.source);
    parts.push((e) => m(e.source));
  }
  if (input.kind !== undefined) {
    const m = globList('kind', input.kind);
    parts.push((e) => m(e.kind));
  }
  if (input.subject !== undefined) {
    const m = globList('subject', input.subject);
    parts.push((e) => e.subject !== undefined && m(e.subject));
  }
  if (input.interface !== undefined) {
    const m = globList('interface', input.interface);
    parts.push((e) => e.interface !== undefined && m(e.interface));
  }
  if (input.severity !== undefined) {
    if (!isSeverity(input.severity)) {
      throw new EventsError('EVENTS_FILTER_SYNTAX', `filter severity ${describeValue(input.severity)} is invalid: expected one of ${SEVERITIES.join(', ')}`, {
        details: { field: 'severity', expected: SEVERITIES },
      });
    }
    const min = severityRank(input.severity);
    if (min > 0) parts.push((e) => severityRank(e.severity) >= min);
  }
  if (input.where !== undefined) parts.push(parseFilterExpression(input.where));
  if (parts.length === 0) return matchAll;
  if (parts.length === 1) return parts[0]!;
  return (e) => {
    for (const p of parts) if (!p(e)) return false;
    return true;
  };
}

/** A query object: URLSearchParams, or a parsed query such as fastify's `request.query`. */
export type QueryInput = URLSearchParams | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Options of `filterFromQuery`. */
export interface FilterQueryOptions {
  /** Parameters that are not filters and must not be rejected (e.g. `lastEventId`). */
  ignore?: readonly string[];
}

const QUERY_KEYS: Record<string, keyof FilterSpec> = {
  app: 'source',
  source: 'source',
  kind: 'kind',
  subject: 'subject',
  interface: 'interface',
  severity: 'severity',
  where: 'where',
};

/**
 * Read a FilterSpec from query parameters: `app` (or `source`), `kind`, `subject`,
 * `interface` take comma-separated or repeated globs; `severity` a minimum; `where` a
 * condition (repeated `where`s are AND-ed). Unknown parameters are EVENTS_FILTER_SYNTAX
 * (a typo must not silently stream everything) unless listed in `ignore`.
 *
 * @example
 * // GET /api/v1/events?app=bonding&kind=link.*,session.*&severity=warning
 * const spec = filterFromQuery(new URL(req.url!, 'http://x').searchParams, { ignore: ['lastEventId'] });
 * bus.subscribe({ filter: spec });
 */
export function filterFromQuery(query: QueryInput, options: FilterQueryOptions = {}): FilterSpec {
  const entries: [string, string][] = [];
  if (query instanceof URLSearchParams) {
    for (const [k, v] of query) entries.push([k, v]);
  } else {
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      const items: readonly unknown[] = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [v];
      for (const item of items) {
        if (typeof item !== 'string') {
          throw new EventsError('EVENTS_FILTER_SYNTAX', `query parameter ${describeValue(k)} ${describeValue(item)} is invalid: expected a string`, {
            details: { field: k, expected: 'a string' },
          });
        }
        entries.push([k, item]);
      }
    }
  }
  const globs: Partial<Record<keyof FilterSpec, string[]>> = {};
  const wheres: string[] = [];
  let severity: string | undefined;
  for (const [k, v] of entries) {
    const field = QUERY_KEYS[k];
    if (field === undefined || !Object.hasOwn(QUERY_KEYS, k)) {
      if (options.ignore?.includes(k)) continue;
      throw new EventsError('EVENTS_FILTER_SYNTAX', `query parameter ${describeValue(k)} is unknown: expected one of ${Object.keys(QUERY_KEYS).join(', ')}`, {
        details: { field: k, expected: Object.keys(QUERY_KEYS) },
      });
    }
    if (field === 'where') {
      parseFilterExpression(v); // each on its own: `a) or (b` must not pair up with its neighbours
      wheres.push(v);
    }
    else if (field === 'severity') severity = v;
    else (globs[field] ??= []).push(...v.split(',').filter((s) => s.length > 0));
  }
  const spec: FilterSpec = {};
  for (const [field, list] of Object.entries(globs) as [keyof FilterSpec, string[]][]) {
    if (list.length === 0) continue;
    (spec as Record<string, unknown>)[field] = list;
  }
  if (severity !== undefined && severity !== '') spec.severity = severity as Severity;
  if (wheres.length === 1) spec.where = wheres[0]!;
  else if (wheres.length > 1) spec.where = wheres.map((w) => `(${w})`).join(' and ');
  compileFilter(spec); // validate now: the caller gets the syntax error before subscribing
  return spec;
}
