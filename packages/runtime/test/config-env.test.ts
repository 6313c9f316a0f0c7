import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { applyEnvOverrides, loadConfig, parseEnvValue } from '../src/index.js';
import type { ConfigError } from '../src/index.js';

const Appliance = z.object({
  tunnel: z
    .object({
      listen: z.object({ host: z.string().default('127.0.0.1'), port: z.int().max(65535).default(443) }).prefault({}),
      listenBacklog: z.int().optional(),
      peers: z.array(z.object({ address: z.string() })).default([]),
      mode: z.string().default('udp'),
    })
    .prefault({}),
  demo: z.object({ intervalMs: z.int().default(1000) }).prefault({}),
});

describe('env overrides', () => {
  it('parses values as JSON when they parse, else keeps the string', () => {
    expect(parseEnvValue('70000')).toBe(70000);
    expect(parseEnvValue('true')).toBe(true);
    expect(parseEnvValue('["a","b"]')).toEqual(['a', 'b']);
    expect(parseEnvValue('"007"')).toBe('007');
    expect(parseEnvValue('eth0')).toBe('eth0');
    expect(parseEnvValue('')).toBe('');
  });

  it('EDGEBOX_<SECTION>__<KEY>__<SUB> nests on double underscores over the file', async () => {
    const { config, overrides } = await loadConfig({
      text: 'tunnel:\n  listen:\n    port: 1000\n  mode: tcp\n',
      schema: Appliance,
      env: { EDGEBOX_TUNNEL__LISTEN__PORT: '8443', EDGEBOX_TUNNEL__LISTEN__HOST: '0.0.0.0', OTHER: 'x' },
    });
    expect(config.tunnel.listen).toEqual({ host: '0.0.0.0', port: 8443 });
    expect(config.tunnel.mode).toBe('tcp');
    expect(overrides).toEqual([
      { name: 'EDGEBOX_TUNNEL__LISTEN__HOST', path: 'tunnel.listen.host' },
      { name: 'EDGEBOX_TUNNEL__LISTEN__PORT', path: 'tunnel.listen.port' },
    ]);
  });

  it('matches camelCase keys from single-underscore names, from the document or the schema', async () => {
    const { config } = await loadConfig({
      value: { demo: { intervalMs: 5 } },
      schema: Appliance,
      env: { EDGEBOX_DEMO__INTERVAL_MS: '250', EDGEBOX_TUNNEL__LISTEN_BACKLOG: '64' },
    });
    expect(config.demo.intervalMs).toBe(250);
    expect(config.tunnel.listenBacklog).toBe(64);
  });

  it('addresses array elements by index', async () => {
    const { config } = await loadConfig({
      value: { tunnel: { peers: [{ address: 'a' }, { address: 'b' }] } },
      schema: Appliance,
      env: { EDGEBOX_TUNNEL__PEERS__1__ADDRESS: '10.0.0.2' },
    });
    expect(config.tunnel.peers).toEqual([{ address: 'a' }, { address: '10.0.0.2' }]);
  });

  it('with a section, the document is that section and only its variables apply', async () => {
    const Tunnel = Appliance.shape.tunnel;
    const { config, overrides } = await loadConfig({
      text: '{"listen": {"port": 1}}',
      format: 'json',
      schema: Tunnel,
      section: 'tunnel',
      env: { EDGEBOX_TUNNEL__LISTEN__PORT: '9000', EDGEBOX_DEMO__INTERVAL_MS: '5', EDGEBOX_TUNNEL__MODE: 'tcp' },
    });
    expect(config.listen.port).toBe(9000);
    expect(config.mode).toBe('tcp');
    expect(overrides.map((o) => o.path)).toEqual(['tunnel.listen.port', 'tunnel.mode']);
  });

  it('ignores variables without a double underscore, empty segments and other prefixes', () => {
    const doc = { a: 1 };
    const { data, applied } = applyEnvOverrides(doc, {
      env: { EDGEBOX_LOG_LEVEL: 'debug', EDGEBOX_PORT: '1', EDGEBOX_A____B: '1', EDGEBOX___A: '1', OTHER_A__B: '1', EDGEBOX_A__UNSET: undefined },
    });
    expect(data).toBe(doc);
    expect(applied).toEqual([]);
  });

  it('supports a custom prefix with or without the trailing underscore', () => {
    expect(applyEnvOverrides({}, { env: { MYAPP_X__Y: '1' }, prefix: 'MYAPP' }).data).toEqual({ x: { y: 1 } });
    expect(applyEnvOverrides({}, { env: { MYAPP_X__Y: '1' }, prefix: 'MYAPP_' }).data).toEqual({ x: { y: 1 } });
  });

  it('does not mutate the input document and replaces scalars on the way', () => {
    const doc = { tunnel: { listen: 5 } };
    const { data } = applyEnvOverrides(doc, { env: { EDGEBOX_TUNNEL__LISTEN__PORT: '1' } });
    expect(doc).toEqual({ tunnel: { listen: 5 } });
    expect(data).toEqual({ tunnel: { listen: { port: 1 } } });
    expect(applyEnvOverrides(null, { env: { EDGEBOX_A__B: '1' } }).data).toEqual({ a: { b: 1 } });
    expect(applyEnvOverrides('scalar', { env: { EDGEBOX_A__B: '1' } }).data).toBe('scalar');
  });

  it('never walks into __proto__, constructor or prototype', () => {
    const { data, applied } = applyEnvOverrides({}, { env: { EDGEBOX_A____PROTO____POLLUTED: 'true', EDGEBOX_CONSTRUCTOR__X: '1', EDGEBOX_A__PROTOTYPE: '1' } });
    expect(applied).toEqual([]);
    expect(data).toEqual({});
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('an invalid override is reported with the variable that set it', async () => {
    const err = (await loadConfig({ value: {}, schema: Appliance, env: { EDGEBOX_TUNNEL__LISTEN__PORT: '70000' } }).catch((e: unknown) => e)) as ConfigError;
    expect(err.code).toBe('RUNTIME_CONFIG_INVALID');
    expect(err.issues[0]).toMatchObject({
      path: 'tunnel.listen.port',
      value: 70000,
      source: 'EDGEBOX_TUNNEL__LISTEN__PORT',
      message: 'tunnel.listen.port: 70000 is not valid: expected integer <= 65535 (from EDGEBOX_TUNNEL__LISTEN__PORT)',
    });
  });

  it('reads process.env when no env is given', async () => {
    process.env['EDGEBOX_ENVTEST__VALUE'] = '42';
    try {
      const { config } = await loadConfig({ value: {}, schema: z.object({ envtest: z.object({ value: z.number() }) }) });
      expect(config.envtest.value).toBe(42);
    } finally {
      delete process.env['EDGEBOX_ENVTEST__VALUE'];
    }
  });
});
