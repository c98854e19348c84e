/**
 * The built binary: `init --ci-variables` then `destroy` against the loopback IAM/STS and the loopback
 * fake GitLab (token in GITLAB_TOKEN): the variables go with the role, the local pipeline file that
 * reads `$AWS_OIDC_ROLE_ARN` is removed, and `--offline` makes no GitLab call at all.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { type FakeGitlab, type FakeProject, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { cliEnv, runCli } from '../helpers/iam-server.js';

const PATH = 'acme/platform/api';
const TOKEN = 'glpat-e2e-destroy-token';
const sandbox = useCliSandbox('gao-e2e-destroy-vars-', { account: '222233334444' });
let gitlab: FakeGitlab;
let project: FakeProject;
let caFile: string;

beforeAll(async () => {
  gitlab = await startFakeGitlab();
  project = gitlab.addProject(PATH);
  gitlab.protectBranch(project, 'main');
  gitlab.addToken(TOKEN, { scopes: ['api'], access: { [PATH]: 'maintainer' } });
  caFile = gitlab.writeCaFile(sandbox.dir);
});
afterAll(async () => {
  await gitlab?.close();
});

const cli = (args: string[]) =>
  runCli([...args, '--gitlab-api-url', gitlab.url, '--yes', '--json'], {
    cwd: sandbox.cwd,
    env: cliEnv(sandbox.server, sandbox.home, { GITLAB_TOKEN: TOKEN, NODE_EXTRA_CA_CERTS: caFile }),
  }).done;

describe('destroy after init --ci-variables (built binary)', () => {
  it('--offline leaves GitLab alone; then destroy deletes the variables and the file', async () => {
    const init = await cli([
      'init',
      '--project',
      PATH,
      '--branch',
      'main',
      '--region',
      'eu-west-1',
      '--ci-variables',
    ]);
    expect(init.code, init.stderr).toBe(0);
    expect(project.variables.map((v) => v.key)).toEqual(['AWS_OIDC_ROLE_ARN', 'AWS_OIDC_REGION']);
    const file = join(sandbox.cwd, '.gitlab-ci.yml');
    expect(existsSync(file)).toBe(true);

    gitlab.clearCalls();
    const offline = await cli(['destroy', '--project', PATH, '--dry-run', '--offline']);
    expect(offline.code, offline.stderr).toBe(0);
    expect(JSON.parse(offline.stdout).ciVariables).toMatchObject({ checked: false, reason: '--offline' });
    expect(gitlab.calls).toEqual([]);

    const destroyed = await cli(['destroy', '--project', PATH]);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    const doc = JSON.parse(destroyed.stdout);
    expect(doc.ciVariables.done).toHaveLength(2);
    expect(project.variables).toEqual([]);
    expect(existsSync(file)).toBe(false);
    expect(destroyed.stdout + destroyed.stderr).not.toContain(TOKEN);
  });
});
