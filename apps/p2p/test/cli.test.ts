// edgebox-p2p: run hosts the service with its ops endpoint; id, peers, stats read it; send and
// ping reach it from a throwaway identity; bad usage exits 2.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@edgebox/runtime';
import { runP2pCli, type P2pIo } from '../src/cli.js';

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

  it('usage errors exit 2', async () => {
    for (const argv of [[], ['nope'], ['run'], ['id'], ['send', '--to', '/ip4/127.0.0.1/tcp/1'], ['ping', '--to', '/ip4/1.2.3.4/tcp/1/p2p/12D3KooWabc', '--count', '0'], ['--bogus']]) {
      const x = io(argv);
      await runP2pCli(x);
      expect(x.codes, argv.join(' ')).toEqual([2]);
    }
  });
});
