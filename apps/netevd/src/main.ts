#!/usr/bin/env -S node --max-semi-space-size=1
// Entry of edgebox-netevd. The polyfill import comes first; the CLI lives in cli.ts so tests
// can drive it. The shebang caps V8's young generation at 1 MiB per semi-space (as
// edgebox-bond does): the daemon makes little garbage per event, and the default 16 MiB
// semi-spaces only grow RSS. Hosts that start it otherwise should pass the same flag.
import '@edgebox/runtime/polyfill';
import { runNetevdCli } from './cli.js';

await runNetevdCli({
  argv: process.argv.slice(2),
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  exit: (code) => process.exit(code),
});
