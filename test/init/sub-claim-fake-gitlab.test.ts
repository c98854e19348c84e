/**
 * init --sub-claim project-id through the real GitLab client against the loopback fake GitLab (and the
 * fake IAM): the PUT as GitLab takes it, an instance that refuses project_id first (400), one without
 * the setting (older than 17.10), and a re-run with zero mutating GitLab calls.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RawInitFlags } from '../../src/commands/init.js';
import { ExitCode, UsageError } from '../../src/errors.js';
import { createGitlabPort } from '../../src/gitlab/api/factory.js';
import type { GitlabPort } from '../../src/gitlab/api/ports.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { runInitWith, tempDir } from './helpers.js';

let gitlab: FakeGitlab;
let port: GitlabPort;
let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;

const TOKEN = 'glpat-subclaim-maintainer';
beforeAll(async () => {
  gitlab = await startFakeGitlab({
    seed: (g) => {
      g.addProject('ops/deploy', { id: 314 });
      g.protectBranch('ops/deploy', 'main');
      g.addToken(TOKEN, { scopes: ['api'], access: { 'ops/deploy': 'maintainer' } });
    },
  });
  port = createGitlabPort({
    apiBase: gitlab.url,
    token: { token: TOKEN, source: 'GITLAB_TOKEN', kind: 'private-token' },
    ca: gitlab.caPem,
    env: {},
  });
});
afterAll(async () => {
  await gitlab.close();
});
beforeEach(() => {
  gitlab.reset();
  aws = createFakeAws({ account: '111122223333' });
  tmp = tempDir();
});
afterEach(() => {
  aws.restore();
  tmp.cleanup();
});

// The issuer stays a portless https URL (what IAM takes); the API is the fake.
const FLAGS: RawInitFlags = {
  gitlabUrl: 'https://gitlab.example.com',
  project: 'ops/deploy',
  branch: ['main'],
  region: 'eu-west-1',
  thumbprint: ['b'.repeat(40)],
  subClaim: 'project-id',
  yes: true,
};
const run = (flags: RawInitFlags = FLAGS) =>
  runInitWith(flags, tmp.dir, { aws, gitlab: port, readExisting: true });
const trust = () => decodeURIComponent(String(aws.state.roles.get('gitlab-ops-deploy')?.trustPolicy));

describe('init --sub-claim project-id against the fake GitLab', () => {
  it('PUTs the components as GitLab takes them, writes the trust on the ID; a re-run makes no GitLab write', async () => {
    const { result } = await run();
    expect(result.status).toBe('applied');
    expect(gitlab.project('ops/deploy')?.subClaimComponents).toEqual(['project_id', 'ref_type', 'ref']);
    expect(gitlab.mutatingCalls().map((c) => c.route)).toEqual(['PUT /projects/:id']);
    expect(trust()).toContain('project_id:314:ref_type:branch:ref:main');

    gitlab.clearCalls();
    const iam = aws.mutatingCalls().length;
    const again = await run({ ...FLAGS, subClaim: undefined });
    expect(again.result.status).toBe('no-changes');
    expect(gitlab.mutatingCalls()).toEqual([]);
    expect(aws.mutatingCalls().length).toBe(iam);
  });

  it("an instance that takes only project_path first: GitLab's 400 is exit 2, IAM untouched", async () => {
    gitlab.state.subClaimProjectId = false;
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.Usage);
    expect((error as UsageError).message).toContain(
      'project_path must be the first element of the sub claim',
    );
    expect((error as UsageError).message).toContain('Nothing was changed');
    expect(aws.mutatingCalls()).toEqual([]);
    expect(gitlab.project('ops/deploy')?.subClaimComponents).toEqual(['project_path', 'ref_type', 'ref']);
  });

  it('an instance without the setting (older than 17.10): exit 2 before any change, no PUT', async () => {
    gitlab.state.subClaimSupported = false;
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(
      /does not report ci_id_token_sub_claim_components for ops\/deploy/,
    );
    expect(gitlab.mutatingCalls()).toEqual([]);
    expect(aws.mutatingCalls()).toEqual([]);
  });
});
