import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETUP_BRANCH } from '../../src/delivery/merge-request.js';
import { type DeliveryProject, type DeliveryRole, planGitlabDelivery } from '../../src/delivery/plan.js';
import { desiredVariables } from '../../src/delivery/variables.js';
import { planPipeline } from '../../src/init/pipeline.js';
import { jobNamesFor } from '../../src/render/ci-file.js';
import { ciYamlToJs } from '../../src/render/ci-yaml.js';
import {
  createMemoryGitlab as createSharedMemoryGitlab,
  type MemoryProject,
} from '../helpers/memory-gitlab.js';
import { resolveFlags, tempDir } from '../init/helpers.js';

/** The shared in-memory GitLab with one project (42, grp/app); `files` and `mergeRequests` are its repository. */
function createMemoryGitlab() {
  const project: MemoryProject & {
    files: Record<string, Record<string, string>>;
    mergeRequests: NonNullable<MemoryProject['mergeRequests']>;
    variables: NonNullable<MemoryProject['variables']>;
  } = {
    id: 42,
    path: 'grp/app',
    namespaceId: 7,
    defaultBranch: 'main',
    files: {},
    mergeRequests: [],
    variables: [],
  };
  const gl = createSharedMemoryGitlab([project]);
  return {
    port: gl.port,
    project,
    calls: () =>
      gl.calls.map((c) => (c.method === 'getFile' ? `getFile ${c.args[1]}@${c.args[2]}` : c.method)),
  };
}

const ROLE: DeliveryRole = {
  roleArn: 'arn:aws:iam::123456789012:role/gitlab-oidc/gitlab-grp-app',
  providerArn: 'arn:aws:iam::123456789012:oidc-provider/gitlab.com',
  managedPolicyArns: [],
};
const PROJECT: DeliveryProject = {
  id: 42,
  pathWithNamespace: 'grp/app',
  defaultBranch: 'main',
  refsProtected: true,
  unprotectedRefs: [],
};
const USER = '# the team\nbuild:\n  script: [make]   # keep this comment\n';

const opts = (extra: Record<string, unknown> = {}) =>
  resolveFlags(
    { project: 'grp/app', branch: ['main'], region: 'eu-west-1', yes: true, ...extra },
    '/nowhere',
  );

describe('planGitlabDelivery', () => {
  it('--merge-request: the commit holds exactly what a local write of the same file would', async () => {
    const gl = createMemoryGitlab();
    gl.project.files['main'] = { ['.gitlab-ci.yml']: `\uFEFF${USER.replace(/\n/g, '\r\n')}` };
    const options = await opts({ mergeRequest: true });
    const plan = await planGitlabDelivery(options, gl.port, PROJECT, ROLE);
    expect(plan.steps.map((s) => s.kind)).toEqual(['commit', 'createMergeRequest']);
    const commit = plan.steps[0] as Extract<(typeof plan.steps)[0], { kind: 'commit' }>;
    const bytes = Buffer.from(commit.actions[0]!.content!, 'base64');
    // A local run on the same bytes plans the same file.
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, '.gitlab-ci.yml'), `\uFEFF${USER.replace(/\n/g, '\r\n')}`);
      const localOptions = await resolveFlags(
        { project: 'grp/app', branch: ['main'], region: 'eu-west-1', yes: true },
        tmp.dir,
      );
      const local = await planPipeline({ ...localOptions, ciFile: localOptions.ciFile! }, ROLE.roleArn);
      expect(local.action).toBe('update');
      expect(bytes.equals(Buffer.from(local.text, 'utf8'))).toBe(true);
    } finally {
      tmp.cleanup();
    }
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString('utf8')).toContain('script: [make]   # keep this comment\r\n');
    expect(plan.pipeline?.shownPath).toBe('.gitlab-ci.yml');
    expect(plan.mergeRequest).toMatchObject({ branch: SETUP_BRANCH, targetBranch: 'main', iid: undefined });
    const mr = plan.steps[1] as Extract<(typeof plan.steps)[1], { kind: 'createMergeRequest' }>;
    expect(mr.description).toContain(ROLE.roleArn);
    // No local file was looked at: the options' cwd does not even exist.
    expect(gl.calls()).not.toContain('listProjectVariables');
  });

  it('--merge-request --ci-file names the path in the repository', async () => {
    const gl = createMemoryGitlab();
    gl.project.files['main'] = { ['ci/pipeline.yml']: USER };
    const plan = await planGitlabDelivery(
      await opts({ mergeRequest: true, ciFile: './ci//pipeline.yml' }),
      gl.port,
      PROJECT,
      ROLE,
    );
    expect(gl.calls()).toContain('getFile ci/pipeline.yml@main');
    expect(plan.steps[0]).toMatchObject({
      actions: [{ action: 'update', filePath: 'ci/pipeline.yml', lastCommitId: 'c-main' }],
    });
  });

  it('--merge-request on an empty repository (no default branch) is bad input naming the flag', async () => {
    const gl = createMemoryGitlab();
    const run = planGitlabDelivery(
      await opts({ mergeRequest: true }),
      gl.port,
      { ...PROJECT, defaultBranch: undefined },
      ROLE,
    );
    await expect(run).rejects.toThrow(/Invalid --merge-request: grp\/app has no default branch/);
    expect(gl.calls()).toEqual([]);
  });

  it('--ci-variables --merge-request: variables first, then the commit whose hidden job reads them', async () => {
    const gl = createMemoryGitlab();
    const plan = await planGitlabDelivery(
      await opts({ mergeRequest: true, ciVariables: true }),
      gl.port,
      PROJECT,
      ROLE,
    );
    expect(plan.steps.map((s) => s.kind)).toEqual([
      'createVariable',
      'createVariable',
      'commit',
      'createMergeRequest',
    ]);
    const commit = plan.steps[2] as Extract<(typeof plan.steps)[2], { kind: 'commit' }>;
    const js = ciYamlToJs(Buffer.from(commit.actions[0]!.content!, 'base64').toString('utf8')) as Record<
      string,
      { variables: Record<string, string> }
    >;
    expect(js['.aws-oidc']!.variables.AWS_ROLE_ARN).toBe('$AWS_OIDC_ROLE_ARN');
    expect(plan.ciVariables).toMatchObject({ roleArn: 'AWS_OIDC_ROLE_ARN', protected: true });
    expect(plan.notes[0]).toMatch(
      /^CI\/CD variables AWS_OIDC_ROLE_ARN, AWS_OIDC_REGION: protected: every allowed ref/,
    );
  });

  it('a re-run after everything was delivered plans no step', async () => {
    const gl = createMemoryGitlab();
    const options = await opts({ mergeRequest: true, ciVariables: true });
    const first = await planGitlabDelivery(options, gl.port, PROJECT, ROLE);
    // What applying the first plan leaves in GitLab.
    gl.project.variables = desiredVariables({
      jobNames: jobNamesFor(),
      roleArn: ROLE.roleArn,
      region: 'eu-west-1',
      refsProtected: true,
    }).map((v) => ({
      key: v.key,
      value: v.value,
      variableType: 'env_var',
      protected: v.protected,
      masked: false,
      hidden: false,
      raw: true,
      environmentScope: '*',
      description: v.description,
    }));
    const commit = first.steps[2] as Extract<(typeof first.steps)[2], { kind: 'commit' }>;
    gl.project.files[SETUP_BRANCH] = {
      '.gitlab-ci.yml': Buffer.from(commit.actions[0]!.content!, 'base64').toString('utf8'),
    };
    const mr = first.steps[3] as Extract<(typeof first.steps)[3], { kind: 'createMergeRequest' }>;
    gl.project.mergeRequests.push({
      iid: 1,
      webUrl: 'https://gitlab.example.com/grp/app/-/merge_requests/1',
      title: mr.title,
      description: mr.description,
      sourceBranch: SETUP_BRANCH,
      targetBranch: 'main',
      state: 'opened',
    });
    const again = await planGitlabDelivery(options, gl.port, PROJECT, ROLE);
    expect(again.steps).toEqual([]);
    expect(again.mergeRequest).toMatchObject({
      iid: 1,
      url: 'https://gitlab.example.com/grp/app/-/merge_requests/1',
    });
  });

  it('--ci-variables with a local file: the keys follow the job names the local plan chose', async () => {
    const gl = createMemoryGitlab();
    const plan = await planGitlabDelivery(
      await opts({ ciVariables: true }),
      gl.port,
      { ...PROJECT, refsProtected: false, unprotectedRefs: ['branch main'] },
      ROLE,
      {
        jobNames: async () => jobNamesFor('gitlab-grp-app'),
      },
    );
    expect(
      plan.steps.map((s) => (s as { variable: { key: string; protected: boolean } }).variable),
    ).toMatchObject([
      { key: 'AWS_OIDC_ROLE_ARN_GITLAB_GRP_APP', protected: false },
      { key: 'AWS_OIDC_REGION_GITLAB_GRP_APP', protected: false },
    ]);
    expect(plan.ciVariables?.protection).toMatch(/^not protected: branch main is not protected/);
  });

  it('without --region a re-run keeps the region of its own variable; --region changes it (shown from → to)', async () => {
    const gl = createMemoryGitlab();
    gl.project.variables = desiredVariables({
      jobNames: jobNamesFor(),
      roleArn: ROLE.roleArn,
      region: 'ap-south-1',
      refsProtected: true,
    }).map((v) => ({
      key: v.key,
      value: v.value,
      variableType: 'env_var',
      protected: v.protected,
      masked: false,
      hidden: false,
      raw: true,
      environmentScope: '*',
      description: v.description,
    }));
    const keep = await resolveFlags(
      { project: 'grp/app', branch: ['main'], yes: true, ciVariables: true },
      '/nowhere',
      { AWS_REGION: 'us-west-2' },
    );
    const kept = await planGitlabDelivery(keep, gl.port, PROJECT, ROLE);
    expect(kept.steps).toEqual([]);
    expect(kept.notes).toContain('Kept the region of the CI/CD variable AWS_OIDC_REGION: ap-south-1.');
    const change = await planGitlabDelivery(await opts({ ciVariables: true }), gl.port, PROJECT, ROLE);
    expect(change.steps).toEqual([
      expect.objectContaining({
        kind: 'updateVariable',
        variable: expect.objectContaining({ key: 'AWS_OIDC_REGION', value: 'eu-west-1' }),
        from: expect.objectContaining({ value: 'ap-south-1' }),
      }),
    ]);
  });
});
