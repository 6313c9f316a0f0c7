#!/usr/bin/env node
// Entry of `edgebox`. The polyfill import comes first (libp2p 3 needs Promise.withResolvers,
// absent on Node 20); the CLI itself lives in cli.ts so tests can drive it.
import '@edgebox/runtime/polyfill';
import { runEdgeboxCli } from './cli.js';

const code = await runEdgeboxCli({
  argv: process.argv.slice(2),
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  exit: (c) => process.exit(c),
});
process.exit(code);
