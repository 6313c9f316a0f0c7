#!/usr/bin/env node
// Runs every project's lint, typecheck, test and e2e targets through nx, then prints one
// plain summary line ("tests: N passed, N failed") summed from each project's vitest JSON
// report, and exits with nx's exit code. Stale reports are removed first so the summary only
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
const nx = spawnSync('npx', ['nx', 'run-many', '-t', ...targets, '--output-style=stream', '--parallel=2', '--skip-nx-cache'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: process.env.NX_DAEMON ?? 'false' },
});

let passed = 0;
let failed = 0;
let skipped = 0;
const perProject = [];
for (const dir of projectDirs()) {
  for (const file of reportsOf(dir)) {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    perProject.push(`${dir.slice(root.length)}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
  }
}
console.log('\n' + perProject.join('\n'));
console.log(`tests: ${passed} passed, ${failed} failed` + (skipped > 0 ? `, ${skipped} skipped` : ''));
const code = nx.status ?? 1;
process.exit(code !== 0 ? code : failed > 0 ? 1 : 0);
