// The forwarder rows of the tunnel bench as root in a two-node lab: stunnel and ssh -L come
// up side by side (each on its own forwarded port), are measured alternately, and give the
// BENCH.md rows stunnel-tcp-1 and ssh-tcp-1; a forwarder that cannot start is a null row
// with the reason, not a missing one. Without root: names and the unavailable contender.
import { describe, expect, it } from 'vitest';
import { forwardContender, forwardResultName, measureForwardPeers } from '../src/index.js';
import { namespacePids, reportNotRoot, root, useLab } from './root-gate.js';

reportNotRoot();

describe('forwarder rows without a lab', () => {
  it('are named per BENCH.md and a forwarder that did not start is unavailable with the first line of why', () => {
    expect(forwardResultName('stunnel', 1)).toBe('stunnel-tcp-1');
    expect(forwardResultName('ssh', 8)).toBe('ssh-tcp-8');
    const c = forwardContender(undefined as never, 'ssh', undefined, new Error('ssh forward: sshd exited\n--- sshd ---\nlog'), { parallel: 8 });
    expect(c).toMatchObject({ name: 'ssh-tcp-8', unit: 'Mbit/s', kind: 'peer', unavailable: 'ssh did not start: ssh forward: sshd exited' });
  });
});

describe.runIf(root.ok)('forwarder rows in a lab', () => {
  const lab = useLab();

  it('measures stunnel-tcp-1 and ssh-tcp-1 alternately and stops both', async () => {
    const rows = await measureForwardPeers(lab.get(), { runs: 1, seconds: 1 });
    expect(rows.map((r) => r.name)).toEqual(['stunnel-tcp-1', 'ssh-tcp-1']);
    for (const r of rows) {
      expect(r).toMatchObject({ unit: 'Mbit/s', kind: 'peer', runs: 1 });
      expect(r.value).toBeGreaterThan(10);
    }
    expect(await namespacePids(lab.get(), 'client')).toEqual([]);
  });

  it('reports a forwarder that cannot start as value null with the reason', async () => {
    const rows = await measureForwardPeers(lab.get(), { runs: 1, seconds: 1, peers: ['stunnel'], parallel: [1, 2], stunnel: { stunnel: '/nonexistent/stunnel4' } });
    expect(rows.map((r) => [r.name, r.value])).toEqual([
      ['stunnel-tcp-1', null],
      ['stunnel-tcp-2', null],
    ]);
    expect(rows[0]!.error).toMatch(/stunnel did not start: program not found: \/nonexistent\/stunnel4 \(install the Debian package stunnel4\)/);
  });
});
