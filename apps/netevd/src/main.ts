#!/usr/bin/env node
// Entry of edgebox-netevd. The polyfill import comes first; the CLI lives in cli.ts so tests
// can drive it.
import '@edgebox/runtime/polyfill';
import { runNetevdCli } from './cli.js';

await runNetevdCli({
  argv: process.argv.slice(2),
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  exit: (code) => process.exit(code),
});
