import { describe, expect, it } from 'vitest';
import { formatFromPath, lineColumnAt, parseConfigText } from '../src/index.js';
import type { ConfigError } from '../src/index.js';

function parseFail(text: string, format: 'yaml' | 'toml' | 'json', file?: string): ConfigError {
  try {
    parseConfigText(text, format, file);
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('expected a parse error');
}

describe('config formats', () => {
  it('picks the format from the extension', () => {
    expect(formatFromPath('/etc/edgebox/a.yaml')).toBe('yaml');
    expect(formatFromPath('a.YML')).toBe('yaml');
    expect(formatFromPath('a.toml')).toBe('toml');
    expect(formatFromPath('a.json')).toBe('json');
    expect(formatFromPath('a.conf')).toBeUndefined();
    expect(formatFromPath('noext')).toBeUndefined();
  });

  it('reads the same document from YAML, TOML and JSON', () => {
    const expected = { tunnel: { listen: { host: '0.0.0.0', port: 443 }, peers: ['a', 'b'], enabled: true } };
    const yaml = 'tunnel:\n  listen:\n    host: 0.0.0.0\n    port: 443\n  peers: [a, b]\n  enabled: true\n';
    const toml = '[tunnel]\npeers = ["a", "b"]\nenabled = true\n\n[tunnel.listen]\nhost = "0.0.0.0"\nport = 443\n';
    const json = JSON.stringify(expected);
    expect(parseConfigText(yaml, 'yaml')).toEqual(expected);
    expect(JSON.parse(JSON.stringify(parseConfigText(toml, 'toml')))).toEqual(expected);
    expect(parseConfigText(json, 'json')).toEqual(expected);
  });

  it('an empty or comment-only document is {}', () => {
    expect(parseConfigText('', 'yaml')).toEqual({});
    expect(parseConfigText('# nothing\n', 'yaml')).toEqual({});
    expect(parseConfigText('', 'toml')).toEqual({});
    expect(parseConfigText('  \n', 'json')).toEqual({});
  });

  it('YAML errors give file, line and column, one line, no file excerpt', () => {
    const err = parseFail('a: 1\nb: [1, 2\nc: 3\n', 'yaml', '/etc/x.yaml');
    expect(err.code).toBe('RUNTIME_CONFIG_PARSE');
    expect(err.file).toBe('/etc/x.yaml');
    expect(err.line).toBe(3);
    expect(err.column).toBe(1);
    expect(err.message).toMatch(/^config file \/etc\/x\.yaml: line 3, column 1: invalid YAML: /);
    expect(err.message).not.toContain('\n');
    expect(err.details).toMatchObject({ format: 'yaml', file: '/etc/x.yaml', line: 3, column: 1 });
  });

  it('YAML duplicate keys are an error at the duplicate', () => {
    const err = parseFail('psk: one\npsk: two\n', 'yaml');
    expect(err.line).toBe(2);
    expect(err.message).toContain('YAML config: line 2');
    expect(err.message).toMatch(/unique/);
    expect(err.message).not.toContain('two');
  });

  it('YAML alias bombs are refused', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`);
    const err = parseFail(`${lines.join('\n')}\n`, 'yaml');
    expect(err.code).toBe('RUNTIME_CONFIG_PARSE');
    expect(err.message).toMatch(/alias/i);
  });

  it('TOML errors give line and column', () => {
    const err = parseFail('a = 1\nb = [1, \nc=3\n', 'toml', 'x.toml');
    expect(err.code).toBe('RUNTIME_CONFIG_PARSE');
    expect(err.line).toBe(3);
    expect(err.column).toBe(1);
    expect(err.message).toMatch(/^config file x\.toml: line 3, column 1: invalid TOML: /);
    expect(err.message).not.toContain('\n');
  });

  it('JSON errors give line and column from the position', () => {
    const err = parseFail('{\n  "a": 1,\n  }', 'json', 'x.json');
    expect(err.code).toBe('RUNTIME_CONFIG_PARSE');
    expect(err.line).toBe(3);
    expect(err.column).toBe(3);
    expect(err.message).toMatch(/^config file x\.json: line 3, column 3: invalid JSON: /);
    const quoted = parseFail('psk: hunter2-secret\n', 'json', 'x.json');
    expect(quoted.message).toBe('config file x.json: line 1, column 1: invalid JSON: unexpected character "p"');
    const eof = parseFail('{"a": ', 'json');
    expect(eof.message).toMatch(/^JSON config: (line \d+, column \d+: )?invalid JSON: /);
  });

  it('lineColumnAt counts 1-based lines and columns', () => {
    expect(lineColumnAt('abc', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumnAt('a\nbc', 3)).toEqual({ line: 2, column: 2 });
    expect(lineColumnAt('a\n', 99)).toEqual({ line: 2, column: 1 });
  });
});
