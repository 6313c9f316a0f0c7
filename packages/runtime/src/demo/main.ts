#!/usr/bin/env node
// Entry of the demo CLI (`npm start`). The polyfill import comes first, before anything that
// might need Promise.withResolvers; the CLI itself lives in cli.ts so tests can drive it.
import '../polyfill.js';
import { runDemo } from './cli.js';

await runDemo({
  argv: process.argv.slice(2),
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  exit: (code) => process.exit(code),
});
