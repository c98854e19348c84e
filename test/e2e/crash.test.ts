/**
 * An error that escapes the one catch (here: an exception thrown from a timer while `init` waits on a
 * hung IAM endpoint, injected with NODE_OPTIONS=--import) still ends with the report on stderr, exit 1
 * and exactly one --json document, not a bare Node stack trace (built binary).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlackHole, startBlackHole } from '../helpers/black-hole.js';
import { cliEnv, ROOT, runCli } from '../helpers/iam-server.js';

let dir: string;
let hole: BlackHole;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js')))
    throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  dir = mkdtempSync(join(tmpdir(), 'gao-crash-'));
  mkdirSync(join(dir, 'repo'));
  mkdirSync(join(dir, 'home'));
  hole = await startBlackHole();
});
afterAll(async () => {
  await hole.close();
  rmSync(dir, { recursive: true, force: true });
});

function inject(kind: 'throw' | 'reject'): string {
  const file = join(dir, `${kind}.mjs`);
  const body =
    kind === 'throw'
      ? `setTimeout(() => { throw new Error('injected crash'); }, 300);`
      : `setTimeout(() => { Promise.reject(new Error('injected rejection')); }, 300);`;
  writeFileSync(file, `${body}\n`);
  return pathToFileURL(file).href;
}

describe.each(['throw', 'reject'] as const)('an uncaught %s outside the one catch', (kind) => {
  it('prints the failure, one --json document and exits 1', async () => {
    const env = cliEnv(hole, join(dir, 'home'), {
      NODE_OPTIONS: `--import ${inject(kind)}`,
      GITLAB_AWS_OIDC_TIMEOUT_MS: '20000',
    });
    const run = await runCli(['init', '--project', 'grp/app', '--branch', 'main', '--yes', '--json'], {
      cwd: join(dir, 'repo'),
      env,
      timeoutMs: 15_000,
    }).done;
    expect(run.code, run.stderr).toBe(1);
    const message = kind === 'throw' ? 'injected crash' : 'injected rejection';
    expect(run.stderr).toContain(`error: unexpected failure: Error: ${message}`);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({
      ok: false,
      command: 'init',
      exitCode: 1,
      error: { code: 'INTERNAL', message },
    });
  });
});
