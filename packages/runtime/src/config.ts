/**
 * Loading an app's config: read (size-capped) → parse (YAML/TOML/JSON) → env overrides →
 * zod validation. Every failure is a {@link ConfigError} naming the file, the line/column
 * (parse errors) or the path, value and expectation (schema errors); `formatConfigError`
 * renders any of them for a terminal.
 */
import { open } from 'node:fs/promises';
import type { z } from 'zod';
import { applyEnvOverrides } from './config-env.js';
import type { AppliedOverride } from './config-env.js';
import { configIssuesFromZod } from './config-issues.js';
import { formatFromPath, parseConfigText } from './config-parse.js';
import type { ConfigFormat } from './config-parse.js';
import { ConfigError, isRuntimeError, RuntimeError } from './errors.js';
import type { ConfigIssue } from './errors.js';

/** Largest config file or text accepted: 1 MiB. */
export const CONFIG_MAX_BYTES = 1024 * 1024;

/** Options of {@link loadConfig}: exactly one of file, text or value (or none: `{}`). */
export interface LoadConfigInit<T> {
  /** The schema the result must satisfy (defaults and transforms apply). */
  schema: z.ZodType<T>;
  /** A file to read; its format comes from the extension (`.yaml`/`.yml`, `.toml`, `.json`; others: YAML). */
  file?: string;
  /** Config text instead of a file (format: `format` or YAML, which also reads JSON). */
  text?: string;
  /** An already-parsed document instead (an embedded default config). */
  value?: unknown;
  format?: ConfigFormat;
  /** Environment for overrides (default `process.env`; `{}` turns overrides off). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Override prefix (default `EDGEBOX`). */
  envPrefix?: string;
  /**
   * The appliance section this document stands for (an app reading its own file): only
   * `EDGEBOX_<SECTION>__...` variables apply and error paths start with `<section>.`.
   */
  section?: string;
  /** Size cap in bytes (default {@link CONFIG_MAX_BYTES}). */
  maxBytes?: number;
}

/** What {@link loadConfig} returns. */
export interface LoadedConfig<T> {
  /** The validated config. */
  config: T;
  /** Where the document came from. */
  source: { kind: 'file' | 'text' | 'value' | 'none'; file?: string; format?: ConfigFormat };
  /**
   * The document after env overrides, before validation (the input shape). Hand this, not
   * `config`, to `Service.start/reload`, which validate their input themselves.
   */
  document: unknown;
  /** Environment variables that changed the document, in the order applied. */
  overrides: AppliedOverride[];
}

/**
 * Loads and validates a config.
 *
 * @example
 * const schema = z.object({ listen: z.object({ host: z.ipv4().default('127.0.0.1'), port: z.int().min(1).max(65535) }) });
 * const { config } = await loadConfig({ file: '/etc/edgebox/tunnel.yaml', schema, section: 'tunnel' });
 * // EDGEBOX_TUNNEL__LISTEN__PORT=8443 overrides listen.port; a bad port throws
 * // ConfigError RUNTIME_CONFIG_INVALID "... tunnel.listen.port: 70000 is not valid: expected integer <= 65535"
 */
export async function loadConfig<T>(init: LoadConfigInit<T>): Promise<LoadedConfig<T>> {
  const given = [init.file, init.text, init.value].filter((v) => v !== undefined).length;
  if (given > 1) throw new RuntimeError('RUNTIME_INVALID_ARGUMENT', 'loadConfig takes one of file, text or value, not several');
  const maxBytes = init.maxBytes ?? CONFIG_MAX_BYTES;

  let doc: unknown = {};
  let source: LoadedConfig<T>['source'] = { kind: 'none' };
  let label = 'config';
  if (init.file !== undefined) {
    const format = init.format ?? formatFromPath(init.file) ?? 'yaml';
    const text = await readConfigFile(init.file, maxBytes);
    doc = parseConfigText(text, format, init.file);
    source = { kind: 'file', file: init.file, format };
    label = `config file ${init.file}`;
  } else if (init.text !== undefined) {
    const format = init.format ?? 'yaml';
    const bytes = Buffer.byteLength(init.text);
    if (bytes > maxBytes) {
      throw new ConfigError('RUNTIME_CONFIG_TOO_LARGE', `config text is ${bytes} bytes: expected at most ${maxBytes}`, { details: { bytes, maxBytes } });
    }
    doc = parseConfigText(stripBom(init.text), format);
    source = { kind: 'text', format };
    label = `${format.toUpperCase()} config`;
  } else if (init.value !== undefined) {
    doc = init.value;
    source = { kind: 'value' };
  }

  const { data, applied } = applyEnvOverrides(doc, {
    env: init.env ?? process.env,
    prefix: init.envPrefix,
    section: init.section,
    schema: init.schema,
  });
  const sources = new Map(applied.map((o) => [o.path, o.name]));
  const config = await validateConfig(init.schema, data, { label, section: init.section, sources, file: init.file });
  return { config, source, document: data, overrides: applied };
}

/** Options of {@link validateConfig}. */
export interface ValidateConfigOptions {
  /** What to call the document in the message (`config file /etc/x.yaml`; default `config`). */
  label?: string;
  /** Prefix for displayed paths. */
  section?: string;
  /** Display path → env variable that set it. */
  sources?: ReadonlyMap<string, string>;
  file?: string;
}

/**
 * Validates plain data against a schema; the parsed value, or a ConfigError
 * `RUNTIME_CONFIG_INVALID` whose issues name path, value and expectation. Used by `loadConfig`
 * and by `createLifecycle` before a reload.
 *
 * @example
 * const config = await validateConfig(schema, JSON.parse(body), { label: 'reload request' });
 */
export async function validateConfig<T>(schema: z.ZodType<T>, data: unknown, options: ValidateConfigOptions = {}): Promise<T> {
  const result = await schema.safeParseAsync(data, { reportInput: true });
  if (result.success) return result.data;
  const issues = configIssuesFromZod(result.error.issues, { schema, data, pathPrefix: options.section, sources: options.sources });
  throw invalidConfigError(issues, options);
}

function invalidConfigError(issues: ConfigIssue[], options: ValidateConfigOptions): ConfigError {
  const label = options.label ?? 'config';
  const message =
    issues.length === 1
      ? `${label} is invalid: ${issues[0]!.message}`
      : `${label} is invalid (${issues.length} issues): ${issues.map((i) => i.message).join('; ')}`;
  const init: ConstructorParameters<typeof ConfigError>[2] = { issues };
  if (options.file !== undefined) init.file = options.file;
  return new ConfigError('RUNTIME_CONFIG_INVALID', message, init);
}

/**
 * Reads at most `maxBytes` of a file as UTF-8 (BOM stripped). Reads through the handle rather
 * than trusting `stat`, so a FIFO or a device cannot feed it forever.
 *
 * @example
 * const text = await readConfigFile('/etc/edgebox/edgebox.yaml');
 */
export async function readConfigFile(file: string, maxBytes = CONFIG_MAX_BYTES): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw fileError(file, err);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new ConfigError('RUNTIME_CONFIG_UNREADABLE', `config file ${file} is a directory`, { file });
    if (st.size > maxBytes) {
      throw new ConfigError('RUNTIME_CONFIG_TOO_LARGE', `config file ${file} is ${st.size} bytes: expected at most ${maxBytes}`, {
        file,
        details: { bytes: st.size, maxBytes },
      });
    }
    const buf = Buffer.alloc(Math.min(maxBytes + 1, Math.max(st.size + 1, 64 * 1024)));
    let length = 0;
    for (;;) {
      if (length === buf.length) break;
      const { bytesRead } = await handle.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) {
      throw new ConfigError('RUNTIME_CONFIG_TOO_LARGE', `config file ${file} is over ${maxBytes} bytes`, { file, details: { maxBytes } });
    }
    try {
      return stripBom(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, length)));
    } catch (err) {
      throw new ConfigError('RUNTIME_CONFIG_PARSE', `config file ${file}: not valid UTF-8`, { file, cause: err });
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw fileError(file, err);
  } finally {
    await handle.close();
  }
}

function fileError(file: string, err: unknown): ConfigError {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new ConfigError('RUNTIME_CONFIG_NOT_FOUND', `config file ${file} not found`, { file, cause: err });
  }
  const reason = code === 'EISDIR' ? 'is a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : err instanceof Error ? err.message : String(err);
  return new ConfigError('RUNTIME_CONFIG_UNREADABLE', `config file ${file} cannot be read: ${reason}`, {
    file,
    cause: err,
    details: typeof code === 'string' ? { errno: code } : {},
  });
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Renders a config error for a terminal: parse errors with file:line:column, schema errors
 * with one indented line per issue. Other errors: their message.
 *
 * @example
 * try { await loadConfig(init) } catch (err) { console.error(formatConfigError(err)); process.exit(1) }
 * // config file /etc/edgebox/tunnel.yaml is invalid (2 issues):
 * //   tunnel.listen.port: 70000 is not valid: expected integer <= 65535
 * //   tunnel.psk: [REDACTED] is not valid: expected at least 32 characters
 */
export function formatConfigError(err: unknown): string {
  const message = typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string' ? (err as { message: string }).message : String(err);
  // by code, not instanceof: the error may have crossed IPC as a plain {code, message, details}
  const issues = isRuntimeError(err, 'RUNTIME_CONFIG_INVALID') ? (err as { details?: { issues?: unknown } }).details?.issues : undefined;
  if (Array.isArray(issues) && issues.length > 0) {
    const head = message.replace(/ is invalid.*$/s, ' is invalid');
    const count = issues.length === 1 ? '' : ` (${issues.length} issues)`;
    const lines = issues.map((i: unknown) => `  ${typeof (i as ConfigIssue | null)?.message === 'string' ? (i as ConfigIssue).message : formatValueLine(i)}`);
    return `${head}${count}:\n${lines.join('\n')}`;
  }
  return message;
}

function formatValueLine(issue: unknown): string {
  try {
    return JSON.stringify(issue) ?? String(issue);
  } catch {
    return String(issue);
  }
}
