#!/usr/bin/env node
/**
 * edgebox-netlab: the command line over the same library.
 *   up SPEC.json   build the lab, print its names as one JSON line, stay up until SIGINT/SIGTERM
 *   list           one line per recorded run: run id, owner pid, live/dead, namespaces
 *   gc             remove namespaces and state files of runs whose owner is dead
 * Exit status: 0 ok, 1 a NetlabError (its code and message on stderr), 2 usage.
 */
import { createLab } from './lab.js';
import { isNetlabError } from './errors.js';
import { loadSpecFile } from './spec.js';
import { gc, listRuns } from './state.js';

const USAGE = 'usage: edgebox-netlab up SPEC.json | list | gc';

async function up(file: string): Promise<number> {
  const spec = await loadSpecFile(file);
  const lab = await createLab(spec);
  // The lab's own SIGINT/SIGTERM handlers destroy it and re-raise the signal; we only wait.
  console.log(JSON.stringify(lab.info()));
  console.error(`netlab ${lab.runId} is up; Ctrl-C or SIGTERM tears it down`);
  await new Promise<never>(() => {
    // Keep the event loop alive until a signal ends the process.
    setInterval(() => undefined, 1 << 30);
  });
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      if (rest.length !== 1 || rest[0] === undefined) break;
      return up(rest[0]);
    case 'list': {
      const runs = listRuns();
      if (runs.length === 0) console.log('no netlab runs recorded');
      for (const run of runs) console.log(`${run.runId} pid=${run.ownerPid} ${run.ownerAlive ? 'live' : 'dead'} ${run.namespaces.join(' ')}`);
      return 0;
    }
    case 'gc': {
      const result = await gc();
      console.log(result.runs.length === 0 ? 'nothing to collect' : `removed runs ${result.runs.join(' ')}; namespaces ${result.namespaces.join(' ') || '(none left)'}`);
      return 0;
    }
    default:
      break;
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (isNetlabError(err)) console.error(`${err.code}: ${err.message}`);
    else console.error(err);
    process.exit(1);
  },
);
