#!/usr/bin/env node
// Runs every project's lint, typecheck, test and e2e targets through nx, then prints one
// plain summary line ("tests: N passed, N failed") summed from each project's vitest JSON
// report, and exits non-zero if any phase failed. Stale reports are removed first so the summary only
// counts this run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const groups = ['packages', 'apps', 'tools', '.'];

function projectDirs() {
  const dirs = [join(root, 'e2e')];
  for (const group of groups.slice(0, 3)) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) {
      const dir = join(base, name);
      if (statSync(dir).isDirectory() && existsSync(join(dir, 'package.json'))) dirs.push(dir);
    }
  }
  return dirs;
}

const reportsOf = (dir) => {
  const d = join(dir, 'test-results');
  return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)) : [];
};

for (const dir of projectDirs()) rmSync(join(dir, 'test-results'), { recursive: true, force: true });

const targets = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['lint', 'typecheck', 'test', 'e2e'];
// Two phases: the unit targets run two at a time, then the e2e scenarios run alone. The e2e
// moves real traffic through namespaces (iperf3 through the bond, shaped links) on a 2-core
// machine; sharing the CPU with a parallel unit suite would make its throughput and timing
// checks depend on what else happens to run.
const phases = [
  { targets: targets.filter((t) => t !== 'e2e'), parallel: '2' },
  { targets: targets.filter((t) => t === 'e2e'), parallel: '1' },
].filter((phase) => phase.targets.length > 0);

let status = 0;
for (const phase of phases) {
  const run = spawnSync('npx', ['nx', 'run-many', '-t', ...phase.targets, '--output-style=stream', `--parallel=${phase.parallel}`, '--skip-nx-cache'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: process.env.NX_DAEMON ?? 'false' },
  });
  // Run every phase even when one fails, so the summary counts every test; keep the failure.
  if (status === 0) status = run.status ?? 1;
}

let passed = 0;
let failed = 0;
let skipped = 0;
const perProject = [];
const brokenFiles = [];
// Named at the end of the log, so a CI failure can be read from its last lines.
const failedTests = [];
for (const dir of projectDirs()) {
  for (const file of reportsOf(dir)) {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    const projectPassed = report.numPassedTests ?? 0;
    let projectFailed = report.numFailedTests ?? 0;
    let projectSkipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    // A file whose setup failed (beforeAll, import) reports its tests as skipped, not failed:
    // count them as failed, so the summary line never says "0 failed" for a broken suite.
    for (const result of report.testResults ?? []) {
      const assertions = result.assertionResults ?? [];
      for (const a of assertions.filter((x) => x.status === 'failed')) {
        const why = (a.failureMessages ?? [])[0]?.split('\n')[0] ?? '';
        failedTests.push(`${result.name.slice(root.length)} > ${a.fullName ?? a.title}: ${why.slice(0, 300)}`);
      }
      if (result.status !== 'failed' || assertions.some((a) => a.status === 'failed')) continue;
      const notRun = assertions.filter((a) => a.status !== 'passed').length;
      projectFailed += Math.max(notRun, 1);
      projectSkipped -= notRun;
      brokenFiles.push(`${result.name.slice(root.length)}: ${(result.message || 'a setup hook or import failed: see its output above').split('\n')[0]}`);
    }
    passed += projectPassed;
    failed += projectFailed;
    skipped += Math.max(projectSkipped, 0);
    perProject.push(`${dir.slice(root.length)}: ${projectPassed} passed, ${projectFailed} failed`);
  }
}
console.log('\n' + perProject.join('\n'));
if (brokenFiles.length > 0) console.log('\nsuites that failed before their tests ran:\n  ' + brokenFiles.join('\n  '));
if (failedTests.length > 0) console.log('\nfailed tests:\n  ' + failedTests.join('\n  '));
console.log(`tests: ${passed} passed, ${failed} failed` + (skipped > 0 ? `, ${skipped} skipped` : ''));
const code = status;
process.exit(code !== 0 ? code : failed > 0 ? 1 : 0);
