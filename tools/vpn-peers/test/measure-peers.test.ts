// measurePeers as root, short: every BENCH.md name is reported, with a number when the peer
// ran and with null + the reason when it could not start (never left out); tunnels stopped.
import { describe, expect, it } from 'vitest';
import { PEER_RESULT_NAMES, measurePeers, preparePeers } from '../src/index.js';
import { namespacePids, reportNotRoot, root, useLab } from './root-gate.js';

reportNotRoot();

describe.runIf(root.ok)('measurePeers', () => {
  const lab = useLab();

  it('reports every name; a peer that cannot start is null with its error', async () => {
    const rows = await measurePeers(lab.get(), { runs: 1, seconds: 1, pingCount: 3, openvpn: { openvpn: '/nonexistent/openvpn' } });
    expect(rows.map((r) => r.name)).toEqual([
      PEER_RESULT_NAMES.linkTcp,
      PEER_RESULT_NAMES.openvpnTcp,
      PEER_RESULT_NAMES.wireguardGoTcp,
      PEER_RESULT_NAMES.linkRtt,
      PEER_RESULT_NAMES.openvpnRttAdded,
      PEER_RESULT_NAMES.wireguardGoRttAdded,
    ]);
    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const name of ['openvpn-tcp', 'openvpn-rtt-added']) {
      expect(byName.get(name)).toMatchObject({ value: null, runs: 0, kind: 'peer', error: 'openvpn did not start: program not found: /nonexistent/openvpn (install the Debian package openvpn)' });
    }
    expect(byName.get('link-tcp')).toMatchObject({ unit: 'Mbit/s', kind: 'peer', runs: 1 });
    expect(byName.get('wireguard-go-tcp')).toMatchObject({ unit: 'Mbit/s', kind: 'peer', runs: 1, ratioTo: 'link-tcp' });
    expect(byName.get('wireguard-go-rtt-added')).toMatchObject({ unit: 'ms', runs: 1 });
    expect(byName.get('wireguard-go-tcp')!.value).toBeGreaterThan(1);
    expect(byName.get('link-tcp')!.value).toBeGreaterThan(byName.get('wireguard-go-tcp')!.value!);
    expect(byName.get('link-rtt')!.value).toBeGreaterThan(0);
    expect(byName.get('wireguard-go-rtt-added')!.value).toBeGreaterThan(0);
    expect(rows.every((r) => r.error === undefined || r.value === null)).toBe(true);
    // measurePeers stopped its tunnels.
    expect(await namespacePids(lab.get(), 'client')).toEqual([]);
    expect(await namespacePids(lab.get(), 'server')).toEqual([]);
  });

  it('hands out contenders (no baseline) for a bench of its own and stops what it started', async () => {
    const peers = await preparePeers(lab.get(), { peers: ['wireguard-go'], baseline: false, seconds: 1, pingCount: 2, link: 'wan', client: 'client', server: 'server' });
    try {
      expect(peers.contenders.map((c) => [c.name, c.ratioTo, c.unavailable])).toEqual([
        ['wireguard-go-tcp', undefined, undefined],
        ['wireguard-go-rtt-added', undefined, undefined],
      ]);
      expect(peers.tunnels.map((t) => t.peer)).toEqual(['wireguard-go']);
      expect(peers.errors).toEqual({});
    } finally {
      await peers.stop();
    }
    expect(await namespacePids(lab.get(), 'client')).toEqual([]);
    await expect(preparePeers(lab.get(), { link: 'nope' })).rejects.toMatchObject({ code: 'VPN_PEERS_INVALID_ARGUMENT', message: 'the lab has no link "nope"' });
  });
});
