/**
 * netevd benchmark (shared/BENCH.md): `npx nx run netevd:bench` prints a table and writes
 * bench-results/netevd.json.
 *
 *   event-script-p50/p99   the built daemon (`node dist/main.js run`) in a lab namespace with
 *                          the netlink source; the veth's only global address is removed and
 *                          added back (degraded <-> routable) by a long-lived `ip -batch -`,
 *                          and the time from writing the command line to the first line of the degraded.d /
 *                          routable.d script (`date +%s%N`, wall clock) is one sample. Per
 *                          run: 100 toggles, 60 ms apart (each its own burst: debounce waitMs
 *                          20, leading); the bench waits on inotify, not by polling, so it
 *                          does not compete with the daemon for the CPU. Needs root. Not carrier changes: the kernel's
 *                          linkwatch sends those up to 1 s late (rate-limited), which would
 *                          measure the kernel, not netevd.
 *   netevd-rss             that daemon's VmRSS after the runs
 *   events-per-s           in-process: link.state events published on the service's bus and
 *                          fully handled (interface table, metrics, debounce, dispatch; no
 *                          scripts in those folders), 64 interfaces, 40,000 events per run
 *   networkd-dispatcher    peer rows: measured only when it is installed and a networkd runs
 *                          for it; otherwise null with the reason (BENCH.md)
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, watch } from 'node:fs';
import { mkdir, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventFactory } from '@edgebox/events';
import { createLogger } from '@edgebox/runtime';
import { formatTable, median, writeBenchResults } from '@edgebox/bench';
import type { BenchRow } from '@edgebox/bench';
import { createLab, gc, rootStatus } from '@edgebox/netlab';
import { createNetevdService } from '../src/service.js';

const RUNS = 3;
const TOGGLES = 100;
const EVENTS = 40_000;
const appDir = join(import.meta.dirname, '..');

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const round = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function eventsPerSecond(): Promise<number> {
  const dir = await mkdtempish('netevd-bench-');
  const svc = createNetevdService({ logger: createLogger({ app: 'netevd', silent: true }), sources: { netlink: () => ({ start: async () => undefined, stop: async () => undefined }) } });
  await svc.start({ dataDir: join(dir, 'data'), scripts: { dir }, api: { enabled: false }, debounce: { waitMs: 50, maxWaitMs: 500 } });
  const f = createEventFactory({ source: 'netevd', startId: 1_000_000 });
  const states = ['carrier', 'degraded'];
  try {
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      svc.bus.publish(f.create({ kind: 'link.state', interface: `if${i % 64}`, states: { new: states[(i >> 6) % 2]! }, addresses: ['10.0.0.1/24'], data: { backend: 'netlink', ifindex: (i % 64) + 2 } }));
      // Yield now and then, as a real source does between reads: the daemon's queue is bounded.
      if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
    }
    await svc.idle();
    const seconds = (performance.now() - t0) / 1000;
    const handled = svc.status().interfaces.reduce((n, i) => n + i.events, 0);
    if (handled !== EVENTS) throw new Error(`handled ${handled} of ${EVENTS} events`);
    return EVENTS / seconds;
  } finally {
    await svc.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function mkdtempish(prefix: string): Promise<string> {
  const dir = join(tmpdir(), `${prefix}${process.pid}-${Math.random().toString(16).slice(2, 8)}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

interface LatencyRun {
  p50: number;
  p99: number;
  rssMb: number;
}

// Always build: a stale dist/ would measure old code.
function ensureBuilt(): string {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: appDir, stdio: 'inherit' });
  return join(appDir, 'dist', 'main.js');
}

async function latencyRuns(): Promise<LatencyRun[]> {
  const main = ensureBuilt();
  await gc({ own: true });
  const lab = await createLab({ nodes: { d: {}, p: {} }, links: [{ name: 'b1', a: { node: 'd', ipv4: '10.241.1.2/24' }, b: { node: 'p', ipv4: '10.241.1.1/24' } }] });
  const dir = await mkdtempish('netevd-bench-lab-');
  const marks = join(dir, 'marks');
  for (const state of ['degraded', 'routable']) {
    await mkdir(join(dir, `${state}.d`), { recursive: true });
    const p = join(dir, `${state}.d`, '10-mark');
    await writeFile(p, `#!/bin/sh\necho "$(date +%s%N) $STATE" >> '${marks}'\n`);
    await chmod(p, 0o755);
  }
  const config = join(dir, 'netevd.yaml');
  await writeFile(config, `netns: ${lab.namespace('d')}\nscripts:\n  dir: ${dir}\n  startup: false\ndataDir: ${join(dir, 'data')}\ndebounce:\n  waitMs: 20\n  maxWaitMs: 200\napi:\n  port: 0\nops:\n  port: 0\n`);
  const daemon = spawn(process.execPath, ['--max-semi-space-size=1', main, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, EDGEBOX_LOG_LEVEL: 'warn' } });
  // One long-lived `ip -batch -` in the namespace makes the changes: a line written to its
  // stdin is applied at once, so t0 is not inflated by spawning `ip netns exec` per change.
  const changer = spawn('ip', ['-n', lab.namespace('d'), '-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const runs: LatencyRun[] = [];
  try {
    await sleep(1500); // started: the first toggle below waits for its mark anyway
    const readMarks = (): string[] => (existsSync(marks) ? readFileSync(marks, 'utf8').split('\n').filter((l) => l !== '') : []);
    await writeFile(marks, '');
    let wake: (() => void) | undefined;
    const watcher = watch(marks, () => wake?.());
    for (let run = 0; run < RUNS; run++) {
      const samples: number[] = [];
      for (let i = 0; i < TOGGLES; i++) {
        const down = i % 2 === 0;
        const before = readMarks().length;
        const t0 = performance.timeOrigin + performance.now();
        changer.stdin!.write(`addr ${down ? 'del' : 'add'} 10.241.1.2/24 dev b1\n`);
        const deadline = Date.now() + 3000;
        let line: string | undefined;
        while (line === undefined && Date.now() < deadline) {
          const changed = new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 50); // inotify is the fast path; this only bounds a missed wake-up
          });
          const all = readMarks();
          line = all.slice(before).find((l) => l.endsWith(down ? ' degraded' : ' routable'));
          if (line === undefined) await changed;
        }
        if (line === undefined) throw new Error(`no ${down ? 'degraded' : 'routable'} script within 3 s (toggle ${i})`);
        samples.push(Number(line.split(' ')[0]) / 1e6 - t0);
        await sleep(60);
      }
      const status = readFileSync(`/proc/${daemon.pid}/status`, 'utf8');
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
      runs.push({ p50: percentile(samples, 50), p99: percentile(samples, 99), rssMb: rssKb / 1024 });
    }
    watcher.close();
  } finally {
    changer.stdin!.end();
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  }
  return runs;
}

const rows: BenchRow[] = [];
const root = rootStatus();
if (root.ok) {
  try {
    const runs = await latencyRuns();
    rows.push({ name: 'event-script-p50', value: round(median(runs.map((r) => r.p50))), unit: 'ms', kind: 'edgebox', runs: RUNS });
    rows.push({ name: 'event-script-p99', value: round(median(runs.map((r) => r.p99))), unit: 'ms', kind: 'edgebox', runs: RUNS });
    rows.push({ name: 'netevd-rss', value: round(Math.max(...runs.map((r) => r.rssMb)), 1), unit: 'MB', kind: 'edgebox', runs: RUNS });
  } catch (err) {
    for (const [name, unit] of [['event-script-p50', 'ms'], ['event-script-p99', 'ms'], ['netevd-rss', 'MB']] as const) rows.push({ name, value: null, unit, kind: 'edgebox', runs: 0, error: (err as Error).message });
  }
} else {
  for (const [name, unit] of [['event-script-p50', 'ms'], ['event-script-p99', 'ms'], ['netevd-rss', 'MB']] as const) rows.push({ name, value: null, unit, kind: 'edgebox', runs: 0, error: `needs root: ${root.reason ?? ''}` });
}
const eps: number[] = [];
for (let i = 0; i < RUNS; i++) eps.push(await eventsPerSecond());
rows.push({ name: 'events-per-s', value: Math.round(median(eps)), unit: 'events/s', kind: 'edgebox', runs: RUNS });
const peer = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v networkd-dispatcher'], { stdio: 'ignore' });
    return 'installed, but this bench does not yet drive it with a networkd in the lab';
  } catch {
    return 'networkd-dispatcher is not installed (apt-get install networkd-dispatcher; it also needs systemd-networkd on a system bus)';
  }
})();
rows.push({ name: 'networkd-dispatcher-p50', value: null, unit: 'ms', kind: 'peer', runs: 0, error: peer });
rows.push({ name: 'networkd-dispatcher-p99', value: null, unit: 'ms', kind: 'peer', runs: 0, error: peer });

console.log(formatTable(rows));
console.log(`wrote ${writeBenchResults('netevd', rows)}`);
