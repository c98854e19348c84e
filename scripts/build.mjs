// Bundles src/ into dist/ (ESM, code-split so that `--help` never loads the AWS SDK).
// Dependencies stay external: they are installed from the registry next to the package.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

await rm(new URL('../dist/', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli.ts', index: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // zod and yaml are bundled (tree-shaken, one file instead of hundreds: ~3x faster start-up);
  // the rest stay external and are installed next to the package.
  // undici stays external too: only the GitLab client loads it, and the load probe sees the import.
  external: ['@aws-sdk/*', '@smithy/*', '@inquirer/*', 'commander', 'chalk', 'jose', 'undici'],
  sourcemap: true,
  // Bundled CommonJS dependencies (yaml) call require(): give ESM chunks one.
  banner: {
    js: "import { createRequire as __gaoCreateRequire } from 'node:module'; const require = __gaoCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  chunkNames: 'chunks/[name]-[hash]',
});
