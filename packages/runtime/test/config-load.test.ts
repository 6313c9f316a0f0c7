import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONFIG_MAX_BYTES, loadConfig, readConfigFile } from '../src/index.js';
import type { ConfigError } from '../src/index.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const Schema = z.object({ listen: z.object({ port: z.int().min(1).max(65535) }), name: z.string().default('edge') });
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'runtime-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, text: string | Buffer): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const fail = (p: Promise<unknown>): Promise<ConfigError> => p.then(
  () => {
    throw new Error('expected an error');
  },
  (e: unknown) => e as ConfigError,
);

describe('loadConfig from files', () => {
  it('loads YAML (.yaml and .yml), TOML and JSON files by extension', async () => {
    const files = [
      write('a.yaml', 'listen:\n  port: 443\n'),
      write('a.yml', 'listen: {port: 443}\n'),
      write('a.toml', '[listen]\nport = 443\n'),
      write('a.json', '{"listen": {"port": 443}}'),
    ];
    for (const file of files) {
      const loaded = await loadConfig({ file, schema: Schema, env: {} });
      expect(loaded.config).toEqual({ listen: { port: 443 }, name: 'edge' });
      expect(loaded.source.file).toBe(file);
      expect(loaded.document).toMatchObject({ listen: { port: 443 } });
    }
    expect((await loadConfig({ file: files[2]!, schema: Schema, env: {} })).source.format).toBe('toml');
  });

  it('an unknown extension reads as YAML unless a format is given', async () => {
    const conf = write('edgebox.conf', 'listen:\n  port: 1\n');
    expect((await loadConfig({ file: conf, schema: Schema, env: {} })).source.format).toBe('yaml');
    const err = await fail(loadConfig({ file: conf, format: 'json', schema: Schema, env: {} }));
    expect(err.code).toBe('RUNTIME_CONFIG_PARSE');
    expect(err.line).toBe(1);
  });

  it('strips a UTF-8 BOM and refuses invalid UTF-8', async () => {
    const bom = write('bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"listen":{"port":2}}')]));
    expect((await loadConfig({ file: bom, schema: Schema, env: {} })).config.listen.port).toBe(2);
    expect((await loadConfig({ text: '\ufeff{"listen":{"port":3}}', format: 'json', schema: Schema, env: {} })).config.listen.port).toBe(3);
    const bad = write('bad.yaml', Buffer.from([0x6c, 0x3a, 0x20, 0xff, 0xfe]));
    const err = await fail(loadConfig({ file: bad, schema: Schema, env: {} }));
    expect(err.code).toBe('RUNTIME_CONFIG_PARSE');
    expect(err.message).toContain('not valid UTF-8');
  });

  it('a missing file is RUNTIME_CONFIG_NOT_FOUND naming it', async () => {
    const file = join(dir, 'nope.yaml');
    const err = await fail(loadConfig({ file, schema: Schema, env: {} }));
    expect(err.code).toBe('RUNTIME_CONFIG_NOT_FOUND');
    expect(err.message).toBe(`config file ${file} not found`);
    expect(err.details).toMatchObject({ file });
    const under = await fail(loadConfig({ file: join(write('plain', 'x'), 'child.yaml'), schema: Schema, env: {} }));
    expect(under.code).toBe('RUNTIME_CONFIG_NOT_FOUND');
  });

  it('a directory or an unreadable file is RUNTIME_CONFIG_UNREADABLE', async () => {
    const sub = join(dir, 'sub.yaml');
    mkdirSync(sub);
    const err = await fail(loadConfig({ file: sub, schema: Schema, env: {} }));
    expect(err.code).toBe('RUNTIME_CONFIG_UNREADABLE');
    expect(err.message).toMatch(/is a directory/);
    const locked = write('locked.yaml', 'listen: {port: 1}\n');
    chmodSync(locked, 0o000);
    if (process.getuid?.() !== 0) {
      const denied = await fail(loadConfig({ file: locked, schema: Schema, env: {} }));
      expect(denied.code).toBe('RUNTIME_CONFIG_UNREADABLE');
      expect(denied.message).toBe(`config file ${locked} cannot be read: permission denied`);
      return;
    }
    // root reads anything: run readConfigFile as nobody in a child process
    chmodSync(dir, 0o755);
    const script = `import { readConfigFile } from '@edgebox/runtime';
      try { await readConfigFile(${JSON.stringify(locked)}); console.log('read'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, details: e.details })); }`;
    const out = execFileSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--conditions=@edgebox/source', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: pkgDir, encoding: 'utf8', env: { ...process.env, HOME: '/tmp', TSX_DISABLE_CACHE: '1' } },
    );
    expect(JSON.parse(out)).toEqual({
      code: 'RUNTIME_CONFIG_UNREADABLE',
      message: `config file ${locked} cannot be read: permission denied`,
      details: { file: locked, errno: 'EACCES' },
    });
  });

  it('refuses files and texts over the size limit, at limit+1 and not at the limit', async () => {
    const at = write('at.yaml', `listen: {port: 1}\n#${'x'.repeat(100 - 20)}\n`);
    expect(Buffer.byteLength(`listen: {port: 1}\n#${'x'.repeat(80)}\n`)).toBe(100);
    await expect(loadConfig({ file: at, schema: Schema, env: {}, maxBytes: 100 })).resolves.toBeDefined();
    const over = write('over.yaml', `listen: {port: 1}\n#${'x'.repeat(81)}\n`);
    const err = await fail(loadConfig({ file: over, schema: Schema, env: {}, maxBytes: 100 }));
    expect(err.code).toBe('RUNTIME_CONFIG_TOO_LARGE');
    expect(err.message).toBe(`config file ${over} is 101 bytes: expected at most 100`);
    const text = await fail(loadConfig({ text: 'x'.repeat(101), schema: Schema, env: {}, maxBytes: 100 }));
    expect(text.code).toBe('RUNTIME_CONFIG_TOO_LARGE');
    expect(CONFIG_MAX_BYTES).toBe(1024 * 1024);
    const big = write('big.yaml', 'x'.repeat(CONFIG_MAX_BYTES + 1));
    expect((await fail(loadConfig({ file: big, schema: Schema, env: {} }))).code).toBe('RUNTIME_CONFIG_TOO_LARGE');
  });

  it('reads a device that never ends only up to the limit', async () => {
    const err = await fail(readConfigFile('/dev/zero', 1000));
    expect(err.code).toBe('RUNTIME_CONFIG_TOO_LARGE');
    expect(err.message).toBe('config file /dev/zero is over 1000 bytes');
  });

  it('a parse error in a file names the file and the line', async () => {
    const file = write('broken.yaml', 'listen:\n  port: 1\n psk: [x\n');
    const err = await fail(loadConfig({ file, schema: Schema, env: {} }));
    expect(err.code).toBe('RUNTIME_CONFIG_PARSE');
    expect(err.message).toContain(`config file ${file}: line 3`);
  });

  it('a schema error in a file is labelled with the file', async () => {
    const file = write('invalid.toml', '[listen]\nport = 70000\n');
    const err = await fail(loadConfig({ file, schema: Schema, env: {} }));
    expect(err.code).toBe('RUNTIME_CONFIG_INVALID');
    expect(err.message).toBe(`config file ${file} is invalid: listen.port: 70000 is not valid: expected integer <= 65535`);
    expect(err.details).toMatchObject({ file });
  });

  it('takes exactly one source; none means {} plus env and defaults', async () => {
    await expect(loadConfig({ file: 'a', text: 'b', schema: Schema })).rejects.toMatchObject({ code: 'RUNTIME_INVALID_ARGUMENT' });
    const loaded = await loadConfig({ schema: Schema, env: { EDGEBOX_LISTEN__PORT: '7' } });
    expect(loaded.config).toEqual({ listen: { port: 7 }, name: 'edge' });
    expect(loaded.source).toEqual({ kind: 'none' });
    const text = await loadConfig({ text: 'listen: {port: 9}', schema: Schema, env: {} });
    expect(text.source).toEqual({ kind: 'text', format: 'yaml' });
    expect((await loadConfig({ value: { listen: { port: 1 } }, schema: Schema, env: {} })).source).toEqual({ kind: 'value' });
  });
});
