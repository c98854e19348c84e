/**
 * The built binary ends with a merge request and no file edited by hand: `init --merge-request
 * --ci-variables` against the loopback IAM/STS and the loopback fake GitLab (its CA trusted through
 * NODE_EXTRA_CA_CERTS, the token in GITLAB_TOKEN). A second run makes no mutating GitLab call.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETUP_BRANCH } from '../../src/delivery/merge-request.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { type FakeGitlab, type FakeProject, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { cliEnv, runCli } from '../helpers/iam-server.js';

const PATH = 'acme/platform/web';
const TOKEN = 'glpat-e2e-delivery-token';
const sandbox = useCliSandbox('gao-e2e-mr-', { account: '222233334444' });
let gitlab: FakeGitlab;
let project: FakeProject;
let caFile: string;

beforeAll(async () => {
  gitlab = await startFakeGitlab();
  project = gitlab.addProject(PATH, { files: { '.gitlab-ci.yml': 'build:\n  script: [make]\n' } });
  gitlab.protectBranch(project, 'main');
  gitlab.addToken(TOKEN, { scopes: ['api'], access: { [PATH]: 'maintainer' } });
  caFile = gitlab.writeCaFile(sandbox.dir);
});
afterAll(async () => {
  await gitlab?.close();
});

const init = (extra: string[] = []) =>
  runCli(
    [
      'init',
      '--project',
      PATH,
      '--gitlab-api-url',
      gitlab.url,
      '--branch',
      'main',
      '--region',
      'eu-west-1',
      '--merge-request',
      '--ci-variables',
      '--yes',
      '--json',
      ...extra,
    ],
    {
      cwd: sandbox.cwd,
      env: cliEnv(sandbox.server, sandbox.home, { GITLAB_TOKEN: TOKEN, NODE_EXTRA_CA_CERTS: caFile }),
    },
  ).done;

describe('init --merge-request (built binary, fake GitLab + loopback IAM)', () => {
  it('opens one merge request, sets the variables, writes no local file; a re-run changes nothing', async () => {
    const first = await init();
    expect(first.code, first.stderr + first.stdout.slice(0, 3000)).toBe(0);
    const doc = JSON.parse(first.stdout);
    expect(doc.status).toBe('applied');
    const open = project.mergeRequests.filter((m) => m.state === 'opened');
    expect(open).toHaveLength(1);
    expect(doc.mergeRequest.url).toBe(`${gitlab.url}/${PATH}/-/merge_requests/${open[0]!.iid}`);
    expect(doc.nextSteps.join('\n')).toContain(doc.mergeRequest.url);
    expect(gitlab.fileText(project, '.gitlab-ci.yml', SETUP_BRANCH)).toContain(
      "AWS_ROLE_ARN: '$AWS_OIDC_ROLE_ARN'",
    );
    expect(project.variables.map((v) => v.key)).toEqual(['AWS_OIDC_ROLE_ARN', 'AWS_OIDC_REGION']);
    expect(readdirSync(sandbox.cwd)).toEqual([]);
    expect(first.stdout + first.stderr).not.toContain(TOKEN);

    gitlab.clearCalls();
    const again = await init();
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).status).toBe('no-changes');
    expect(gitlab.mutatingCalls()).toEqual([]);
    expect(readdirSync(sandbox.cwd)).toEqual([]);
  });
});

describe('init --group --merge-request (built binary): one GitLab port for the fleet', () => {
  it('lists the group once, opens one MR per project with no GET /projects/:id; a re-run writes nothing', async () => {
    const fleet = ['fleet/a', 'fleet/b', 'fleet/sub/c'];
    gitlab.addGroup('fleet');
    for (const p of fleet) {
      const made = gitlab.addProject(p, { files: { '.gitlab-ci.yml': 'build:\n  script: [make]\n' } });
      gitlab.protectBranch(made, 'main');
    }
    gitlab.addToken('glpat-e2e-fleet', { scopes: ['api'], access: { fleet: 'maintainer' } });
    const run = (extra: string[]) =>
      runCli(
        ['init', '--group', 'fleet', '--gitlab-api-url', gitlab.url, '--merge-request', '--yes', ...extra],
        {
          cwd: sandbox.cwd,
          env: cliEnv(sandbox.server, sandbox.home, {
            GITLAB_TOKEN: 'glpat-e2e-fleet',
            NODE_EXTRA_CA_CERTS: caFile,
          }),
        },
      ).done;
    gitlab.clearCalls();
    const first = await run([]);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toContain('GitLab         3 merge requests to open, 3 commits');
    expect(first.stdout).toContain('Merge requests to review (3):');
    for (const p of fleet) expect(gitlab.project(p)?.mergeRequests).toHaveLength(1);
    const routes = gitlab.callsByRoute();
    expect(routes['GET /groups/:id/projects']).toBe(1);
    expect(routes['GET /projects/:id']).toBeUndefined();

    gitlab.clearCalls();
    const again = await run(['--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ fleet: true, status: 'no-changes', gitlabSteps: {} });
    expect(gitlab.mutatingCalls()).toEqual([]);
  });
});
