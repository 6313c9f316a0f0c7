// edgebox-netevd end to end in-process: `run` hosts the service from a YAML file (fake source,
// real scripts and API), the client commands talk to its API, SIGHUP with a broken file keeps
// the daemon running and `status` shows the refusal, `events --follow` prints events as they
// come, `validate` and `test SCRIPT` work on files.
import { EventEmitter } from 'node:events';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { runNetevdCli } from '../src/cli.js';
import { createNetevdService } from '../src/service.js';
import type { NetevdHost, NetevdIo } from '../src/cli.js';
import { fakeSourceFactory } from './fake-source.js';
import { silent, tempDir, uid, waitFor, writeScript } from './helpers.js';

function io(argv: string[], extra: Partial<NetevdIo> = {}): NetevdIo & { lines: string[]; errors: string[]; code: number | undefined } {
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
    logger: silent,
    ...extra,
  };
  return r;
}

describe('edgebox-netevd', () => {
  let dir: string;
  let configFile: string;
  let host: NetevdHost;
  let url: string;
  const signals = new EventEmitter();
  const fake = fakeSourceFactory([{ iface: 'eth0', state: 'routable', addresses: ['10.0.0.2/24'] }]);
  const yaml = (extra = ''): string => `scripts:\n  dir: ${dir}\n  ownerUid: ${uid}\ndataDir: ${join(dir, 'data')}\napi:\n  port: 0\nops:\n  port: 0\n${extra}`;
  const cli = async (...argv: string[]) => {
    const r = io([...argv, '--url', url]);
    await runNetevdCli(r);
    return r;
  };

  beforeAll(async () => {
    dir = await tempDir();
    configFile = join(dir, 'netevd.yaml');
    await writeFile(configFile, yaml());
    await writeScript(dir, 'routable', '10-hello', '#!/bin/sh\necho "hello $LINK"\n');
    await writeScript(dir, 'routable', '20-unsafe', '#!/bin/sh\n', 0o777);
    const r = io(['run', '--config', configFile, '--dry-run'], { signalTarget: signals as unknown as NetevdIo['signalTarget'], serviceInit: { sources: { netlink: fake.factory } } });
    host = (await runNetevdCli(r))!;
    expect(host).toBeDefined();
    url = host.service.apiUrl!;
  });
  afterAll(async () => {
    await host?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('status prints the daemon, its sources and the interface table', async () => {
    await host.service.idle();
    const r = await cli('status');
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe('netevd running; sources: netlink running');
    expect(r.lines.join('\n')).toMatch(/routing \(dry run\)/);
    expect(r.lines.at(-1)).toMatch(/^2\s+eth0\s+routable\s+netlink\s+10\.0\.0\.2\/24/);
    const j = await cli('status', '--json');
    expect(JSON.parse(j.lines.join('\n'))).toMatchObject({ running: true, routing: { dryRun: true } });
  });

  it('list and show', async () => {
    const scripts = await cli('list', 'scripts');
    expect(scripts.lines.join('\n')).toMatch(/routable\s+10-hello\s+0755\s+yes/);
    expect(scripts.lines.join('\n')).toMatch(/20-unsafe\s+0777\s+no: mode 0777 is group or other writable/);
    const ifs = await cli('list', 'interfaces', '--json');
    expect(JSON.parse(ifs.lines.join('\n'))).toEqual([expect.objectContaining({ name: 'eth0' })]);
    const show = await cli('show', 'interface', 'eth0');
    expect(show.lines).toContain('state      routable');
    const missing = await cli('show', 'interface', 'nope0');
    expect(missing.code).toBe(1);
    expect(missing.errors[0]).toMatch(/404: NETEVD_NOT_FOUND/);
    const rules = await cli('list', 'rules');
    expect(rules.lines[0]).toMatch(/^family\s+priority/);
    const routes = await cli('list', 'routes', '--json');
    expect(JSON.parse(routes.lines.join('\n'))).toEqual({ tables: {}, routes: [] });
  });

  it('SIGHUP with a broken file keeps the daemon running; status and reload show why', async () => {
    await writeFile(configFile, yaml('debounce:\n  waitMs: soon\n'));
    signals.emit('SIGHUP', 'SIGHUP');
    await waitFor(() => host.service.status().reload?.applied === false, 'the refused reload recorded');
    expect(host.service.state).toBe('running');
    const s = await cli('status');
    expect(s.lines.join('\n')).toMatch(/REFUSED RUNTIME_CONFIG_INVALID: .*netevd\.debounce\.waitMs/s);
    const r = await cli('reload');
    expect(r.code).toBe(1);
    expect(r.lines[0]).toMatch(/^reload refused \(RUNTIME_CONFIG_INVALID\)/);
    await writeFile(configFile, yaml().replace(`ownerUid: ${uid}\n`, `ownerUid: ${uid}\n  retries: 1\n`));
    const ok = await cli('reload');
    expect(ok.lines[0]).toBe('reload applied');
    expect(host.service.config?.scripts.retries).toBe(1);
    expect(host.service.config?.dryRun).toBe(true); // --dry-run survives re-reads
    // simulate is off unless the config turns it on
    const sim = await cli('simulate', '--link', 'x0', '--state', 'routable');
    expect(sim.code).toBe(1);
    expect(sim.errors[0]).toMatch(/403: NETEVD_FORBIDDEN/);
  });

  it('events --follow prints events as they arrive; events prints the history', async () => {
    const ac = new AbortController();
    const r = io(['events', '--follow', '--interface', 'wan*', '--url', url], { signal: ac.signal });
    const following = runNetevdCli(r);
    await new Promise((res) => setTimeout(res, 100));
    fake.last().link('wan0', 'no-carrier');
    fake.last().link('wan0', 'routable', ['192.0.2.7/24']);
    await waitFor(() => r.lines.length >= 2, 'two followed events');
    ac.abort();
    await following;
    expect(r.lines[0]).toMatch(/link\.state\s+wan0\s+- -> no-carrier/);
    expect(r.lines[1]).toMatch(/link\.state\s+wan0\s+- -> routable\s+192\.0\.2\.7\/24/);
    const hist = await cli('events', '--kind', 'link.*', '--json');
    expect(hist.lines.map((l) => (JSON.parse(l) as { interface: string }).interface)).toEqual(['eth0', 'wan0', 'wan0']);
  });

  it('validate names the path and value of a bad file', async () => {
    const good = await cli('validate', '--config', configFile);
    expect(good.code).toBe(0);
    expect(good.lines[0]).toMatch(/valid \(backends netlink/);
    const badFile = join(dir, 'bad.yaml');
    await writeFile(badFile, 'backends: [systemd]\n');
    const bad = io(['validate', '--config', badFile]);
    await runNetevdCli(bad);
    expect(bad.code).toBe(1);
    expect(bad.errors[0]).toContain('netevd.backends[0]: "systemd" is not valid');
  });

  it('test SCRIPT runs one script with a synthetic event; an unsafe one is refused', async () => {
    const r = io(['test', join(dir, 'routable.d', '10-hello'), '--link', 'wan0', '--config', configFile]);
    await runNetevdCli(r);
    expect(r.code).toBe(0);
    expect(r.lines.join('\n')).toContain('hello wan0');
    const hostile = io(['test', join(dir, 'routable.d', '10-hello'), '--link', '$(reboot)', '--config', configFile]);
    await runNetevdCli(hostile);
    expect(hostile.errors[0]).toMatch(/dropped \(failed validation\): LINK, JSON/);
    expect(hostile.lines.join('\n')).toMatch(/stdout:\nhello$/m);
    const unsafe = io(['test', join(dir, 'routable.d', '20-unsafe'), '--config', configFile]);
    await runNetevdCli(unsafe);
    expect(unsafe.code).toBe(1);
    expect(unsafe.errors[0]).toMatch(/will not run: mode 0777/);
  });

  it('usage errors exit 2', async () => {
    const r = io(['list', 'things']);
    await runNetevdCli(r);
    expect(r.code).toBe(2);
    const none = io([]);
    await runNetevdCli(none);
    expect(none.code).toBe(2);
    expect(none.lines[0]).toMatch(/^usage: edgebox-netevd/);
  });
});

describe('edgebox-netevd simulate and replay', () => {
  it('run the scripts for made-up events without touching the interface table', async () => {
    const dir = await tempDir();
    const log = join(dir, 'runs.log');
    await writeScript(dir, 'routable', '10-rec', `#!/bin/sh\necho "$LINK $STATE $ADDRESSES" >> '${log}'\n`);
    await writeScript(dir, 'no-carrier', '10-rec', `#!/bin/sh\necho "$LINK $STATE" >> '${log}'\n`);
    const configFile = join(dir, 'netevd.yaml');
    await writeFile(configFile, `scripts:\n  dir: ${dir}\n  ownerUid: ${uid}\ndataDir: ${join(dir, 'data')}\napi:\n  port: 0\n  token: sixteen-chars-token\n  simulate: true\nops:\n  port: 0\n`);
    const r = io(['run', '--config', configFile], { signalTarget: new EventEmitter() as unknown as NetevdIo['signalTarget'], serviceInit: { sources: { netlink: fakeSourceFactory().factory } } });
    const host = (await runNetevdCli(r))!;
    const auth = (): string[] => ['--url', host.service.apiUrl!, '--token', 'sixteen-chars-token'];
    try {
      const sim = io(['simulate', '--link', 'sim0', '--state', 'routable', '--addresses', '192.0.2.5/24', ...auth()]);
      await runNetevdCli(sim);
      expect(sim.errors).toEqual([]);
      expect(sim.code).toBe(0);
      expect(sim.lines[0]).toMatch(/^published event \d+$/);
      const replayFile = join(dir, 'replay.jsonl');
      await writeFile(replayFile, [JSON.stringify({ kind: 'link.state', interface: 'sim1', states: { new: 'no-carrier' } }), JSON.stringify({ kind: 'link.state', interface: 'sim1', states: { old: 'no-carrier', new: 'routable' }, addresses: ['198.51.100.9/24'] })].join('\n'));
      const rep = io(['replay', replayFile, ...auth()]);
      await runNetevdCli(rep);
      expect(rep.lines[0]).toBe(`replayed 2 event(s) from ${replayFile}`);
      await waitFor(async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').length >= 4, 'three script runs');
      await host.service.idle();
      expect((await readFile(log, 'utf8')).split('\n').filter((l) => l !== '')).toEqual(['sim0 routable 192.0.2.5/24', 'sim1 no-carrier', 'sim1 routable 198.51.100.9/24']);
      expect(host.service.interfaces()).toEqual([]);
      const bad = io(['simulate', '--link', 'x', '--state', 'routable', '--kind', 'Link State', ...auth()]);
      await runNetevdCli(bad);
      expect(bad.code).toBe(1);
      expect(bad.errors[0]).toMatch(/400: EVENTS_INVALID_EVENT/);
      const noToken = io(['simulate', '--link', 'x', '--state', 'routable', '--url', host.service.apiUrl!]);
      await runNetevdCli(noToken);
      expect(noToken.errors[0]).toMatch(/401: NETEVD_UNAUTHORIZED/);
    } finally {
      await host.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('edgebox-netevd events --follow across a restart', () => {
  it('reconnects with Last-Event-ID and prints what it missed, once', async () => {
    const dir = await tempDir();
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const fake = fakeSourceFactory();
    const svc = createNetevdService({ logger: silent, sources: { netlink: fake.factory } });
    const config = { dataDir: join(dir, 'data'), scripts: { dir, ownerUid: uid }, api: { port } };
    await svc.start(config);
    const ac = new AbortController();
    const r = io(['events', '--follow', '--json', '--url', `http://127.0.0.1:${port}`], { signal: ac.signal });
    const following = runNetevdCli(r);
    try {
      await new Promise((res) => setTimeout(res, 100));
      fake.last().link('f0', 'routable');
      await waitFor(() => r.lines.length === 1, 'the first event');
      await svc.stop();
      await svc.start(config);
      fake.last().link('f0', 'no-carrier'); // published while the client reconnects
      fake.last().link('f0', 'routable');
      await waitFor(() => r.lines.length >= 3, 'the events after the restart', 8000);
      await new Promise((res) => setTimeout(res, 200));
      expect(r.lines.map((l) => (JSON.parse(l) as { states: { new: string } }).states.new)).toEqual(['routable', 'no-carrier', 'routable']);
    } finally {
      ac.abort();
      await following;
      await svc.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
