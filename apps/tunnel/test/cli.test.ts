import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ServiceHost } from '@edgebox/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { runTunnelCli, type TunnelIo } from '../src/cli.js';
import type { TunnelService } from '../src/service.js';
import { quietLogger, random, tcpEcho, tcpRoundTrip, until } from './fixtures.js';

const dir = await mkdtemp(join(tmpdir(), 'tunnel-cli-'));
const echo = await tcpEcho();
const hosts: ServiceHost[] = [];
afterAll(async () => {
  for (const h of hosts) await h.stop({ deadlineMs: 500 });
  echo.server.close();
  await rm(dir, { recursive: true, force: true });
});

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        cb();
      },
    }),
    text: () => Buffer.concat(chunks).toString(),
  };
}

/** Runs one command; collects output lines and the exit code. */
async function cli(argv: string[], extra: Partial<TunnelIo> = {}): Promise<{ out: string; err: string; code: number | undefined; host: ServiceHost | undefined }> {
  const out: string[] = [];
  const err: string[] = [];
  let code: number | undefined;
  const so = sink();
  const se = sink();
  const host = await runTunnelCli({
    argv,
    env: {},
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    exit: (c) => (code = c),
    logger: quietLogger(),
    stdout: so.stream,
    stderr: se.stream,
    ...extra,
  });
  if (host !== undefined) hosts.push(host);
  return { out: out.join('\n') + so.text(), err: err.join('\n') + se.text(), code, host };
}

describe('edgebox-tunnel', () => {
  it('certs, dest, source, status, health and SIGHUP reload, end to end through files', async () => {
    expect((await cli(['certs', 'ca', '--out', join(dir, 'ca'), '--name', 'lab CA'])).code).toBe(0);
    expect((await cli(['certs', 'issue', '--ca', join(dir, 'ca'), '--name', 'dest-1', '--role', 'dest', '--out', join(dir, 'dest')])).code).toBe(0);
    expect((await cli(['certs', 'issue', '--ca', join(dir, 'ca'), '--name', 'source-1', '--role', 'source', '--out', join(dir, 'source')])).code).toBe(0);
    const pki = (who: string) => `[pki]\nca = "${join(dir, 'ca', 'ca.pem')}"\ncert = "${join(dir, who, 'cert.pem')}"\nkey = "${join(dir, who, 'key.pem')}"\n`;
    const destToml = (services: string) => `role = "dest"\nmode = "transparent"\n${pki('dest')}[ops]\nport = 0\n[dest.listen]\nhost = "127.0.0.1"\nport = 0\n${services}`;
    const destFile = join(dir, 'dest.toml');
    await writeFile(destFile, destToml(`[[dest.services]]\nname = "other"\nport = 7005\n`));
    const signals = new EventEmitter();
    const dest = await cli(['dest', '--config', destFile], { signalTarget: signals });
    expect(dest.code).toBeUndefined();
    const destService = dest.host!.service as unknown as TunnelService;
    const destAddr = destService.status().dest!.listen;

    const srcFile = join(dir, 'source.yaml');
    await writeFile(srcFile, `role: source\nmode: transparent\npki: { ca: "${join(dir, 'ca', 'ca.pem')}", cert: "${join(dir, 'source', 'cert.pem')}", key: "${join(dir, 'source', 'key.pem')}" }\nops: { port: 0 }\nsource:\n  dest: "${destAddr}"\n  forwards: [{ port: 7001, listenPort: 0 }]\n`);
    const usr2 = new EventEmitter();
    const source = await cli(['source', '--config', srcFile], { signalTarget: new EventEmitter(), refreshSignal: usr2 });
    const srcService = source.host!.service as unknown as TunnelService;
    await until(() => srcService.status().source!.connected, 'source connected');
    const port = Number(srcService.status().source!.listeners[0]!.address.split(':').pop());
    expect((await tcpRoundTrip(port, random(1000))).bytes).toBe(0); // 7001 not exposed yet

    // SIGHUP re-reads the file: the new allow-list applies to the next stream.
    await writeFile(destFile, destToml(`[[dest.services]]\nname = "echo"\nport = 7001\ntarget = "127.0.0.1:${echo.port}"\n`));
    signals.emit('SIGHUP');
    await until(() => destService.config!.dest!.services[0]!.name === 'echo', 'reloaded');
    const r = await tcpRoundTrip(port, random(200_000));
    expect(r.got).toBe(r.sent);

    // SIGUSR2: blue-green refresh of the source's session.
    const before = srcService.status().source!.sessions[0]!.id;
    usr2.emit('SIGUSR2');
    await until(() => srcService.status().counters.refreshes === 1 && srcService.status().source!.sessions.length === 1, 'refreshed');
    expect(srcService.status().source!.sessions[0]!.id).not.toBe(before);

    const status = await cli(['status', '--url', source.host!.url]);
    expect(status.code).toBeUndefined();
    expect(status.out).toMatch(/^source \(transparent\) running: 0 streams open, 2 opened/);
    expect(status.out).toMatch(/session 1? ?\d* active dest-1@/);
    const json = JSON.parse((await cli(['status', '--json', '--url', dest.host!.url])).out) as { role: string; dest: { sessions: unknown[] } };
    expect(json.role).toBe('dest');
    expect(json.dest.sessions).toHaveLength(1);
    const health = await cli(['health', '--url', source.host!.url]);
    expect(health.code).toBe(0);
    expect(health.out).toMatch(/^ready/);
    const metrics = await (await fetch(`${source.host!.url}/metrics`)).text();
    expect(metrics).toMatch(/edgebox_tunnel_streams_opened_total\{role="source"[^}]*\} 2/);
  });

  it('usage errors exit 2; a config of the other role is named', async () => {
    expect((await cli([])).code).toBe(2);
    expect((await cli(['bogus'])).code).toBe(2);
    expect((await cli(['source'])).err).toMatch(/source needs --config FILE/);
    const f = join(dir, 'wrong-role.yaml');
    await writeFile(f, `role: dest\npki: { ca: a, cert: b, key: c }\ndest: { services: [{ name: a, port: 1 }] }\n`);
    const r = await cli(['source', '--config', f]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/has role dest: run "edgebox-tunnel dest"/);
    const bad = await cli(['dest', '--config', f]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/pki\.(ca a|cert b|key c): ENOENT/); // the files are read in parallel: any may fail first
    expect((await cli(['certs', '--help'])).code).toBe(0);
    expect((await cli(['health', '--url', 'http://127.0.0.1:1'])).code).toBe(1);
  });
});
