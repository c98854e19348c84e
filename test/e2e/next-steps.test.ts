import { describe, expect, it } from 'vitest';
import { useCliSandbox } from '../helpers/cli-sandbox.js';

const sandbox = useCliSandbox('gao-next-steps-', { account: '123412341234' });

const run = sandbox.run;

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
