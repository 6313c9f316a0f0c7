// The netevd config: defaults, and errors that name the path, the value and the expectation.
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatConfigError } from '@edgebox/runtime';
import { isLoopback, parseConfig, validate } from '../src/config.js';
import { tempDir } from './helpers.js';

const message = async (doc: unknown): Promise<string> => {
  try {
    await parseConfig(doc);
  } catch (err) {
    return formatConfigError(err);
  }
  throw new Error('expected a config error');
};

describe('netevd config', () => {
  it('fills defaults', async () => {
    const c = await parseConfig({});
    expect(c.backends).toEqual(['netlink']);
    expect(c.scripts).toMatchObject({ dir: '/etc/netevd', timeoutMs: 30_000, retries: 0, startup: true, ownerUid: 0 });
    expect(c.routing).toMatchObject({ interfaces: [], tables: { min: 1000, max: 1999 }, priorities: { min: 30000, max: 30999 }, protocol: 236 });
    expect(c.api).toMatchObject({ enabled: true, host: '127.0.0.1', port: 9480 });
    expect(c.interfaces.exclude).toEqual(['lo']);
  });

  it.each([
    [{ backends: ['systemd'] }, 'netevd.backends[0]', 'one of "netlink", "networkd", "networkmanager"'],
    [{ api: { host: '0.0.0.0' } }, 'netevd.api.token', 'api.host 0.0.0.0 is not loopback'],
    [{ routing: { interfaces: [{ name: 'wan0' }], ecmp: { interfaces: ['wan9'] } } }, 'netevd.routing.ecmp.interfaces[0]', 'one of routing.interfaces (wan0)'],
    [{ routing: { tables: { min: 200, max: 300 } } }, 'netevd.routing.tables', 'leaves out 253'],
    [{ routing: { interfaces: [{ name: '$(reboot)' }] } }, 'netevd.routing.interfaces[0].name', '"$(reboot)" is not valid'],
    [{ routing: { interfaces: [{ name: 'a0' }, { name: 'a0' }] } }, 'netevd.routing.interfaces[1].name', 'a name not listed before'],
    [{ scripts: { filter: 'states.new ==' } }, 'netevd.scripts.filter', 'filter condition'],
    [{ scripts: { timeoutMs: 5 } }, 'netevd.scripts.timeoutMs', '10'],
    [{ routing: { interfaces: [{ name: 'a0', gateway4: 'fd00::1' }] } }, 'netevd.routing.interfaces[0].gateway4', 'an IPv4 address'],
    [{ scripts: { dirr: '/x' } }, 'netevd.scripts.dirr', 'unknown key'],
  ])('%j is refused naming %s', async (doc, path, expected) => {
    const m = await message(doc);
    expect(m).toContain(path);
    expect(m).toContain(expected);
  });

  it('validate() reads YAML files and names the file in errors', async () => {
    const dir = await tempDir();
    const good = join(dir, 'good.yaml');
    await writeFile(good, 'backends: [netlink]\nrouting:\n  interfaces:\n    - name: wan0\n      gateway4: 192.0.2.1\n');
    expect((await validate(good)).routing.interfaces[0]).toMatchObject({ name: 'wan0', gateway4: '192.0.2.1', from: true, to: true });
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'debounce:\n  waitMs: fast\n');
    await expect(validate(bad)).rejects.toSatisfy((e) => formatConfigError(e).includes(bad) && formatConfigError(e).includes('netevd.debounce.waitMs: "fast"'));
    await expect(validate(join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'RUNTIME_CONFIG_NOT_FOUND' });
    await rm(dir, { recursive: true, force: true });
  });

  it('knows loopback', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.1.2.3')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('10.0.0.1')).toBe(false);
  });
});
