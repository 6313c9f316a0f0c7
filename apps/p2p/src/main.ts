#!/usr/bin/env node
// Entry of edgebox-p2p. The polyfill import comes first (libp2p 3 needs Promise.withResolvers,
// absent on Node 20); the CLI itself lives in cli.ts so tests can drive it.
import '@edgebox/runtime/polyfill';
import { runP2pCli } from './cli.js';

await runP2pCli({
  argv: process.argv.slice(2),
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  exit: (code) => process.exit(code),
});
