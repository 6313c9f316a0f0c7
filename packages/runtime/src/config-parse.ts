/**
 * Config text → plain data, for YAML (1.2 core schema, unique keys, at most 100 aliases),
 * TOML 1.0 (smol-toml) and JSON. Errors are `RUNTIME_CONFIG_PARSE` with the file, format and
 * the line/column the parser gives; the message is one line and never quotes the file text,
 * which may hold secrets (the parsers' code excerpts are cut off).
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { parseDocument } from 'yaml';
import { ConfigError } from './errors.js';
import { jsonErrorOffset } from './json-locate.js';

/** A config text format. */
export type ConfigFormat = 'yaml' | 'toml' | 'json';

/** Formats `loadConfig` reads. */
export const CONFIG_FORMATS: readonly ConfigFormat[] = ['yaml', 'toml', 'json'];

/** At most this many YAML aliases are expanded (billion-laughs guard). */
export const YAML_MAX_ALIAS_COUNT = 100;

/**
 * The format of a config file by extension: `.yaml`/`.yml`, `.toml`, `.json`; undefined otherwise.
 *
 * @example
 * formatFromPath('/etc/edgebox/edgebox.toml'); // 'toml'
 */
export function formatFromPath(file: string): ConfigFormat | undefined {
  const m = /\.([a-z]+)$/i.exec(file);
  switch (m?.[1]?.toLowerCase()) {
    case 'yaml':
    case 'yml':
      return 'yaml';
    case 'toml':
      return 'toml';
    case 'json':
      return 'json';
    default:
      return undefined;
  }
}

/**
 * Parses config text. An empty (or comment-only) document is `{}`.
 *
 * @example
 * parseConfigText('listen:\n  port: 443\n', 'yaml'); // { listen: { port: 443 } }
 */
export function parseConfigText(text: string, format: ConfigFormat, file?: string): unknown {
  switch (format) {
    case 'yaml':
      return parseYaml(text, file);
    case 'toml':
      return parseTomlText(text, file);
    case 'json':
      return parseJson(text, file);
  }
}

function where(file: string | undefined, format: ConfigFormat, line?: number, column?: number): string {
  const at = line === undefined ? '' : column === undefined ? `line ${line}: ` : `line ${line}, column ${column}: `;
  return `${file === undefined ? `${format.toUpperCase()} config` : `config file ${file}`}: ${at}`;
}

function parseError(format: ConfigFormat, reason: string, file: string | undefined, line?: number, column?: number, cause?: unknown): ConfigError {
  const init: ConstructorParameters<typeof ConfigError>[2] = { cause, details: { format } };
  if (file !== undefined) init.file = file;
  if (line !== undefined) init.line = line;
  if (column !== undefined) init.column = column;
  return new ConfigError('RUNTIME_CONFIG_PARSE', `${where(file, format, line, column)}invalid ${format.toUpperCase()}: ${reason}`, init);
}

function parseYaml(text: string, file: string | undefined): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const pos = first.linePos?.[0];
    throw parseError('yaml', firstLine(first.message), file, pos?.line, pos?.col, first);
  }
  try {
    return doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT }) ?? {};
  } catch (err) {
    // excessive aliases and similar resolution failures
    throw parseError('yaml', firstLine(err instanceof Error ? err.message : String(err)), file, undefined, undefined, err);
  }
}

function parseTomlText(text: string, file: string | undefined): unknown {
  try {
    return parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      throw parseError('toml', firstLine(err.message).replace(/^Invalid TOML document: /, ''), file, err.line, err.column, err);
    }
    throw parseError('toml', firstLine(err instanceof Error ? err.message : String(err)), file, undefined, undefined, err);
  }
}

function parseJson(text: string, file: string | undefined): unknown {
  if (text.trim().length === 0) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // V8 messages differ by version and may quote the text: locate the error ourselves
    const message = err instanceof Error ? err.message : String(err);
    const offset = jsonErrorOffset(text);
    const at = offset >= 0 ? lineColumnAt(text, offset) : undefined;
    let reason: string;
    if (/is not valid JSON/.test(message) || offset < 0) {
      reason = offset >= text.length || offset < 0 ? 'unexpected end of input' : `unexpected character ${JSON.stringify(text[offset])}`;
    } else {
      reason = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '');
    }
    throw parseError('json', firstLine(reason), file, at?.line, at?.column, err);
  }
}

/** 1-based line and column of a string offset. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? message;
  // yaml appends " at line L, column C:" — we report the position ourselves
  return line.replace(/ at line \d+, column \d+:?$/, '').trim();
}
