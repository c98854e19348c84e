import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The package's root folder (the one holding package.json and templates/), found by walking up
 * from this module. Works from src/ (tests) and from the bundled dist/ alike.
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('gitlab-aws-oidc: cannot find the package root (templates/ is missing)');
    dir = parent;
  }
}

/** Absolute path of a file under templates/. */
export function templatePath(...parts: string[]): string {
  return join(packageRoot(), 'templates', ...parts);
}
