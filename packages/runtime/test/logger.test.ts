import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, createPrettyStream, newCorrelationId, prettyLine } from '../src/index.js';

function collect(): { lines: string[]; stream: { write(s: string): void }; records: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  return {
    lines,
    stream: { write: (s: string) => lines.push(s) },
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes JSON lines with app, pid, ISO time and a level label', () => {
    const out = collect();
    const log = createLogger({ app: 'tunnel', destination: out.stream, env: {} });
    log.info({ peer: 'edge-2' }, 'session up');
    const [rec] = out.records();
    expect(rec).toMatchObject({ app: 'tunnel', pid: process.pid, level: 'info', msg: 'session up', peer: 'edge-2' });
    expect(new Date(rec!['time'] as string).toISOString()).toBe(rec!['time']);
    expect(rec).not.toHaveProperty('hostname');
  });

  it('child({correlationId}) adds the id to every line', () => {
    const out = collect();
    const log = createLogger({ app: 'tunnel', destination: out.stream, env: {} });
    const id = newCorrelationId();
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    log.child({ correlationId: id }).warn('slow peer');
    expect(out.records()[0]).toMatchObject({ correlationId: id, level: 'warn', app: 'tunnel' });
  });

  it('redacts secret fields at the top level and two levels down', () => {
    const out = collect();
    const log = createLogger({ app: 'p2p', destination: out.stream, env: {}, redact: ['custom.field'] });
    log.info({ psk: 'a', config: { privateKey: 'b', tls: { password: 'c' } }, token: 'd', custom: { field: 'e' }, ok: 'visible' }, 'cfg');
    const line = out.lines[0]!;
    for (const secret of ['"a"', '"b"', '"c"', '"d"', '"e"']) expect(line).not.toContain(secret);
    expect(out.records()[0]).toMatchObject({ psk: '[REDACTED]', config: { privateKey: '[REDACTED]', tls: { password: '[REDACTED]' } }, ok: 'visible' });
  });

  it('takes the level from the option, else EDGEBOX_LOG_LEVEL, else info', () => {
    expect(createLogger({ app: 'a', destination: collect().stream, env: {} }).level).toBe('info');
    expect(createLogger({ app: 'a', destination: collect().stream, env: { EDGEBOX_LOG_LEVEL: 'DEBUG' } }).level).toBe('debug');
    expect(createLogger({ app: 'a', destination: collect().stream, env: { EDGEBOX_LOG_LEVEL: '' } }).level).toBe('info');
    expect(createLogger({ app: 'a', level: 'error', destination: collect().stream, env: { EDGEBOX_LOG_LEVEL: 'debug' } }).level).toBe('error');
    const out = collect();
    const log = createLogger({ app: 'a', destination: out.stream, env: { EDGEBOX_LOG_LEVEL: 'warn' } });
    log.info('hidden');
    log.warn('shown');
    expect(out.records().map((r) => r['msg'])).toEqual(['shown']);
  });

  it('refuses an unknown level with RUNTIME_INVALID_ARGUMENT naming where it came from', () => {
    expect(() => createLogger({ app: 'a', env: { EDGEBOX_LOG_LEVEL: 'loud' } })).toThrowError(
      expect.objectContaining({ code: 'RUNTIME_INVALID_ARGUMENT', message: 'EDGEBOX_LOG_LEVEL "loud" is not valid: expected one of trace, debug, info, warn, error, fatal, silent' }),
    );
    expect(() => createLogger({ app: 'a', level: 'x' as never })).toThrow(/level "x"/);
  });

  it('silent logs nothing', () => {
    const out = collect();
    const log = createLogger({ app: 'a', silent: true, level: 'trace', destination: out.stream });
    log.fatal('nothing');
    expect(out.lines).toEqual([]);
    expect(log.level).toBe('silent');
  });

  it('writes to a file path synchronously and to stdout by default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runtime-log-'));
    try {
      const file = join(dir, 'sub', 'app.log');
      createLogger({ app: 'a', destination: file, env: {} }).info('to file');
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ msg: 'to file' });
      expect(createLogger({ app: 'a', env: {}, level: 'silent' }).level).toBe('silent');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pretty: true writes one readable line per record', () => {
    const out = collect();
    const log = createLogger({ app: 'demo', pretty: true, destination: out.stream, env: {} });
    log.info({ intervalMs: 1000, peer: { id: 1 } }, 'started');
    log.error({ err: new Error('boom') }, 'failed');
    expect(out.lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}demo: started intervalMs=1000 peer=\{"id":1\}\n$/);
    expect(out.lines[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR demo: failed\n {2}Error: boom\n/);
  });

  it('prettyLine passes non-JSON through and tolerates odd records', () => {
    expect(prettyLine('not json')).toBe('not json\n');
    expect(prettyLine('already\n')).toBe('already\n');
    expect(prettyLine('{"level":"custom","msg":"m","err":{"message":"x"}}')).toBe(' CUSTOM : m\n  x\n');
    const lines: string[] = [];
    createPrettyStream({ write: (s) => lines.push(s) }).write('{"level":"info","app":"a","msg":"hi","time":"2026-01-01T10:20:30.456Z"}\n');
    expect(lines).toEqual(['10:20:30.456 INFO  a: hi\n']);
  });
});
