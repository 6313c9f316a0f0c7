// supervisor bench (shared/BENCH.md): the built appliance (dist/main.js start) with tunnel,
// netevd and p2p on loopback in a temporary data dir. Prints a table and writes
// bench-results/supervisor.json:
//   start-to-ready-ms    spawn → the "ready" line (API listening, every enabled app running)
//   appliance-rss-idle   RSS of the supervisor and its children summed (/proc), after 3 s idle
//   api-status-rps       GET /api/v1/status, 8 concurrent keep-alive loops for 5 s
// Median of RUNS appliance starts (default 3). No peer systems: there is no like-for-like one.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
/* global fetch */
import { formatTable, median, stopProcess, writeBenchResults } from '@edgebox/bench';

const RUNS = Number(process.env['SUPERVISOR_BENCH_RUNS'] ?? 3);
const RPS_SECONDS = 5;
const CONCURRENCY = 8;
const main = new URL('../dist/main.js', import.meta.url).pathname;

function config(dir) {
  return JSON.stringify({
    supervisor: { api: { host: '127.0.0.1', port: 0 }, dataDir: dir },
    tunnel: { role: 'dest', mode: 'protocol', pki: { ca: `${dir}/tunnel/ca.pem`, cert: `${dir}/tunnel/cert.pem`, key: `${dir}/tunnel/key.pem` }, dest: { listen: { host: '127.0.0.1', port: 0 }, services: [{ name: 'echo', port: 7, target: '127.0.0.1:7' }] } },
    netevd: { backends: ['netlink'], api: { enabled: false }, dataDir: `${dir}/netevd`, scripts: { dir: `${dir}/netevd/scripts`, ownerUid: process.getuid() } },
    p2p: { identity: { keyFile: `${dir}/p2p/key.pem` }, listen: ['/ip4/127.0.0.1/tcp/0'] },
  });
}

/** RSS in MB of pid and every descendant. */
async function treeRssMb(root) {
  const parents = new Map();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process went away
    }
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (tree.has(ppid) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  let kb = 0;
  for (const pid of tree) {
    const m = /VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
    if (m) kb += Number(m[1]);
  }
  return kb / 1024;
}

async function statusRps(url) {
  const end = Date.now() + RPS_SECONDS * 1000;
  let n = 0;
  const loop = async () => {
    while (Date.now() < end) {
      const res = await fetch(`${url}/api/v1/status`);
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      await res.arrayBuffer();
      n++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return n / ((performance.now() - t0) / 1000);
}

async function once() {
  const dir = await mkdtemp(join(tmpdir(), 'edgebox-bench-'));
  const file = join(dir, 'edgebox.json');
  await writeFile(file, config(dir));
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--max-semi-space-size=1', main, 'start', '--config', file], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, EDGEBOX_LOG_LEVEL: 'warn' } });
  try {
    let out = '';
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after 120 s:\n${out}`)), 120_000);
      child.stdout.on('data', (b) => {
        out += b;
        if (/^ready$/m.test(out)) {
          clearTimeout(timer);
          resolve(/(http:\/\/127\.0\.0\.1:\d+)/.exec(out)[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
    });
    const ready = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 3000));
    const rss = await treeRssMb(child.pid);
    const rps = await statusRps(url);
    return { ready, rss, rps };
  } finally {
    await stopProcess(child, 15_000);
    await rm(dir, { recursive: true, force: true });
  }
}

const runs = [];
for (let i = 0; i < RUNS; i++) runs.push(await once());
const results = [
  { name: 'api-status-rps', value: Math.round(median(runs.map((r) => r.rps))), unit: 'req/s', kind: 'edgebox', runs: RUNS },
  { name: 'start-to-ready-ms', value: Math.round(median(runs.map((r) => r.ready))), unit: 'ms', kind: 'edgebox', runs: RUNS },
  { name: 'appliance-rss-idle', value: Math.round(median(runs.map((r) => r.rss)) * 10) / 10, unit: 'MB', kind: 'edgebox', runs: RUNS },
];
console.log(formatTable(results));
console.log(`written: ${writeBenchResults('supervisor', results)}`);
