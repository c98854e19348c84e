/**
 * The "Check the trust from a laptop" command that `init` prints must work as printed: run it with the
 * built binary against the same loopback IAM/STS and expect exit 0.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, type IamServer, runCli, startIamServer } from '../helpers/iam-server.js';

let server: IamServer;
let dir: string;
let cwd: string;
let home: string;

beforeAll(async () => {
  server = await startIamServer({ account: '123412341234' });
  dir = mkdtempSync(join(tmpdir(), 'gao-next-steps-'));
  cwd = join(dir, 'repo');
  home = join(dir, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[]) => runCli(args, { cwd, env: cliEnv(server, home) }).done;

/** Splits a printed command line: words separated by spaces, '…' quoting with the '\'' escape. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/(?:'(?:[^']|'\\'')*'|[^\s'])+/g)) {
    words.push(m[0].replace(/'\\''/g, "'").replace(/'([^']*)'/g, '$1'));
  }
  return words;
}

describe('init next steps', () => {
  it.each([
    [
      'id pinned, branches and a tag pattern',
      [
        '--project',
        'acme/web',
        '--project-id',
        '4242',
        '--branch',
        'release/*',
        '--branch',
        'main',
        '--tag',
        'v*',
      ],
    ],
    [
      'protected refs only, sts audience',
      [
        '--project',
        'acme/api',
        '--project-id',
        '77',
        '--namespace-id',
        '9',
        '--protected-only',
        '--tag',
        'v*',
        '--audience',
        'sts.amazonaws.com',
        // The provider (made by the first case) gets a second audience: a widening.
        '--allow-widening',
      ],
    ],
  ])('%s: the printed verify command is allowed', async (_name, flags) => {
    const init = await run(['init', ...flags, '--no-ci-file', '--yes', '--json']);
    expect(init.code, init.stdout + init.stderr).toBe(0);
    const steps = JSON.parse(init.stdout).nextSteps as string[];
    const step = steps.find((s) => s.includes('gitlab-aws-oidc verify'));
    expect(step).toBeDefined();
    const args = shellWords(step!.slice(step!.indexOf('gitlab-aws-oidc verify') + 'gitlab-aws-oidc '.length));
    const verify = await run(args);
    expect(verify.code, `${step}\n${verify.stdout}${verify.stderr}`).toBe(0);
  });
});
