/**
 * init's GitLab side with the built binary: the loopback fake GitLab (reached through --gitlab-api-url,
 * the issuer staying https://gitlab.com, its CA through NODE_EXTRA_CA_CERTS) and the loopback IAM/STS.
 * The lookup pins the IDs, --protect-refs creates the missing rules after IAM, ref_protected is pinned;
 * the re-run makes no GitLab write; the GitLab calls of a run are counted and the lookups timed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { cliEnv, runCli } from '../helpers/iam-server.js';

const sandbox = useCliSandbox('gao-e2e-gitlab-', { account: '123412341234' });
let gitlab: FakeGitlab;
beforeAll(async () => {
  gitlab = await startFakeGitlab();
});
afterAll(() => gitlab?.close());

const PATH = 'acme/web';
// biome-ignore lint/suspicious/noExplicitAny: ad-hoc reads of the CLI's JSON document
const json = (stdout: string) => JSON.parse(stdout) as Record<string, any>;

function run(args: string[]) {
  const env = cliEnv(sandbox.server, sandbox.home, {
    GITLAB_TOKEN: 'glpat-e2e-maintainer',
    NODE_EXTRA_CA_CERTS: gitlab.writeCaFile(sandbox.home),
  });
  return runCli(['init', '--gitlab-api-url', gitlab.url, ...args], { cwd: sandbox.cwd, env }).done;
}

describe('init with the GitLab API (built binary, fake GitLab + loopback IAM/STS)', () => {
  it('looks up, protects, pins; a re-run makes zero GitLab writes', async () => {
    const project = gitlab.addProject(PATH, { defaultBranch: 'main' });
    gitlab.protectBranch(project, 'main');
    gitlab.addToken('glpat-e2e-maintainer', { scopes: ['api'], access: { [PATH]: 'maintainer' } });
    const flags = ['--project', PATH, '--branch', 'main', '--tag', 'v*', '--protect-refs', '--yes', '--json'];

    const first = await run(flags);
    expect(first.code, first.stderr).toBe(0);
    const doc = json(first.stdout);
    expect(doc.gitlab.project).toMatchObject({ id: project.id, namespaceId: project.namespaceId });
    expect(doc.gitlabSteps).toEqual([{ kind: 'protectTag', project: project.id, name: 'v*' }]);
    expect(doc.gitlabApplied).toHaveLength(1);
    expect(project.protectedTags.map((r) => r.name)).toEqual(['v*']);
    const trust = decodeURIComponent(String(sandbox.server.state.roles.get('gitlab-acme-web')?.trustPolicy));
    expect(trust).toContain(`"gitlab.com:project_id":"${project.id}"`);
    expect(trust).toContain('"gitlab.com:ref_protected":"true"');
    // The token never appears in the output.
    expect(first.stdout + first.stderr).not.toContain('glpat-e2e-maintainer');
    expect(gitlab.callsByRoute()).toEqual({
      'GET /projects/:id': 1,
      'GET /projects/:id/protected_branches': 1,
      'GET /projects/:id/protected_tags': 1,
      'POST /projects/:id/protected_tags': 1,
    });

    gitlab.clearCalls();
    const again = await run(flags);
    expect(again.code, again.stderr).toBe(0);
    expect(json(again.stdout).status).toBe('no-changes');
    expect(gitlab.mutatingCalls()).toEqual([]);
    expect(gitlab.calls).toHaveLength(3);
  });

  it('an archived project is refused with exit 2 and no AWS change', async () => {
    gitlab.addProject('acme/old', { archived: true });
    gitlab.addToken('glpat-e2e-maintainer', { scopes: ['api'], access: { 'acme/old': 'maintainer' } });
    const before = sandbox.server.state.roles.size;
    const result = await run(['--project', 'acme/old', '--branch', 'main', '--yes', '--json']);
    expect(result.code).toBe(2);
    expect(json(result.stdout).error.message).toMatch(/acme\/old is archived/);
    expect(sandbox.server.state.roles.size).toBe(before);
  });
});
