/**
 * Errors of @edgebox/runtime. Match on `code`, never on `instanceof`: codes survive IPC and
 * the API envelope `{error:{code,message,details}}` that {@link toErrorEnvelope} builds for
 * any thrown value. Every code is listed in the README and a test keeps the two in step.
 */

/** Every code this package raises; the README table lists the same, in this order. */
export const RUNTIME_ERROR_CODES = [
  'RUNTIME_INVALID_ARGUMENT', // an option or argument of the wrong type/shape (bad metric name, bad log level)
  'RUNTIME_CONFIG_INVALID', // the config parsed but failed its schema: details.issues [{path, value, expected, message}]
  'RUNTIME_CONFIG_PARSE', // the config text is not valid YAML/TOML/JSON: details {file?, format, line?, column?}
  'RUNTIME_CONFIG_NOT_FOUND', // the config file does not exist
  'RUNTIME_CONFIG_UNREADABLE', // the config path exists but cannot be read (permissions, a directory)
  'RUNTIME_CONFIG_TOO_LARGE', // the config file or text is over the size limit (default 1 MiB)
  'RUNTIME_STATE', // an illegal lifecycle transition (start while stopping, reload before start)
  'RUNTIME_STOP_TIMEOUT', // a graceful stop did not finish within its deadline
  'RUNTIME_START_ABORTED', // start() was aborted by its signal or by a stop() issued during start
  'RUNTIME_LISTENER_LIMIT', // a typed emitter reached its listener bound for one event
  'RUNTIME_HEALTH_TIMEOUT', // a health check did not answer within its timeout
  'RUNTIME_LISTEN', // the ops server could not listen (address in use, permission)
  'RUNTIME_NOT_FOUND', // ops server: no such endpoint (HTTP 404)
  'RUNTIME_METHOD_NOT_ALLOWED', // ops server: a method other than GET/HEAD (HTTP 405)
  'RUNTIME_INTERNAL', // a thrown value without a code, wrapped by toErrorEnvelope
] as const;

/** One of {@link RUNTIME_ERROR_CODES}. */
export type RuntimeErrorCode = (typeof RUNTIME_ERROR_CODES)[number];

export interface RuntimeErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/** The JSON body of an error as it crosses IPC and HTTP. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** The API envelope every edgebox surface uses for errors. */
export interface ErrorEnvelope {
  error: ErrorBody;
}

/**
 * Base class of every error this package raises.
 *
 * @example
 * throw new RuntimeError('RUNTIME_STATE', 'cannot start demo while stopping', { details: { state: 'stopping' } });
 */
export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: RuntimeErrorCode, message: string, options: RuntimeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RuntimeError';
    this.code = code;
    this.details = options.details;
  }

  toJSON(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** One thing wrong with a config, as reported by {@link ConfigError}. */
export interface ConfigIssue {
  /** Dotted path with array indices in brackets: `tunnel.peers[0].port`; `(root)` for the whole document. */
  path: string;
  /** The offending value (redacted when the path looks secret); `undefined` when missing. */
  value: unknown;
  /** What was expected, in words: `integer <= 65535`, `one of "udp", "tcp"`. */
  expected: string;
  /** The whole line: `tunnel.listen.port: 70000 is not valid: expected integer <= 65535`. */
  message: string;
  /** Where the value came from when it was not the file: the env variable name. */
  source?: string;
}

/**
 * A config error (codes `RUNTIME_CONFIG_*`). `issues` is filled for `RUNTIME_CONFIG_INVALID`;
 * `file`, `line` and `column` when known. Render it for humans with `formatConfigError`.
 *
 * @example
 * if (isRuntimeError(err, 'RUNTIME_CONFIG_INVALID')) for (const i of (err as ConfigError).issues) log.error(i.message);
 */
export class ConfigError extends RuntimeError {
  readonly issues: ConfigIssue[];
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(
    code: Extract<RuntimeErrorCode, `RUNTIME_CONFIG_${string}`>,
    message: string,
    options: RuntimeErrorOptions & { issues?: ConfigIssue[]; file?: string; line?: number; column?: number } = {},
  ) {
    const details: Record<string, unknown> = { ...options.details };
    if (options.file !== undefined) details['file'] = options.file;
    if (options.line !== undefined) details['line'] = options.line;
    if (options.column !== undefined) details['column'] = options.column;
    if (options.issues !== undefined) details['issues'] = options.issues;
    super(code, message, { cause: options.cause, details });
    this.name = 'ConfigError';
    this.issues = options.issues ?? [];
    this.file = options.file;
    this.line = options.line;
    this.column = options.column;
  }
}

/**
 * True when `err` carries a `RUNTIME_*` code (and `code`, when given). Works across realms and
 * on plain objects that crossed IPC.
 *
 * @example
 * if (isRuntimeError(err, 'RUNTIME_STOP_TIMEOUT')) process.exitCode = 1;
 */
export function isRuntimeError(err: unknown, code?: RuntimeErrorCode): err is RuntimeError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('RUNTIME_') && (code === undefined || c === code);
}

const MAX_DEPTH = 6;
const MAX_STRING = 4096;
const MAX_ITEMS = 100;

/**
 * Copies `value` into something `JSON.stringify` accepts and keeps small: bigint → string,
 * Error → {name, message, code?}, Buffer/typed arrays → `<N bytes>`, functions/symbols dropped,
 * cycles → `[Circular]`, depth > 6 → `[Truncated]`, long strings and arrays cut.
 *
 * @example
 * JSON.stringify(toJsonSafe({ n: 1n, self: obj }));
 */
export function toJsonSafe(value: unknown): unknown {
  return jsonSafe(value, 0, new WeakSet<object>());
}

function jsonSafe(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  if (ArrayBuffer.isView(obj)) return `<${obj.byteLength} bytes>`;
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
  seen.add(obj);
  try {
    if (obj instanceof Error) {
      const out: Record<string, unknown> = { name: obj.name, message: obj.message };
      const code = (obj as { code?: unknown }).code;
      if (typeof code === 'string' || typeof code === 'number') out['code'] = code;
      return out;
    }
    if (Array.isArray(obj)) {
      const out = obj.slice(0, MAX_ITEMS).map((v) => jsonSafe(v, depth + 1, seen) ?? null);
      if (obj.length > MAX_ITEMS) out.push(`… ${obj.length - MAX_ITEMS} more`);
      return out;
    }
    if (obj instanceof Map) return jsonSafe(Object.fromEntries(obj), depth, seen);
    if (obj instanceof Set) return jsonSafe([...obj], depth, seen);
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const [k, v] of Object.entries(obj)) {
      if (n++ >= MAX_ITEMS) {
        out['…'] = 'truncated';
        break;
      }
      const safe = jsonSafe(v, depth + 1, seen);
      if (safe !== undefined) out[k] = safe;
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

/**
 * Turns any thrown value into the `{error:{code,message,details}}` envelope, JSON-safe.
 * Errors with a string `code` (ours, CryptoError, Node's `ENOENT`...) keep it; anything else
 * becomes `RUNTIME_INTERNAL`.
 *
 * @example
 * res.end(JSON.stringify(toErrorEnvelope(err)));
 */
export function toErrorEnvelope(err: unknown): ErrorEnvelope {
  return { error: toErrorBody(err) };
}

/**
 * The `error` part of {@link toErrorEnvelope}: `{code, message, details?}`.
 *
 * @example
 * return { applied: false, error: toErrorBody(err) };
 */
export function toErrorBody(err: unknown): ErrorBody {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; message?: unknown; details?: unknown };
    const code = typeof e.code === 'string' && e.code.length > 0 ? e.code : 'RUNTIME_INTERNAL';
    const message =
      typeof e.message === 'string' && e.message.length > 0
        ? (jsonSafe(e.message, 0, new WeakSet()) as string)
        : err instanceof Error
          ? err.name
          : 'unknown error';
    const body: ErrorBody = { code, message };
    if (typeof e.details === 'object' && e.details !== null) {
      body.details = toJsonSafe(e.details) as Record<string, unknown>;
    }
    return body;
  }
  const text = err === undefined ? 'undefined was thrown' : String(err);
  return { code: 'RUNTIME_INTERNAL', message: text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text };
}
