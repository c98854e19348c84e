#!/usr/bin/env node
// Thin launcher: the real CLI is bundled into dist/ by `npm run build` (run on `npm install` via `prepare`).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'gitlab-aws-oidc: dist/cli.js is missing. Run `npm run build` (or `npm install`) first.\n',
  );
  process.exit(1);
}
await import(cli.href);
