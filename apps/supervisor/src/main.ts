#!/usr/bin/env -S node --max-semi-space-size=1
// Entry of `edgebox`. The polyfill import comes first (libp2p 3 needs Promise.withResolvers,
// absent on Node 20); the CLI itself lives in cli.ts so tests can drive it. The shebang caps
// V8's young generation at 1 MiB per semi-space, as bonding and netevd do: the supervisor's
// process holds ~105 MB instead of ~140 MB at idle; start it otherwise with the same flag
// (npm start and the systemd unit do).
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
