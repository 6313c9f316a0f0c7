// resolveOpsUrl: where a running instance's ops server is, from --url, --config or the default.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resolveOpsUrl } from '../src/index.js';

const schema = z.object({ ops: z.object({ host: z.string().default('127.0.0.1'), port: z.int().default(9999) }).prefault({}) });

describe('resolveOpsUrl', () => {
  it('takes --url as given, else the config file’s ops host and port (IPv6 bracketed), else the default port', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ops-url-'));
    try {
      const base = { schema, section: 'demo', env: {}, defaultPort: 9470 };
      expect(await resolveOpsUrl({ ...base, url: 'http://10.0.0.1:1234//' })).toBe('http://10.0.0.1:1234');
      const v6 = join(dir, 'v6.yaml');
      await writeFile(v6, 'ops:\n  host: "::1"\n  port: 9555\n');
      expect(await resolveOpsUrl({ ...base, config: v6 })).toBe('http://[::1]:9555');
      const v4 = join(dir, 'v4.json');
      await writeFile(v4, '{}');
      expect(await resolveOpsUrl({ ...base, config: v4 })).toBe('http://127.0.0.1:9999');
      expect(await resolveOpsUrl({ ...base, config: v4, env: { EDGEBOX_DEMO__OPS__PORT: '7000' } })).toBe('http://127.0.0.1:7000');
      expect(await resolveOpsUrl(base)).toBe('http://127.0.0.1:9470');
      await expect(resolveOpsUrl({ ...base, config: join(dir, 'missing.yaml') })).rejects.toThrow(/missing\.yaml/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
