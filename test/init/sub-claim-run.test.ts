/**
 * init --sub-claim project-id against an in-memory GitLab and the fake IAM: the project's sub claim
 * components and the trust change together (GitLab first), a re-run changes nothing, an instance
 * without the setting or refusing project_id stops with exit 2 before any change, and the change needs
 * consent (the flag, or a "yes" on a terminal).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RawInitFlags } from '../../src/commands/init.js';
import { ConsentRequiredError, ExitCode, UsageError } from '../../src/errors.js';
import { formatPlan } from '../../src/init/format.js';
import { createPalette } from '../../src/io/colors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { createMemoryGitlab, MemoryGitlabError, type MemoryProject } from '../helpers/memory-gitlab.js';
import { runInitWith, tempDir } from './helpers.js';

let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  aws = createFakeAws({ account: '111122223333' });
  tmp = tempDir();
});
afterEach(() => {
  aws.restore();
  tmp.cleanup();
});

const URL = 'https://gitlab.example.com';
const ROLE = 'gitlab-ops-deploy';
const PATH_FORM = ['project_path', 'ref_type', 'ref'];
const ID_FORM = ['project_id', 'ref_type', 'ref'];
const project = (over: Partial<MemoryProject> = {}): MemoryProject => ({
  id: 314,
  path: 'ops/deploy',
  namespaceId: 9,
  protectedBranches: ['main'],
  subClaimComponents: [...PATH_FORM],
  ...over,
});
const FLAGS: RawInitFlags = {
  gitlabUrl: URL,
  project: 'ops/deploy',
  branch: ['main'],
  region: 'eu-west-1',
  thumbprint: ['a'.repeat(40)],
  yes: true,
};
const trustSubs = () => {
  const role = aws.state.roles.get(ROLE);
  const doc = JSON.parse(decodeURIComponent(String(role?.trustPolicy)));
  return JSON.stringify(doc.Statement[0].Condition);
};

describe('init --sub-claim project-id', () => {
  it('sets the components, then writes the trust on project_id:<id>; a re-run changes nothing', async () => {
    const gitlab = createMemoryGitlab([project()], { baseUrl: URL });
    const { result } = await runInitWith({ ...FLAGS, subClaim: 'project-id' }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
      readExisting: true,
    });
    expect(result.status).toBe('applied');
    expect(gitlab.projects[0]?.subClaimComponents).toEqual(ID_FORM);
    expect(gitlab.mutatingCalls()).toEqual(['setSubClaimComponents']);
    expect(trustSubs()).toContain('"gitlab.example.com:sub":"project_id:314:ref_type:branch:ref:main"');
    expect(trustSubs()).not.toContain('project_path');
    expect(result.gitlabSteps[0]).toEqual({
      kind: 'setSubClaim',
      project: 314,
      from: PATH_FORM,
      to: ID_FORM,
    });
    expect(result.gitlabApplied[0]).toMatch(/set the ID token sub claim in project 314/);
    // The safety check probed a new project on the same path (another ID): refused.
    expect(result.checks.expectDeny.find((c) => c.id === 'path-reuse')?.allowed).toBe(false);
    expect(result.warnings.join('\n')).toMatch(/changes before the trust policy does/);

    const iamBefore = aws.mutatingCalls().length;
    const again = await runInitWith({ ...FLAGS }, tmp.dir, { aws, gitlab: gitlab.port, readExisting: true });
    expect(again.result.status).toBe('no-changes');
    expect(again.notes.join('\n')).toContain('sub claim project_id');
    expect(gitlab.mutatingCalls()).toEqual(['setSubClaimComponents']);
    expect(aws.mutatingCalls().length).toBe(iamBefore);
  });

  it('switching an existing path-form role is not widening, and shows the change in red in the plan', async () => {
    const gitlab = createMemoryGitlab([project()], { baseUrl: URL });
    await runInitWith(FLAGS, tmp.dir, { aws, gitlab: gitlab.port, readExisting: true });
    expect(trustSubs()).toContain('project_path:ops/deploy');
    const { result } = await runInitWith({ ...FLAGS, subClaim: 'project-id', dryRun: true }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
      readExisting: true,
    });
    expect(result.plan.consents.map((c) => c.consent)).toEqual(['change-sub-claim']);
    expect(result.plan.broadening).toEqual([]);
    const plan = formatPlan(result, createPalette(0)).join('\n');
    expect(plan).toContain(
      'changes the sub of every ID token of project ops/deploy (project_path,ref_type,ref → project_id,ref_type,ref): roles trusting project_path:ops/deploy:… stop matching',
    );
    expect(plan).toContain('--sub-claim project-id (changes the sub of every ID token of the project):');
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('GitLab answering the PUT with 400: exit 2, nothing changed in IAM', async () => {
    const gitlab = createMemoryGitlab([project()], { baseUrl: URL });
    gitlab.failOn(
      'setSubClaimComponents',
      new MemoryGitlabError(
        400,
        'ci_id_token_sub_claim_components: project_path must be the first element of the sub claim',
      ),
    );
    const error = await runInitWith({ ...FLAGS, subClaim: 'project-id' }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
      readExisting: true,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.Usage);
    expect((error as UsageError).message).toMatch(
      /refused to set the sub claim components of project 314 to project_id,ref_type,ref: .*project_path must be the first element.*Nothing was changed/,
    );
    expect(aws.mutatingCalls()).toEqual([]);
    expect(gitlab.projects[0]?.subClaimComponents).toEqual(PATH_FORM);
  });

  it('an instance that does not report the setting (older than 17.10): exit 2 before any call', async () => {
    const gitlab = createMemoryGitlab([project({ subClaimComponents: undefined })], { baseUrl: URL });
    const error = await runInitWith({ ...FLAGS, subClaim: 'project-id' }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
      readExisting: true,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/does not report ci_id_token_sub_claim_components/);
    expect(aws.mutatingCalls()).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('IAM failing after the PUT: the report lists the GitLab change as done; the same command converges', async () => {
    const gitlab = createMemoryGitlab([project()], { baseUrl: URL });
    aws.failNext('CreateRole', 'ServiceFailure', 'boom');
    const error = await runInitWith({ ...FLAGS, subClaim: 'project-id' }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
      readExisting: true,
    }).catch((e: unknown) => e);
    expect((error as { done?: string[] }).done?.[0]).toMatch(/set the ID token sub claim/);
    expect(gitlab.projects[0]?.subClaimComponents).toEqual(ID_FORM);
    const { result } = await runInitWith({ ...FLAGS, subClaim: 'project-id' }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
      readExisting: true,
    });
    expect(result.status).toBe('applied');
    expect(result.gitlabSteps).toEqual([]);
    expect(trustSubs()).toContain('project_id:314:ref_type:branch:ref:main');
  });

  it('a project changed back by hand: the re-run keeps the role form and needs consent to put it back', async () => {
    const gitlab = createMemoryGitlab([project()], { baseUrl: URL });
    await runInitWith({ ...FLAGS, subClaim: 'project-id' }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
      readExisting: true,
    });
    (gitlab.projects[0] as MemoryProject).subClaimComponents = [...PATH_FORM];
    const error = await runInitWith(FLAGS, tmp.dir, { aws, gitlab: gitlab.port, readExisting: true }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConsentRequiredError);
    expect((error as ConsentRequiredError).items.map((i) => i.flag)).toEqual(['--sub-claim project-id']);
    expect(gitlab.mutatingCalls()).toEqual(['setSubClaimComponents']);
    // On a terminal it asks, and a "yes" puts it back.
    const { result } = await runInitWith({ ...FLAGS, yes: false }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
      readExisting: true,
      interactive: true,
      answers: { '--sub-claim': true, '--yes': true },
      wizard: { answers: {}, enterForUnscripted: true },
    });
    expect(result.status).toBe('applied');
    expect(gitlab.projects[0]?.subClaimComponents).toEqual(ID_FORM);
  });

  it('--sub-claim project-path goes back: the PUT, then the trust on the path', async () => {
    const gitlab = createMemoryGitlab([project()], { baseUrl: URL });
    await runInitWith({ ...FLAGS, subClaim: 'project-id' }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
      readExisting: true,
    });
    const { result } = await runInitWith({ ...FLAGS, subClaim: 'project-path' }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
      readExisting: true,
    });
    expect(result.status).toBe('applied');
    expect(gitlab.projects[0]?.subClaimComponents).toEqual(PATH_FORM);
    expect(trustSubs()).toContain('project_path:ops/deploy:ref_type:branch:ref:main');
  });

  it('bad input: an unknown form names the flag; --sub-claim without a token is refused before any call', async () => {
    const bad = await runInitWith({ ...FLAGS, subClaim: 'id' }, tmp.dir, { aws, readExisting: true }).catch(
      (e: unknown) => e,
    );
    expect(bad).toBeInstanceOf(UsageError);
    expect((bad as UsageError).issues[0]?.field).toBe('--sub-claim');
    const noToken = await runInitWith({ ...FLAGS, subClaim: 'project-id', projectId: '314' }, tmp.dir, {
      aws,
      readExisting: true,
    }).catch((e: unknown) => e);
    expect(noToken).toBeInstanceOf(UsageError);
    expect((noToken as UsageError).message).toMatch(/needs a GitLab token/);
    expect(aws.mutatingCalls()).toEqual([]);
  });
});
