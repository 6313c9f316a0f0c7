// edgebox-p2p: run hosts the service with its ops endpoint; id, peers, stats read it; send and
// ping reach it from a throwaway identity; add and block edit the book / config files and a
// reload of the running node applies them (dial, hang up, allow again); listen prints what a
// send delivers and ends on its count or SIGINT; bad usage exits 2.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@edgebox/runtime';
import { generateIdentity } from '@edgebox/crypto';
import { createAccessList } from '@edgebox/peers';
import { runP2pCli, type P2pIo } from '../src/cli.js';
import { createP2pNetwork, } from '../src/network.js';
import type { P2pService } from '../src/service.js';

const dir = mkdtempSync(join(tmpdir(), 'p2p-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(argv: string[]): P2pIo & { lines: string[]; errors: string[]; codes: number[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  const codes: number[] = [];
  return {
    argv,
    env: {},
    out: (l) => lines.push(l),
    err: (l) => errors.push(l),
    exit: (c) => codes.push(c),
    logger: createLogger({ app: 'p2p', silent: true }),
    signalTarget: new EventEmitter() as unknown as P2pIo['signalTarget'],
    lines,
    errors,
    codes,
  };
}

describe('edgebox-p2p', () => {
  it('run, id, peers, stats, send and ping', async () => {
    const configFile = join(dir, 'p2p.json');
    writeFileSync(
      configFile,
      JSON.stringify({ identity: { keyFile: join(dir, 'key.pem') }, listen: ['/ip4/127.0.0.1/tcp/0'], streams: ['chat'], ops: { port: 0 } }),
    );
    const runIo = io(['run', '--config', configFile]);
    const host = await runP2pCli(runIo);
    expect(host).toBeDefined();
    try {
      const statusRes = await fetch(`${host!.url}/status`);
      const status = ((await statusRes.json()) as { service: { peerId: string; addresses: string[] } }).service;

      const idIo = io(['id', '--config', configFile]);
      await runP2pCli(idIo);
      expect(idIo.lines).toEqual([status.peerId]);

      const to = status.addresses[0]!;
      const sendIo = io(['send', '--to', to, '--stream', 'chat', '--data', 'hello', '--count', '3']);
      await runP2pCli(sendIo);
      expect(sendIo.errors).toEqual([]);
      expect(sendIo.lines.join('\n')).toMatch(/sent 3 message\(s\) of 5 bytes on chat/);

      const pingIo = io(['ping', '--to', to, '--count', '2']);
      await runP2pCli(pingIo);
      expect(pingIo.lines.filter((l) => l.startsWith('ping '))).toHaveLength(2);

      await vi.waitFor(async () => {
        const statsIo = io(['stats', '--url', host!.url]);
        await runP2pCli(statsIo);
        expect(statsIo.lines.join("\n")).toMatch(/messages in 3 \(15 bytes\)/);
      });
      const peersIo = io(['peers', '--url', host!.url, '--json']);
      await runP2pCli(peersIo);
      expect(JSON.parse(peersIo.lines.join('\n'))).toHaveLength(2);
      const table = io(['peers', '--url', host!.url]);
      await runP2pCli(table);
      expect(table.lines[0]).toMatch(/^peer\s+state\s+auto\s+suite/);
    } finally {
      await host!.stop();
    }
  });

  it('add writes the address book file; reload dials the new auto-connect peer; bad input leaves the file alone', async () => {
    const other = await createP2pNetwork({ listen: ['/ip4/127.0.0.1/tcp/0'], streams: ['chat'] }, { identity: generateIdentity(), accessList: createAccessList() });
    await other.start();
    const bookFile = join(dir, 'add-peers.json');
    const configFile = join(dir, 'add.json');
    writeFileSync(configFile, JSON.stringify({ identity: { keyFile: join(dir, 'add-key.pem') }, listen: ['/ip4/127.0.0.1/tcp/0'], streams: ['chat'], addressBook: { path: bookFile }, ops: { port: 0 } }));
    const host = await runP2pCli(io(['run', '--config', configFile]));
    try {
      const service = host!.service as P2pService;
      const addIo = io(['add', '--config', configFile, '--to', other.multiaddrs()[0]!, '--meta', 'name=site-b', '--auto-connect']);
      await runP2pCli(addIo);
      expect(addIo.errors).toEqual([]);
      expect(addIo.lines[0]).toMatch(new RegExp(`^added ${other.peerId} \\(1 address\\(es\\), auto-connect yes\\)`));
      const stored = JSON.parse(readFileSync(bookFile, 'utf8')) as { peers: Array<{ id: string; metadata: Record<string, string>; autoConnect: boolean }> };
      expect(stored.peers).toMatchObject([{ id: other.peerId, metadata: { name: 'site-b' }, autoConnect: true }]);
      expect(service.network!.established()).toEqual([]);
      expect(await host!.reload()).toMatchObject({ applied: true });
      await vi.waitFor(() => expect(service.network!.established()).toEqual([other.peerId]), { timeout: 10_000 });

      const before = readFileSync(bookFile, 'utf8');
      for (const argv of [
        ['add', '--book', bookFile, '--peer', 'not-a-peer-id'],
        ['add', '--book', bookFile, '--peer', other.peerId, '--address', '/ip4/999.1.1.1/tcp/1'],
      ]) {
        const bad = io(argv);
        await runP2pCli(bad);
        expect(bad.codes, argv.join(' ')).toEqual([1]);
        expect(bad.errors.join('\n')).toMatch(/P2P_INVALID_ARGUMENT|not added/);
      }
      expect(readFileSync(bookFile, 'utf8')).toBe(before);
    } finally {
      await host!.stop();
      await other.stop();
    }
  });

  it('block edits the YAML config (comments kept); reload hangs up on the peer; --remove and reload let it back', async () => {
    const configFile = join(dir, 'block.yaml');
    writeFileSync(
      configFile,
      [
        '# the p2p node of the block test',
        `identity: { keyFile: ${join(dir, 'block-key.pem')} }`,
        'listen: [/ip4/127.0.0.1/tcp/0]',
        'streams: [chat]',
        'ops: { port: 0 }',
        'access:',
        '  rules: [] # none yet',
        '',
      ].join('\n'),
    );
    const host = await runP2pCli(io(['run', '--config', configFile]));
    const other = await createP2pNetwork({ listen: ['/ip4/127.0.0.1/tcp/0'], streams: ['chat'] }, { identity: generateIdentity(), accessList: createAccessList() });
    await other.start();
    try {
      const service = host!.service as P2pService;
      await other.connect(service.network!.peerId, service.network!.multiaddrs());
      await vi.waitFor(() => expect(service.network!.established()).toEqual([other.peerId]));

      const blockIo = io(['block', '--config', configFile, '--peer', other.peerId, '--reason', 'abuse']);
      await runP2pCli(blockIo);
      expect(blockIo.errors).toEqual([]);
      const text = readFileSync(configFile, 'utf8');
      expect(text).toContain('# the p2p node of the block test');
      expect(text).toContain(`peer: ${other.peerId}`);
      expect(await host!.reload()).toMatchObject({ applied: true });
      await vi.waitFor(() => expect(service.network!.established()).toEqual([]));
      await expect(other.connect(service.network!.peerId, service.network!.multiaddrs(), { timeoutMs: 2000 })).rejects.toThrow();

      const unblockIo = io(['block', '--config', configFile, '--peer', other.peerId, '--remove']);
      await runP2pCli(unblockIo);
      expect(unblockIo.lines[0]).toMatch(/^unblocked/);
      expect(readFileSync(configFile, 'utf8')).not.toContain(other.peerId);
      expect(await host!.reload()).toMatchObject({ applied: true });
      expect(service.accessList!.check(other.peerId).allowed).toBe(true);
      await other.connect(service.network!.peerId, service.network!.multiaddrs());

      const bad = io(['block', '--config', configFile, '--cidr', '10.0.0.0/33']);
      await runP2pCli(bad);
      expect(bad.codes).toEqual([1]);
      const neither = io(['block', '--config', configFile]);
      await runP2pCli(neither);
      expect(neither.codes).toEqual([2]);
    } finally {
      await other.stop();
      await host!.stop();
    }
  });

  it('listen prints messages a send delivers (--json, --count) and stops on SIGINT', async () => {
    const listenIo = io(['listen', '--stream', 'chat', '--json', '--count', '2']);
    const done = runP2pCli(listenIo);
    await vi.waitFor(() => expect(listenIo.lines.length).toBeGreaterThan(0));
    const address = (JSON.parse(listenIo.lines[0]!) as { listening: string }).listening;
    const sendIo = io(['send', '--to', address, '--stream', 'chat', '--data', 'hey', '--count', '2']);
    await runP2pCli(sendIo);
    await done;
    const messages = listenIo.lines.slice(1).map((l) => JSON.parse(l) as { data: string; encoding: string; stream: string });
    expect(messages).toMatchObject([{ data: 'hey', encoding: 'utf8', stream: 'chat' }, { data: 'hey' }]);
    expect(listenIo.codes).toEqual([]);

    const interrupted = io(['listen', '--stream', 'chat']);
    const running = runP2pCli(interrupted);
    await vi.waitFor(() => expect(interrupted.lines[0]).toMatch(/^listening on /));
    (interrupted.signalTarget as unknown as EventEmitter).emit('SIGINT', 'SIGINT');
    await running;
    expect(interrupted.codes).toEqual([]);
  });

  it('usage errors exit 2', async () => {
    for (const argv of [[], ['nope'], ['run'], ['id'], ['send', '--to', '/ip4/127.0.0.1/tcp/1'], ['ping', '--to', '/ip4/1.2.3.4/tcp/1/p2p/12D3KooWabc', '--count', '0'], ['--bogus'], ['add', '--book', 'x.json'], ['listen'], ['block', '--peer', 'x']]) {
      const x = io(argv);
      await runP2pCli(x);
      expect(x.codes, argv.join(' ')).toEqual([2]);
    }
  });
});
