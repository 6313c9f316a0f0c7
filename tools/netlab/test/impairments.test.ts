// Link impairments as root: tc tbf holds iperf3 near the set rate; nftables numgen drops
// roughly the set share of pings and touches only the lab's own table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, gc, NFT_TABLE, runCommand } from '@edgebox/netlab';
import type { Lab } from '@edgebox/netlab';
import { pingStats, reportNotRoot, root } from './root-gate.js';

reportNotRoot();

describe.runIf(root.ok)('impairments', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await createLab({
      nodes: { a: {}, b: {} },
      links: [{ name: 'ab', a: { node: 'a', ipv4: '10.52.0.1/24' }, b: { node: 'b', ipv4: '10.52.0.2/24' } }],
    });
  });
  afterAll(async () => {
    await lab?.destroy();
    await gc({ own: true });
  });

  it('tbf limits iperf3 throughput to near the set rate', async () => {
    const l = lab!;
    const rate = 20;
    await l.setRate('ab', 'a', rate);
    const qdiscs = await l.exec('a', 'tc', ['qdisc', 'show', 'dev', 'ab']);
    expect(qdiscs.stdout).toMatch(/tbf .*rate 20Mbit/);
    expect((await l.exec('b', 'tc', ['qdisc', 'show', 'dev', 'ab'])).stdout).not.toContain('tbf');

    const server = l.spawn('b', 'iperf3', ['-s', '-1', '--forceflush', '-B', l.address('b', 'ab')]);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`iperf3 server not listening after 10 s: ${seen}`)), 10_000);
      let seen = '';
      server.stdout!.on('data', (c: Buffer) => {
        seen += c.toString();
        if (seen.includes('Server listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      server.once('exit', (code) => reject(new Error(`iperf3 server exited ${code}: ${seen}`)));
    });
    const res = await l.exec('a', 'iperf3', ['-c', l.address('b', 'ab'), '-t', '3', '-J'], { timeoutMs: 30_000 });
    const report = JSON.parse(res.stdout) as { end: { sum_received: { bits_per_second: number } } };
    const mbit = report.end.sum_received.bits_per_second / 1e6;
    console.log(`iperf3 through tbf ${rate} Mbit/s: ${mbit.toFixed(1)} Mbit/s`);
    // Loose bounds: near the rate, never far above it (an unlimited veth does gigabits).
    expect(mbit).toBeLessThan(rate * 1.5);
    expect(mbit).toBeGreaterThan(rate * 0.3);

    await l.setRate('ab', null);
    expect((await l.exec('a', 'tc', ['qdisc', 'show', 'dev', 'ab'])).stdout).not.toContain('tbf');
  });

  it('nftables loss drops roughly the set share and touches only the lab table', async () => {
    const l = lab!;
    // A bystander table in the node and the host ruleset must come through unchanged.
    await l.exec('a', 'nft', ['add', 'table', 'inet', 'bystander']);
    await l.exec('a', 'nft', ['add', 'chain', 'inet', 'bystander', 'c', '{ type filter hook input priority 10; policy accept; }']);
    await l.exec('a', 'nft', ['add', 'rule', 'inet', 'bystander', 'c', 'ip', 'daddr', '192.0.2.1', 'accept']);
    const bystander = (await l.exec('a', 'nft', ['list', 'table', 'inet', 'bystander'])).stdout;
    const host = (await runCommand('nft', ['list', 'ruleset'])).stdout;

    await l.setLoss('ab', 'a', 30);
    const ping = await l.exec('a', 'ping', ['-q', '-c', '200', '-i', '0.01', '-W', '1', l.address('b', 'ab')], { check: false, timeoutMs: 30_000 });
    const { sent, received } = pingStats(ping.stdout);
    const loss = 1 - received / sent;
    expect(loss).toBeGreaterThan(0.12);
    expect(loss).toBeLessThan(0.5);

    const tables = (await l.exec('a', 'nft', ['list', 'tables'])).stdout;
    expect(tables).toContain(`table inet ${NFT_TABLE}`);
    expect(tables).toContain('table inet bystander');
    expect((await l.exec('a', 'nft', ['list', 'table', 'inet', 'bystander'])).stdout).toBe(bystander);
    expect((await l.exec('b', 'nft', ['list', 'tables'])).stdout).not.toContain(NFT_TABLE);
    expect((await runCommand('nft', ['list', 'ruleset'])).stdout).toBe(host);

    await l.setLoss('ab', 0);
    expect((await l.exec('a', 'nft', ['list', 'tables'])).stdout.trim()).toBe('table inet bystander');
    const clean = await l.exec('a', 'ping', ['-q', '-c', '50', '-i', '0.01', '-W', '1', l.address('b', 'ab')]);
    expect(pingStats(clean.stdout).received).toBe(50);
  });

  it('100 % loss drops everything (an unconditional rule: numgen cannot express < 10000)', async () => {
    const l = lab!;
    await l.setLoss('ab', 'a', 100);
    const ping = await l.exec('a', 'ping', ['-q', '-c', '5', '-i', '0.05', '-W', '1', l.address('b', 'ab')], { check: false, timeoutMs: 20_000 });
    expect(pingStats(ping.stdout).received).toBe(0);
    await l.setLoss('ab', 0);
    const clean = await l.exec('a', 'ping', ['-q', '-c', '3', '-i', '0.05', '-W', '1', l.address('b', 'ab')]);
    expect(pingStats(clean.stdout).received).toBe(3);
  });

  it('applies rate and loss from the spec at build time', async () => {
    const l2 = await createLab({
      nodes: { a: {}, b: {} },
      links: [{ name: 'ab', a: { node: 'a', ipv4: '10.53.0.1/24', lossPercent: 10 }, b: { node: 'b', ipv4: '10.53.0.2/24' }, rateMbit: 50 }],
    });
    try {
      expect((await l2.exec('a', 'tc', ['qdisc', 'show', 'dev', 'ab'])).stdout).toMatch(/tbf .*rate 50Mbit/);
      expect((await l2.exec('b', 'tc', ['qdisc', 'show', 'dev', 'ab'])).stdout).toMatch(/tbf .*rate 50Mbit/);
      expect((await l2.exec('a', 'nft', ['list', 'table', 'inet', NFT_TABLE])).stdout).toContain('numgen random mod 10000 < 1000');
      expect((await l2.exec('b', 'nft', ['list', 'tables'])).stdout).not.toContain(NFT_TABLE);
    } finally {
      await l2.destroy();
    }
  });
});
