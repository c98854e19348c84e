/**
 * init's GitLab side with the real client (TLS with the fake's CA) against the loopback fake GitLab and
 * the in-memory IAM: the lookup pins, the protection check with GitLab's own rule shapes and roles,
 * --protect-refs, an idempotent re-run (zero mutating GitLab calls, from the fake's call log), a fault
 * at each mutating GitLab call followed by a converging re-run, a moved project, a Reporter token.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PartialApplyError } from '../../src/errors.js';
import { createGitlabClient, type GitlabClient } from '../../src/gitlab/api/client.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { BASE_FLAGS, runInitWith, tempDir } from './helpers.js';

let gitlab: FakeGitlab;
let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;
const clients: GitlabClient[] = [];

beforeAll(async () => {
  gitlab = await startFakeGitlab();
});
afterAll(() => gitlab.close());
beforeEach(() => {
  aws = createFakeAws({ account: '111122223333' });
  tmp = tempDir();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  aws.restore();
  tmp.cleanup();
  gitlab.reset();
});

/** The real client on the fake, as the factory builds it (no retry waits). */
function client(token: string | undefined): GitlabClient {
  const c = createGitlabClient({
    baseUrl: gitlab.url,
    token,
    tokenSource: 'GITLAB_TOKEN',
    ca: gitlab.caPem,
    env: {},
    sleep: async () => {},
  });
  clients.push(c);
  return c;
}

const PATH = 'acme/platform/web';
const FLAGS = { ...BASE_FLAGS, branch: ['main', 'release/*'], tag: ['v*'] };

function seed(access: 'maintainer' | 'reporter' = 'maintainer') {
  const project = gitlab.addProject(PATH, { branches: ['release/1'] });
  gitlab.protectBranch(project, 'main');
  // By ID: the role stays the project's when it moves.
  gitlab.addToken('glpat-test', { scopes: ['api'], access: { [String(project.id)]: access } });
  return project;
}

const trustOf = (name = 'gitlab-acme-platform-web') =>
  JSON.stringify(JSON.parse(decodeURIComponent(String(aws.state.roles.get(name)?.trustPolicy))));
const writes = () => gitlab.mutatingCalls().map((c) => c.route);

describe('init with the GitLab client against the fake GitLab', () => {
  it('--protect-refs: rules created after IAM, everything pinned; the re-run makes no GitLab write', async () => {
    const project = seed();
    const started = performance.now();
    const { result } = await runInitWith({ ...FLAGS, protectRefs: true }, tmp.dir, {
      aws,
      gitlab: client('glpat-test'),
    });
    const elapsed = performance.now() - started;
    expect(result.status).toBe('applied');
    const trust = trustOf();
    expect(trust).toContain(`"gitlab.com:project_id":"${project.id}"`);
    expect(trust).toContain(`"gitlab.com:namespace_id":"${project.namespaceId}"`);
    expect(trust).toContain('"gitlab.com:ref_protected":"true"');
    expect(writes()).toEqual(['POST /projects/:id/protected_branches', 'POST /projects/:id/protected_tags']);
    expect(project.protectedBranches.map((r) => r.name)).toEqual(['main', 'release/*']);
    expect(project.protectedTags.map((r) => r.name)).toEqual(['v*']);
    // One lookup, one read of each rule list, one write per missing rule.
    expect(gitlab.calls.filter((c) => c.method === 'GET').map((c) => c.route)).toEqual([
      'GET /projects/:id',
      'GET /projects/:id/protected_branches',
      'GET /projects/:id/protected_tags',
    ]);
    expect(elapsed).toBeLessThan(5_000);

    gitlab.clearCalls();
    const again = await runInitWith({ ...FLAGS, protectRefs: true }, tmp.dir, {
      aws,
      gitlab: client('glpat-test'),
      readExisting: true,
    });
    expect(again.result.status).toBe('no-changes');
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it.each([['POST /projects/:id/protected_branches'], ['POST /projects/:id/protected_tags']])(
    'a failure at %s: done / not done reported, pipeline not written; the re-run converges',
    async (route) => {
      const project = seed();
      gitlab.fault({ path: route, status: 403, times: 1 });
      const error = await runInitWith({ ...FLAGS, protectRefs: true }, tmp.dir, {
        aws,
        gitlab: client('glpat-test'),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PartialApplyError);
      const partial = error as PartialApplyError;
      expect(partial.done.some((d) => d.startsWith('create role'))).toBe(true);
      expect(partial.notDone.at(-1)).toBe('write .gitlab-ci.yml');
      expect(JSON.stringify(partial.toJSON())).toContain('Maintainer');

      const rerun = await runInitWith({ ...FLAGS, protectRefs: true }, tmp.dir, {
        aws,
        gitlab: client('glpat-test'),
        readExisting: true,
      });
      expect(rerun.result.status).toBe('applied');
      expect(project.protectedBranches.map((r) => r.name).sort()).toEqual(['main', 'release/*']);
      expect(project.protectedTags.map((r) => r.name)).toEqual(['v*']);
      gitlab.clearCalls();
      const third = await runInitWith({ ...FLAGS, protectRefs: true }, tmp.dir, {
        aws,
        gitlab: client('glpat-test'),
        readExisting: true,
      });
      expect(third.result.status).toBe('no-changes');
      expect(gitlab.mutatingCalls()).toEqual([]);
    },
  );

  it('a moved project: the lookup follows the redirect and the trust is on the new path', async () => {
    seed();
    gitlab.moveProject(PATH, 'acme/web');
    const { result } = await runInitWith(BASE_FLAGS, tmp.dir, { aws, gitlab: client('glpat-test') });
    expect(result.project).toBe('acme/web');
    expect(trustOf('gitlab-acme-web')).toContain('project_path:acme/web:ref_type:branch:ref:main');
    expect(result.warnings.join('\n')).toContain(`${PATH} has MOVED to acme/web`);
  });

  it('a Reporter token: the rules are not listable; main is checked on its own and pinned', async () => {
    seed('reporter');
    const { result } = await runInitWith(BASE_FLAGS, tmp.dir, { aws, gitlab: client('glpat-test') });
    expect(result.gitlab?.refs?.[0]).toMatchObject({ source: 'branch', protectedBy: 'main' });
    expect(trustOf()).toContain('"gitlab.com:ref_protected":"true"');
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('no token and a private project: a usage error naming the token, before any AWS call', async () => {
    seed();
    const error = (await runInitWith(BASE_FLAGS, tmp.dir, { aws, gitlab: client(undefined) }).catch(
      (e: unknown) => e,
    )) as Error & { exitCode: number };
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/without a token/);
    expect(aws.calls()).toEqual([]);
  });
});
