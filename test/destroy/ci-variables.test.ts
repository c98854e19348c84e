/**
 * destroy and the CI/CD variables init --ci-variables set: init (real resolver, in-memory IAM, the
 * loopback fake GitLab through the real client), then destroy: the variables of the destroyed role go
 * after IAM, a foreign variable and one naming another role are kept, the pipeline job that reads
 * `$AWS_OIDC_ROLE_ARN` is removed, a re-run changes nothing, a GitLab 403 on delete is reported with the
 * way to finish, and a re-run after IAM went deletes only what is left in GitLab.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatDestroyCiVariables } from '../../src/destroy/format.js';
import { parseDestroyFlags, type RawDestroyFlags } from '../../src/destroy/options.js';
import { type DestroyDeps, runDestroy } from '../../src/destroy/run.js';
import { CliError, PartialApplyError } from '../../src/errors.js';
import { createGitlabClient } from '../../src/gitlab/api/client.js';
import type { GitlabPort } from '../../src/gitlab/api/ports.js';
import { createPalette } from '../../src/io/colors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, type FakeProject, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { BASE_FLAGS, runInitWith, tempDir } from '../init/helpers.js';

const PATH = 'acme/platform/web';
const TOKEN = 'glpat-destroy-maintainer';
const INIT = { ...BASE_FLAGS, ciVariables: true };

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
  project = fake.addProject(PATH);
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
const init = (flags = INIT) => runInitWith(flags, tmp.dir, { aws, gitlab: client() });
const deps = (gitlab: DestroyDeps['gitlab'] = () => client()): DestroyDeps => ({
  aws: () => aws.ports,
  gitlab,
});
const destroy = (flags: RawDestroyFlags = { project: PATH }, d: DestroyDeps = deps()) =>
  runDestroy(parseDestroyFlags({ yes: true, ...flags }, { cwd: tmp.dir }), d);
const keys = () => project.variables.map((v) => v.key);
const ciFile = () => join(tmp.dir, '.gitlab-ci.yml');

describe('destroy after init --ci-variables', () => {
  it('deletes the variables and the $AWS_OIDC_ROLE_ARN jobs after IAM; keeps a foreign variable; a re-run changes nothing', async () => {
    const { result: created } = await init();
    expect(keys()).toEqual(['AWS_OIDC_ROLE_ARN', 'AWS_OIDC_REGION']);
    expect(readFileSync(ciFile(), 'utf8')).toContain("AWS_ROLE_ARN: '$AWS_OIDC_ROLE_ARN'");
    // Set by hand, same namespace, naming the same role: not the tool's, never touched.
    fake.addProjectVariable(project, 'AWS_OIDC_ROLE_ARN_HAND', { value: created.roleArn });
    fake.clearCalls();

    const dry = await destroy({ project: PATH, dryRun: true });
    expect(fake.mutatingCalls()).toEqual([]);
    expect(dry.ciVariables).toMatchObject({ checked: true, project: PATH });
    expect(dry.ciVariables.variables).toEqual([
      {
        key: 'AWS_OIDC_ROLE_ARN',
        environmentScope: '*',
        value: created.roleArn,
        action: 'delete',
        reason: expect.stringContaining('deleted by this run'),
      },
      {
        key: 'AWS_OIDC_REGION',
        environmentScope: '*',
        value: 'eu-west-1',
        action: 'delete',
        reason: 'goes with AWS_OIDC_ROLE_ARN',
      },
      {
        key: 'AWS_OIDC_ROLE_ARN_HAND',
        environmentScope: '*',
        value: created.roleArn,
        action: 'keep',
        reason: 'not set by gitlab-aws-oidc',
      },
    ]);
    // Region first: a run stopped between the two leaves the ARN, which still tells whose they were.
    expect(dry.ciVariables.steps).toEqual([
      `delete CI/CD variable AWS_OIDC_REGION of GitLab project ${PATH}`,
      `delete CI/CD variable AWS_OIDC_ROLE_ARN of GitLab project ${PATH}`,
    ]);
    expect(dry.ciFile).toMatchObject({ action: 'delete', jobs: ['.aws-oidc', 'aws-oidc-check'] });
    const shown = formatDestroyCiVariables(dry.ciVariables, createPalette(0)).join('\n');
    expect(shown).toContain(`- delete  AWS_OIDC_ROLE_ARN = ${created.roleArn}`);
    expect(shown).toContain(
      `= keep    AWS_OIDC_ROLE_ARN_HAND = ${created.roleArn} (not set by gitlab-aws-oidc)`,
    );
    expect(JSON.parse(JSON.stringify(dry)).ciVariables.variables[0].value).toBe(created.roleArn);

    const order: string[] = [];
    const done = await destroy(
      { project: PATH },
      {
        ...deps(),
        onEvent: (e) => e.state === 'done' && order.push(e.step.kind),
        onCiFile: () => order.push('ciFile'),
        onVariable: () => order.push('variable'),
      },
    );
    expect(order.at(-3)).toBe('ciFile');
    expect(order.slice(-2)).toEqual(['variable', 'variable']);
    expect(order.indexOf('deleteRole')).toBeLessThan(order.indexOf('variable'));
    expect(keys()).toEqual(['AWS_OIDC_ROLE_ARN_HAND']);
    expect(existsSync(ciFile())).toBe(false);
    expect(await aws.ports.iam.getRole(created.roleArn.split('/').pop()!)).toBeUndefined();
    expect(done.summary).toContain(`deleted 2 CI/CD variables of ${PATH}`);
    expect(fake.mutatingCalls().map((c) => c.route)).toEqual([
      'DELETE /projects/:id/variables/:key',
      'DELETE /projects/:id/variables/:key',
    ]);

    fake.clearCalls();
    const again = await destroy();
    expect(again.changed).toBe(false);
    expect(fake.mutatingCalls()).toEqual([]);
    expect(again.ciVariables.variables).toEqual([]);
  });

  it('--role: only that role’s variables and jobs; a variable whose value now names another role is kept', async () => {
    const { result: web } = await init();
    const { result: dev } = await init({ ...INIT, roleName: 'web-dev', policyName: 'web-dev' });
    expect(keys()).toEqual([
      'AWS_OIDC_ROLE_ARN',
      'AWS_OIDC_REGION',
      'AWS_OIDC_ROLE_ARN_WEB_DEV',
      'AWS_OIDC_REGION_WEB_DEV',
    ]);
    const result = await destroy({ role: 'web-dev' });
    expect(keys()).toEqual(['AWS_OIDC_ROLE_ARN', 'AWS_OIDC_REGION']);
    expect(result.ciVariables.variables.filter((v) => v.action === 'keep')).toEqual([
      expect.objectContaining({ key: 'AWS_OIDC_ROLE_ARN', value: web.roleArn }),
      expect.objectContaining({
        key: 'AWS_OIDC_REGION',
        reason: 'goes with AWS_OIDC_ROLE_ARN, which is kept',
      }),
    ]);
    const left = readFileSync(ciFile(), 'utf8');
    expect(left).toContain('.aws-oidc:');
    expect(left).not.toContain('.aws-oidc-web-dev');
    expect(dev.roleArn).toContain('web-dev');

    // The tool's key now names a role this run does not delete (init pointed it elsewhere): kept.
    const other = project.variables.find((v) => v.key === 'AWS_OIDC_ROLE_ARN')!;
    other.value = 'arn:aws:iam::111122223333:role/somebody-else';
    const webName = web.roleArn.split('/').pop()!;
    const next = await destroy({ role: webName, ciFile: false });
    expect(keys()).toEqual(['AWS_OIDC_ROLE_ARN', 'AWS_OIDC_REGION']);
    expect(next.ciVariables.variables[0]).toMatchObject({
      action: 'keep',
      reason: 'names role somebody-else, which this run does not delete',
    });
  });

  it('a GitLab 403 on delete: IAM and the file are done, the rest reported with the way to finish; the re-run (IAM gone) deletes only the variables', async () => {
    await init();
    fake.fault({ method: 'DELETE', path: '/projects/:id/variables/:key', nth: 2, status: 403 });
    const error = await destroy().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartialApplyError);
    const partial = error as PartialApplyError;
    expect(partial.message).toContain('403');
    expect(partial.done.at(-1)).toBe(`delete CI/CD variable AWS_OIDC_REGION of GitLab project ${PATH}`);
    expect(partial.notDone).toEqual([`delete CI/CD variable AWS_OIDC_ROLE_ARN of GitLab project ${PATH}`]);
    expect(partial.hint).toContain(`destroy --project ${PATH}`);
    expect(partial.done.some((d) => d.startsWith('delete role'))).toBe(true);
    expect(existsSync(ciFile())).toBe(false);
    expect(keys()).toEqual(['AWS_OIDC_ROLE_ARN']);

    fake.clearCalls();
    const again = await destroy();
    expect(again.plan.steps).toEqual([]);
    expect(again.ciVariables.variables).toEqual([
      expect.objectContaining({
        key: 'AWS_OIDC_ROLE_ARN',
        action: 'delete',
        reason: expect.stringContaining('no longer exists in account 111122223333'),
      }),
    ]);
    expect(again.summary).toBe(
      `Nothing of project ${PATH} left in IAM; deleted 1 CI/CD variable of ${PATH}.`,
    );
    expect(keys()).toEqual([]);
    expect(fake.mutatingCalls()).toHaveLength(1);
  });

  it('--role and a GitLab 403: the error names the variables left and where to delete them (a re-run cannot find the project)', async () => {
    const { result } = await init();
    const roleName = result.roleArn.split('/').pop()!;
    fake.fault({ method: 'DELETE', path: '/projects/:id/variables/:key', status: 403, times: Infinity });
    const error = (await destroy({ role: roleName, ciFile: false }).catch(
      (e: unknown) => e,
    )) as PartialApplyError;
    expect(error).toBeInstanceOf(PartialApplyError);
    expect(error.notDone).toEqual([
      `delete CI/CD variable AWS_OIDC_REGION of GitLab project ${PATH}`,
      `delete CI/CD variable AWS_OIDC_ROLE_ARN of GitLab project ${PATH}`,
    ]);
    expect(error.hint).toBe(
      `IAM is done and role ${roleName} is gone, so a re-run cannot tell its GitLab project any more: fix the cause, then delete the variables listed as not done in Settings > CI/CD > Variables of ${PATH}.`,
    );
    expect(JSON.parse(JSON.stringify(error)).notDone).toHaveLength(2);
  });

  it('GitLab refuses to list the variables (403): nothing is changed, and --offline is named as the way round', async () => {
    const { result } = await init();
    fake.fault({ method: 'GET', path: '/projects/:id/variables', status: 403 });
    const mutating = aws.mutatingCalls().length;
    const error = (await destroy().catch((e: unknown) => e)) as CliError;
    expect(error).toBeInstanceOf(CliError);
    expect(error.code).toBe('GITLAB_VARIABLES_UNREAD');
    expect(error.message).toContain('nothing was changed');
    expect(error.hint).toContain('--offline');
    expect(aws.mutatingCalls()).toHaveLength(mutating);
    expect(await aws.ports.iam.getRole(result.roleArn.split('/').pop()!)).toBeDefined();
  });

  it('a region variable left without its role ARN variable goes with the role its description names, also once IAM is gone', async () => {
    const { result } = await init();
    const roleName = result.roleArn.split('/').pop()!;
    const dropArn = () =>
      project.variables.splice(
        project.variables.findIndex((v) => v.key === 'AWS_OIDC_ROLE_ARN'),
        1,
      );
    dropArn();
    const first = await destroy({ project: PATH, ciFile: false });
    expect(first.ciVariables.variables).toEqual([
      expect.objectContaining({
        key: 'AWS_OIDC_REGION',
        action: 'delete',
        reason: `set for role ${roleName}, deleted by this run (its role ARN variable is gone)`,
      }),
    ]);
    expect(keys()).toEqual([]);

    // IAM already gone (destroyed --offline), then the ARN variable removed by hand.
    await init();
    await destroy({ project: PATH, ciFile: false, offline: true });
    expect(await aws.ports.iam.getRole(roleName)).toBeUndefined();
    dropArn();
    expect(keys()).toEqual(['AWS_OIDC_REGION']);
    const byRole = await destroy({ role: roleName, ciFile: false });
    // --role with the role gone: its GitLab project is not known any more.
    expect(byRole.ciVariables).toMatchObject({ checked: false });
    expect(byRole.ciVariables.reason).toContain(`role ${roleName} no longer exists`);
    const byProject = await destroy({ project: PATH, ciFile: false });
    expect(byProject.ciVariables.variables).toEqual([
      expect.objectContaining({
        key: 'AWS_OIDC_REGION',
        action: 'delete',
        reason: expect.stringContaining('which no longer exists in account 111122223333'),
      }),
    ]);
    expect(keys()).toEqual([]);
  });

  it('without a token or with --offline: nothing read, the plan says the variables were not checked and how; the job that reads one is left alone', async () => {
    await init();
    fake.clearCalls();
    const noToken = await destroy(
      { project: PATH, dryRun: true },
      deps(() => undefined),
    );
    expect(noToken.ciVariables).toMatchObject({
      checked: false,
      reason: 'no GitLab token for https://gitlab.com',
    });
    expect(noToken.ciVariables.hint).toMatch(/GITLAB_TOKEN.*--gitlab-token-env.*Maintainer.*api scope/);
    expect(noToken.ciFile).toMatchObject({ action: 'skipped' });
    expect(noToken.ciFile?.reason).toContain('AWS_OIDC_ROLE_ARN, which was not checked (no GitLab token');
    let asked = false;
    const offline = await destroy(
      { project: PATH, dryRun: true, offline: true },
      deps(() => {
        asked = true;
        return client();
      }),
    );
    expect(asked).toBe(false);
    expect(offline.ciVariables).toMatchObject({ checked: false, reason: '--offline' });
    expect(formatDestroyCiVariables(offline.ciVariables, createPalette(0)).join('\n')).toContain(
      'CI/CD variables: not checked (--offline). Run without --offline',
    );
    expect(fake.calls).toEqual([]);
    expect(keys()).toEqual(['AWS_OIDC_ROLE_ARN', 'AWS_OIDC_REGION']);
  });
});
