#!/usr/bin/env -S node --max-semi-space-size=1
// The installed `edgebox` command. npm links commands at install time, before anything is
// built, so the link targets this committed file, which loads the built CLI from dist/.
import { existsSync } from 'node:fs';

const built = new URL('../dist/main.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('edgebox: not built yet; run `npm run build` (or `npm start`) in the repository first\n');
  process.exit(1);
}
await import(built.href);
