// edgebox-bond: argument handling, key generation and the status table, with fake io (the
// client/server commands run for real in e2e/test/bonding-lab.e2e.test.ts).
import { describe, expect, it } from 'vitest';
import { importIdentityPem } from '@edgebox/crypto';
import { formatLinkTable, runBondCli } from '../src/cli.js';
import type { BondIo } from '../src/cli.js';
import type { BondingLinkStatus, BondingStatus } from '../src/service.js';

function io(argv: string[], fetchImpl?: typeof fetch): BondIo & { lines: string[]; errors: string[]; code: number | undefined } {
  const r = {
    argv,
    env: {},
    lines: [] as string[],
    errors: [] as string[],
    code: undefined as number | undefined,
    out: (l: string) => r.lines.push(l),
    err: (l: string) => r.errors.push(l),
    exit: (c: number) => {
      r.code = c;
    },
    ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }),
  };
  return r;
}

const link = (over: Partial<BondingLinkStatus> = {}): BondingLinkStatus => ({
  peer: 'server',
  name: 'wan0',
  linkId: 0,
  label: 'fiber',
  tier: 'primary',
  state: 'up',
  rttMs: 12.345,
  jitterMs: 0.5,
  lossRatio: 0.0012,
  peerLossRatio: 0,
  txRateMbps: 91.2,
  rxRateMbps: 3.4,
  txBytes: 123456,
  rxBytes: 789,
  txPackets: 100,
  rxPackets: 10,
  endpoint: null,
  pathMtu: null,
  ...over,
});

const status: BondingStatus = {
  mode: 'client',
  running: true,
  tun: { name: 'bond0', mtu: 1416, rxPackets: 1, txPackets: 2, txDropped: 0 },
  handshake: { state: 'established', lastError: null, server: '198.51.100.1:51820' },
  server: null,
  counters: { unknownType: 0, unknownSession: 0, badAuth: 0, replayed: 0, handshakesRefused: 0, sessions: 1, rekeys: 0, mssClamped: 0 },
  peers: [
    {
      name: 'server',
      tunAddress: null,
      connected: true,
      connectedForSeconds: 3,
      scheduler: 'aggregate',
      txPackets: 100,
      txBytes: 1,
      rxPackets: 10,
      rxBytes: 1,
      drops: { noLink: 0, noSession: 0, sealRefused: 0, malformed: 0, tunDropped: 0 },
      reorder: { held: 0, maxWaitMs: 2, late: 0, skipped: 0, duplicate: 0, timeouts: 0, lossSkips: 0, deferred: 0 },
      retransmit: { enabled: true, nacksSent: 0, nackedSeqs: 0, retransmitted: 0, missed: 0 },
      links: [link(), link({ name: 'lte0', linkId: 1, label: null, state: 'down', rttMs: null })],
    },
  ],
};

const fakeFetch = (body: unknown, ok = true): typeof fetch =>
  (async (url: string | URL | Request) => {
    expect(String(url)).toBe('http://127.0.0.1:9999/status');
    return { ok, status: ok ? 200 : 503, json: async () => body } as Response;
  }) as typeof fetch;

describe('edgebox-bond CLI', () => {
  it('keys psk prints 32 random bytes in base64', async () => {
    const a = io(['keys', 'psk']);
    const b = io(['keys', 'psk']);
    await runBondCli(a);
    await runBondCli(b);
    expect(Buffer.from(a.lines[0]!, 'base64')).toHaveLength(32);
    expect(a.lines[0]).not.toBe(b.lines[0]);
  });

  it('keys identity prints an Ed25519 key that imports, and its public key', async () => {
    const r = io(['keys', 'identity']);
    await runBondCli(r);
    const pem = r.lines.slice(0, -1).join('\n');
    const id = importIdentityPem(pem);
    expect(r.lines.at(-1)).toBe(`# public key (base64) ${Buffer.from(id.publicKey).toString('base64')}`);
  });

  it('usage errors exit 2 and name the problem', async () => {
    for (const [argv, message] of [
      [['bogus'], /unknown command "bogus"/],
      [['client'], /client needs --config FILE/],
      [['keys', 'rsa'], /expected "keys psk" or "keys identity"/],
      [['status', '--nope'], /Unknown option/],
    ] as const) {
      const r = io([...argv]);
      await runBondCli(r);
      expect(r.code).toBe(2);
      expect(r.errors.join('\n')).toMatch(message);
    }
    const none = io([]);
    await runBondCli(none);
    expect(none.code).toBe(2);
    const help = io(['--help']);
    await runBondCli(help);
    expect(help.code).toBe(0);
    expect(help.lines[0]).toMatch(/^usage: edgebox-bond/);
  });

  it('a missing config file is a failure (exit 1) naming the file', async () => {
    const r = io(['server', '--config', '/nonexistent/bond.yaml']);
    await runBondCli(r);
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toMatch(/\/nonexistent\/bond\.yaml/);
  });

  it('status prints the session line and the per-link table', async () => {
    const r = io(['status', '--url', 'http://127.0.0.1:9999/'], fakeFetch({ service: status }));
    await runBondCli(r);
    expect(r.code).toBeUndefined();
    expect(r.lines[0]).toMatch(/^mode client {2}tun bond0 mtu 1416 {2}handshake established \(server 198\.51\.100\.1:51820\)$/);
    expect(r.lines[1]).toMatch(/^peer server: connected, scheduler aggregate/);
    expect(r.lines[2]).toMatch(/^peer +link +state +rtt ms +jitter ms +loss % +tx Mbit\/s/);
    expect(r.lines[3]).toMatch(/^server +wan0 \(fiber\) +up +12\.3 +0\.5 +0\.12 +91\.2 +3\.4 +123456 +789$/);
    expect(r.lines[4]).toMatch(/^server +lte0 +down +- /);
  });

  it('links --json prints the links only; a failing endpoint is exit 1', async () => {
    const r = io(['links', '--json', '--url', 'http://127.0.0.1:9999'], fakeFetch({ service: status }));
    await runBondCli(r);
    expect(JSON.parse(r.lines.join('\n'))).toEqual(status.peers[0]!.links);
    const bad = io(['status', '--url', 'http://127.0.0.1:9999'], fakeFetch({}, false));
    await runBondCli(bad);
    expect(bad.code).toBe(1);
    expect(bad.errors[0]).toMatch(/answered 503/);
  });

  it('formats an empty table as its header', () => {
    expect(formatLinkTable([])).toHaveLength(1);
  });
});
