// The long-lived `ip -j -batch -` reader the netlink source uses (no root: reads only): it
// answers like a fresh `ip`, one line per command, and sends anything but its one command (and
// everything after close) to a fresh `ip`.
import { describe, expect, it } from 'vitest';
import { createBatchIp, ipJson, runIp } from '../src/ip-command.js';
import type { IpLinkJson } from '../src/ip-command.js';

describe('createBatchIp', () => {
  it('answers repeated reads in order over one process, like a fresh ip', async () => {
    const batch = createBatchIp(undefined);
    try {
      const reads = await Promise.all([1, 2, 3].map(() => ipJson<IpLinkJson[]>(batch.run, ['addr', 'show'])));
      const fresh = await ipJson<IpLinkJson[]>(runIp, ['addr', 'show']);
      for (const r of reads) expect(r.map((l) => [l.ifname, (l.addr_info ?? []).map((a) => a.local)])).toEqual(fresh.map((l) => [l.ifname, (l.addr_info ?? []).map((a) => a.local)]));
      expect(reads[0]!.find((l) => l.ifname === 'lo')?.addr_info?.some((a) => a.local === '127.0.0.1')).toBe(true);
      expect(batch.stats).toMatchObject({ batched: 3, fallbacks: 0 });
    } finally {
      batch.close();
    }
  });

  it('other commands, and any after close, go to a fresh ip', async () => {
    const batch = createBatchIp(undefined);
    const lo = await ipJson<IpLinkJson[]>(batch.run, ['link', 'show', 'dev', 'lo']);
    expect(lo).toHaveLength(1);
    await expect(batch.run(['-j', 'link', 'show', 'dev', 'nosuchdev0'])).rejects.toMatchObject({ code: 'NETEVD_COMMAND_FAILED' });
    expect(batch.stats).toMatchObject({ batched: 0, fallbacks: 2 });
    batch.close();
    expect((await ipJson<IpLinkJson[]>(batch.run, ['addr', 'show'])).length).toBeGreaterThan(0);
    expect(batch.stats.fallbacks).toBe(3);
  });
});
