/**
 * init --ci-variables / --merge-request against the loopback fake GitLab through the real client
 * (and the in-memory IAM): what is planned and applied, a re-run that makes no mutating GitLab call,
 * a stop at each mutating call that a re-run finishes, a merged or moved branch, and no local file.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RawInitFlags } from '../../src/commands/init.js';
import { SETUP_BRANCH } from '../../src/delivery/merge-request.js';
import { PartialApplyError, UsageError } from '../../src/errors.js';
import { createGitlabClient } from '../../src/gitlab/api/client.js';
import type { GitlabPort } from '../../src/gitlab/api/ports.js';
import { formatPlan, formatResult } from '../../src/init/format.js';
import { createPalette } from '../../src/io/colors.js';
import { ciYamlToJs } from '../../src/render/ci-yaml.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, type FakeProject, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { BASE_FLAGS, runInitWith, tempDir } from './helpers.js';

const PATH = 'acme/platform/web';
const USER = '# team pipeline\r\nbuild:\r\n  script: [make]   # keep\r\n';
const TOKEN = 'glpat-delivery-maintainer';

let fake: FakeGitlab;
let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;
let project: FakeProject;

beforeAll(async () => {
  fake = await startFakeGitlab();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  project = fake.addProject(PATH, { files: { '.gitlab-ci.yml': `\uFEFF${USER}` } });
  fake.protectBranch(project, 'main');
  fake.addToken(TOKEN, { scopes: ['api'], access: { [PATH]: 'maintainer' } });
  aws = createFakeAws({ account: '111122223333' });
  tmp = tempDir();
});
afterEach(() => {
  aws.restore();
  tmp.cleanup();
});

const client = (): GitlabPort =>
  createGitlabClient({ baseUrl: fake.url, token: TOKEN, ca: fake.caPem, maxRetries: 0 });

const DELIVER = { ...BASE_FLAGS, mergeRequest: true, ciVariables: true };
const run = (flags: RawInitFlags = DELIVER, gitlab: GitlabPort = client()) =>
  runInitWith(flags, tmp.dir, { aws, gitlab });
const openMrs = () => project.mergeRequests.filter((m) => m.state === 'opened');

describe('init --merge-request --ci-variables', () => {
  it('sets the variables, commits the merged file to the setup branch and opens one MR; no local file', async () => {
    writeFileSync(join(tmp.dir, '.gitlab-ci.yml'), 'not: [valid'); // never read
    const { result } = await run();
    expect(result.status).toBe('applied');
    const roleArn = result.roleArn;
    expect(project.variables.map((v) => [v.key, v.value, v.protected, v.masked])).toEqual([
      ['AWS_OIDC_ROLE_ARN', roleArn, true, false],
      ['AWS_OIDC_REGION', 'eu-west-1', true, false],
    ]);
    expect(project.variables[0]!.description).toMatch(/^Managed by gitlab-aws-oidc/);
    const onBranch = fake.fileText(project, '.gitlab-ci.yml', SETUP_BRANCH)!;
    expect(onBranch.startsWith(`\uFEFF${USER}`)).toBe(true); // byte order mark, CRLF and comments kept
    const js = ciYamlToJs(onBranch) as Record<string, { variables?: Record<string, string> }>;
    expect(js['.aws-oidc']!.variables!.AWS_ROLE_ARN).toBe('$AWS_OIDC_ROLE_ARN');
    expect(onBranch).not.toContain('111122223333');
    expect(fake.fileText(project, '.gitlab-ci.yml', 'main')).toBe(`\uFEFF${USER}`);
    expect(openMrs()).toHaveLength(1);
    const mr = openMrs()[0]!;
    expect(mr).toMatchObject({ sourceBranch: SETUP_BRANCH, targetBranch: 'main' });
    expect(mr.description).toContain(roleArn);
    expect(mr.description).toContain('`AWS_OIDC_ROLE_ARN` and `AWS_OIDC_REGION`, protected');
    expect(result.mergeRequest).toMatchObject({
      iid: mr.iid,
      url: expect.stringContaining(`/merge_requests/${mr.iid}`),
    });
    expect(result.nextSteps.join('\n')).toContain(`Review and merge !${mr.iid} ${result.mergeRequest!.url}`);
    expect(formatResult(result, createPalette(0)).join('\n')).toContain(
      `Merge request   ${result.mergeRequest!.url}`,
    );
    expect(JSON.parse(JSON.stringify(result)).mergeRequest.url).toBe(result.mergeRequest!.url);
    // The local file is as it was, and nothing else was written.
    expect(readdirSync(tmp.dir)).toEqual(['.gitlab-ci.yml']);
    expect(fake.mutatingCalls().map((c) => c.route)).toEqual([
      'POST /projects/:id/variables',
      'POST /projects/:id/variables',
      'POST /projects/:id/repository/commits',
      'POST /projects/:id/merge_requests',
    ]);
  });

  it('a re-run with nothing new makes no mutating GitLab call and reuses the open MR', async () => {
    await run();
    fake.clearCalls();
    const { result } = await run();
    expect(result.status).toBe('no-changes');
    expect(fake.mutatingCalls()).toEqual([]);
    expect(result.mergeRequest?.url).toContain('/merge_requests/');
    expect(openMrs()).toHaveLength(1);
  });

  it('a new ref: variables no longer protected (release/* is not), one commit on the branch, the MR updated', async () => {
    await run();
    fake.clearCalls();
    const { result } = await run({ ...DELIVER, branch: ['main', 'release/*'], allowWidening: true });
    expect(result.status).toBe('applied');
    expect(project.variables.every((v) => !v.protected)).toBe(true);
    expect(result.ciVariables?.protection).toMatch(/not protected: branch release\/\* is not protected/);
    expect(fake.mutatingCalls().map((c) => c.route)).toEqual([
      'PUT /projects/:id/variables/:key',
      'PUT /projects/:id/variables/:key',
      'POST /projects/:id/repository/commits',
      'PUT /projects/:id/merge_requests/:iid',
    ]);
    expect(openMrs()).toHaveLength(1);
    expect(openMrs()[0]!.description).toContain('release/*');
  });

  it('the MR was merged: nothing to do; a later change resets the leftover branch and opens a new MR', async () => {
    await run();
    const branch = project.branches.get(SETUP_BRANCH)!;
    project.branches.get('main')!.files = new Map(branch.files);
    openMrs()[0]!.state = 'merged';
    fake.clearCalls();
    expect((await run()).result.status).toBe('no-changes');
    expect(fake.mutatingCalls()).toEqual([]);
    await run({ ...DELIVER, branch: ['main', 'develop'], allowWidening: true });
    const commit = fake.calls.find((c) => c.route === 'POST /projects/:id/repository/commits');
    expect(commit).toBeDefined();
    expect(openMrs()).toHaveLength(1);
    expect(fake.fileText(project, '.gitlab-ci.yml', SETUP_BRANCH)).toContain('develop');
  });

  it.each([1, 2, 3, 4])(
    'a stop at mutating GitLab call %i: done / not done reported; the re-run finishes and a third changes nothing',
    async (nth) => {
      const routes = [
        ['POST', '/projects/:id/variables', 1],
        ['POST', '/projects/:id/variables', 2],
        ['POST', '/projects/:id/repository/commits', 1],
        ['POST', '/projects/:id/merge_requests', 1],
      ] as const;
      const [method, path, n] = routes[nth - 1]!;
      fake.fault({ method, path, nth: n, status: 403 });
      const error = await run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PartialApplyError);
      expect((error as PartialApplyError).notDone.length).toBeGreaterThan(0);
      expect(fake.mutatingCalls().filter((c) => c.status < 300)).toHaveLength(nth - 1);
      fake.clearFaults();
      expect((await run()).result.status).toBe('applied');
      fake.clearCalls();
      expect((await run()).result.status).toBe('no-changes');
      expect(fake.mutatingCalls()).toEqual([]);
      expect(openMrs()).toHaveLength(1);
      expect(project.variables).toHaveLength(2);
    },
  );

  it('a variable of the same key set by hand is replaced only with --overwrite-drift', async () => {
    fake.addProjectVariable(project, 'AWS_OIDC_ROLE_ARN', { value: 'arn:aws:iam::999999999999:role/x' });
    const refused = await run().catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'CONSENT_REQUIRED' });
    expect(fake.mutatingCalls()).toEqual([]);
    const { result } = await run({ ...DELIVER, overwriteDrift: true });
    expect(result.status).toBe('applied');
    expect(project.variables.find((v) => v.key === 'AWS_OIDC_ROLE_ARN')?.value).toBe(result.roleArn);
  });

  it('--dry-run reads GitLab and plans, changes nothing, and shows the plan', async () => {
    const { result } = await run({ ...DELIVER, dryRun: true });
    expect(result.status).toBe('planned');
    expect(fake.mutatingCalls()).toEqual([]);
    const text = formatPlan(result, createPalette(0)).join('\n');
    expect(text).toContain('through a commit to gitlab-aws-oidc/setup, a new merge request into main');
    expect(text).toContain('CI/CD variables AWS_OIDC_ROLE_ARN, AWS_OIDC_REGION: protected');
  });

  it('without a token: a usage error naming the flag, before any AWS call or GitLab change', async () => {
    const anonymous = createGitlabClient({ baseUrl: fake.url, ca: fake.caPem, maxRetries: 0 });
    // A public project is looked up anonymously, but changing it needs a token.
    project.visibility = 'public';
    const error = await run(DELIVER, anonymous).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).issues[0]?.field).toBe('--merge-request');
    expect((error as UsageError).hint).toMatch(/GITLAB_TOKEN.*api scope/);
    expect(fake.mutatingCalls()).toEqual([]);
    expect(aws.calls()).toEqual([]);
  });

  it('--ci-variables alone: the local file reads the variables, a re-run changes nothing, a second role gets its own keys', async () => {
    const flags = { ...BASE_FLAGS, ciVariables: true };
    const { result } = await run(flags);
    expect(result.status).toBe('applied');
    const local = readFileSync(join(tmp.dir, '.gitlab-ci.yml'), 'utf8');
    expect(local).toContain("AWS_ROLE_ARN: '$AWS_OIDC_ROLE_ARN'");
    expect(local).not.toContain(result.roleArn);
    expect(project.mergeRequests).toEqual([]);
    fake.clearCalls();
    expect((await run(flags)).result.status).toBe('no-changes');
    expect(fake.mutatingCalls()).toEqual([]);
    // Another role of the same project: its hidden job and its variables are its own.
    const dev = await run({ ...flags, roleName: 'web-dev', policyName: 'web-dev' });
    expect(dev.result.ciFile?.jobs?.hidden).toBe('.aws-oidc-web-dev');
    expect(project.variables.map((v) => v.key)).toEqual([
      'AWS_OIDC_ROLE_ARN',
      'AWS_OIDC_REGION',
      'AWS_OIDC_ROLE_ARN_WEB_DEV',
      'AWS_OIDC_REGION_WEB_DEV',
    ]);
    expect(project.variables.find((v) => v.key === 'AWS_OIDC_ROLE_ARN')?.value).toBe(result.roleArn);
  });
});
