/**
 * One pino logger per app: JSON lines with `app`, `pid`, ISO `time`, secrets redacted by
 * field name. Correlate with `logger.child({ correlationId })`. The level comes from the
 * option, else `EDGEBOX_LOG_LEVEL`, else `info`; `silent: true` for tests. `pretty: true` turns
 * lines into `12:00:00.123 INFO  demo: started intervalMs=1000` with a tiny built-in formatter
 * (no pino-pretty dependency). Writes are synchronous so nothing is lost on `process.exit`;
 * never log per packet.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { LOG_LEVEL_ENV } from './constants.js';
import { RuntimeError } from './errors.js';

/** The app logger: a pino Logger. */
export type Logger = pino.Logger;
/** pino levels plus `silent`. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Levels accepted by the option and EDGEBOX_LOG_LEVEL, most verbose first. */
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Field names whose values are replaced by `[REDACTED]` at the top level and two levels down. */
export const LOG_REDACT_KEYS: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'token',
  'psk',
  'privateKey',
  'private_key',
  'secretKey',
  'apiKey',
  'api_key',
  'authorization',
  'cookie',
];

/** Where log lines go: a pino stream, an fd (1 = stdout) or a file path. */
export type LogDestination = pino.DestinationStream | number | string;

/** Options of {@link createLogger}. */
export interface LoggerInit {
  /** The app name, in every line as `app`. */
  app: string;
  /** Explicit level (wins over the environment). */
  level?: LogLevel;
  /** Default: stdout, synchronous. */
  destination?: LogDestination;
  /** Human-readable lines instead of JSON. */
  pretty?: boolean;
  /** Log nothing (tests). */
  silent?: boolean;
  /** Environment read for EDGEBOX_LOG_LEVEL (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** More redact paths in pino syntax (`'peer.credentials'`, `'*.apiSecret'`). */
  redact?: string[];
  /** More base fields (`{ node: 'edge-1' }`). */
  base?: Record<string, unknown>;
}

/**
 * Creates the app logger.
 *
 * @example
 * const log = createLogger({ app: 'tunnel' });
 * const reqLog = log.child({ correlationId: newCorrelationId() });
 * reqLog.info({ peer: 'edge-2', psk: 'x' }, 'session up'); // psk: "[REDACTED]"
 */
export function createLogger(init: LoggerInit): Logger {
  const level = resolveLevel(init);
  const paths = [...LOG_REDACT_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]), ...(init.redact ?? [])];
  const options: pino.LoggerOptions = {
    level,
    base: { ...init.base, app: init.app, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths, censor: '[REDACTED]' },
    formatters: { level: (label) => ({ level: label }) },
  };
  const target = destinationOf(init.destination);
  return pino(options, init.pretty === true ? createPrettyStream(target) : target);
}

/**
 * A short random id for correlating the log lines of one request, session or reload.
 *
 * @example
 * log.child({ correlationId: newCorrelationId() });
 */
export function newCorrelationId(): string {
  return randomUUID().slice(0, 8);
}

function resolveLevel(init: LoggerInit): LogLevel {
  if (init.silent === true) return 'silent';
  if (init.level !== undefined) return checkLevel(init.level, 'level');
  const fromEnv = (init.env ?? process.env)[LOG_LEVEL_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return checkLevel(fromEnv.toLowerCase(), LOG_LEVEL_ENV);
  return 'info';
}

function checkLevel(level: string, from: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new RuntimeError('RUNTIME_INVALID_ARGUMENT', `${from} ${JSON.stringify(level)} is not valid: expected one of ${LOG_LEVELS.join(', ')}`, {
    details: { level, from },
  });
}

function destinationOf(dest: LogDestination | undefined): pino.DestinationStream {
  if (dest === undefined) return pino.destination({ dest: 1, sync: true });
  if (typeof dest === 'number' || typeof dest === 'string') return pino.destination({ dest, sync: true, mkdir: typeof dest === 'string' });
  return dest;
}

const LEVEL_NAMES: Record<string, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO ',
  warn: 'WARN ',
  error: 'ERROR',
  fatal: 'FATAL',
};

/**
 * A stream that turns pino JSON lines into one readable line each:
 * `HH:MM:SS.mmm LEVEL app: msg key=value ...`. Lines that are not JSON pass through.
 *
 * @example
 * pino({}, createPrettyStream(pino.destination(2)));
 */
export function createPrettyStream(out: pino.DestinationStream): pino.DestinationStream {
  return {
    write(line: string) {
      out.write(prettyLine(line));
    },
  };
}

/** One pino JSON line → one readable line (with the trailing newline). */
export function prettyLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const { time, level, app, msg, pid: _pid, err, ...rest } = rec;
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  const lvl = LEVEL_NAMES[String(level)] ?? String(level).toUpperCase();
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const e = err as { message?: unknown; stack?: unknown } | undefined;
  const errText = e === undefined ? '' : `\n  ${typeof e.stack === 'string' ? e.stack.split('\n').join('\n  ') : String(e.message)}`;
  return `${clock} ${lvl} ${String(app ?? '')}: ${String(msg ?? '')}${fields.length > 0 ? ` ${fields}` : ''}${errText}\n`;
}
