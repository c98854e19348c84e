import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  AbortError,
  AwsError,
  CliError,
  CredentialsError,
  PartialApplyError,
  UsageError,
} from '../../src/errors.js';
import { runInit } from '../../src/init/run.js';
import { createMemoryLogger } from '../../src/io/logger.js';
import { schemaAvailable, validateCi, warnIfSchemaMissing } from '../helpers/ci-schema.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { BASE_FLAGS, resolveFlags, runInitWith, tempDir, virtualClock } from './helpers.js';

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

const S3_FLAGS = { ...BASE_FLAGS, template: 's3-deploy', templateParam: ['bucket=acme-web-site'] };

describe('init against a fresh account', () => {
  it('creates the provider, the policy, the role and the pipeline', async () => {
    const { result } = await runInitWith(S3_FLAGS, tmp.dir, { aws });
    expect(result.status).toBe('applied');
    const mutating = aws.mutatingCalls();
    expect(mutating).toEqual(
      expect.arrayContaining([
        'CreateOpenIDConnectProvider',
        'CreatePolicy',
        'CreateRole',
        'AttachRolePolicy',
      ]),
    );
    // provider before role (the role's principal must exist), policy before attach
    expect(mutating.indexOf('CreateOpenIDConnectProvider')).toBeLessThan(mutating.indexOf('CreateRole'));
    expect(mutating.indexOf('CreatePolicy')).toBeLessThan(mutating.indexOf('AttachRolePolicy'));

    const providerArn = 'arn:aws:iam::111122223333:oidc-provider/gitlab.com';
    expect(result.providerArn).toBe(providerArn);
    const provider = aws.state.providers.get(providerArn);
    expect(provider?.clientIds).toEqual(['https://gitlab.com']);
    expect(provider?.thumbprints).toEqual([]);

    const role = aws.state.roles.get('gitlab-acme-platform-web');
    expect(role).toBeDefined();
    const trust = JSON.parse(decodeURIComponent(String(role!.trustPolicy)));
    const statement = Array.isArray(trust.Statement) ? trust.Statement[0] : trust.Statement;
    expect(statement.Principal.Federated).toBe(providerArn);
    expect(statement.Condition.StringEquals['gitlab.com:aud']).toBe('https://gitlab.com');
    expect(statement.Condition.StringEquals['gitlab.com:sub']).toBe(
      'project_path:acme/platform/web:ref_type:branch:ref:main',
    );
    expect(role!.tags['managed-by']).toBe('gitlab-aws-oidc');

    const ci = readFileSync(join(tmp.dir, '.gitlab-ci.yml'), 'utf8');
    expect(ci).toContain(result.roleArn);
    // The diff names the file as the user knows it, not `b//tmp/…`.
    expect(result.ciFile?.diff.split('\n').slice(0, 2)).toEqual(['--- /dev/null', '+++ b/.gitlab-ci.yml']);
    expect(ci).not.toMatch(/CI_JOB_JWT/);
    expect(result.ciFile?.written).toBe(true);
  });

  it('runs a second time with the same inputs as a no-op: zero mutating calls', async () => {
    await runInitWith(S3_FLAGS, tmp.dir, { aws });
    const before = aws.mutatingCalls().length;
    const { result } = await runInitWith(S3_FLAGS, tmp.dir, { aws });
    expect(result.status).toBe('no-changes');
    expect(result.plan.steps).toEqual([]);
    expect(aws.mutatingCalls().length).toBe(before);
  });

  it('changes nothing with --dry-run (reads only) and writes no file', async () => {
    const { result } = await runInitWith({ ...S3_FLAGS, dryRun: true, yes: false }, tmp.dir, { aws });
    expect(result.status).toBe('planned');
    expect(result.plan.hasChanges).toBe(true);
    expect(aws.mutatingCalls()).toEqual([]);
    expect(aws.calls().map((c) => c.command)).toContain('GetCallerIdentity');
    expect(existsSync(join(tmp.dir, '.gitlab-ci.yml'))).toBe(false);
  });

  it('makes no AWS call at all with --dry-run --offline', async () => {
    const { result } = await runInitWith(
      { ...S3_FLAGS, dryRun: true, offline: true, accountId: '444455556666' },
      tmp.dir,
      {
        aws,
      },
    );
    expect(aws.calls()).toEqual([]);
    expect(result.roleArn).toBe('arn:aws:iam::444455556666:role/gitlab-oidc/gitlab-acme-platform-web');
    expect(result.plan.resources.map((r) => r.action)).toEqual(['create', 'create', 'create']);
  });

  it('takes partition and account from STS, never assuming arn:aws', async () => {
    aws.restore();
    aws = createFakeAws({ account: '210987654321', partition: 'aws-cn' });
    const { result } = await runInitWith({ ...BASE_FLAGS, region: 'cn-north-1' }, tmp.dir, { aws });
    expect(result.roleArn).toMatch(/^arn:aws-cn:iam::210987654321:role\//);
    expect(result.providerArn).toBe('arn:aws-cn:iam::210987654321:oidc-provider/gitlab.com');
  });

  it('retries CreateRole while the new provider is still propagating', async () => {
    aws.restore();
    aws = createFakeAws({ propagationDelayCalls: 3 });
    const { result } = await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    expect(result.status).toBe('applied');
    expect(aws.mutatingCalls().filter((c) => c === 'CreateRole').length).toBeGreaterThan(1);
  });
});

describe('init against existing state', () => {
  it('adopts a provider with other audiences and only adds the missing one', async () => {
    const arn = aws.addProvider({ url: 'https://gitlab.com', clientIds: ['sts.amazonaws.com', 'other-aud'] });
    // A new audience on a shared provider is a widening: refused without its flag, before any change.
    await expect(runInitWith(BASE_FLAGS, tmp.dir, { aws })).rejects.toMatchObject({
      code: 'CONSENT_REQUIRED',
      exitCode: 2,
    });
    expect(aws.mutatingCalls()).toEqual([]);
    const { result } = await runInitWith({ ...BASE_FLAGS, allowWidening: true }, tmp.dir, { aws });
    expect(result.status).toBe('applied');
    expect(aws.mutatingCalls()).not.toContain('CreateOpenIDConnectProvider');
    expect(aws.mutatingCalls()).toContain('AddClientIDToOpenIDConnectProvider');
    expect(aws.state.providers.get(arn)?.clientIds).toEqual([
      'sts.amazonaws.com',
      'other-aud',
      'https://gitlab.com',
    ]);
  });

  it('repairs a drifted trust policy on a role it manages and flags the broadening', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    const { result } = await runInitWith(
      { ...BASE_FLAGS, branch: ['main', 'release/*'], allowWidening: true },
      tmp.dir,
      { aws },
    );
    const role = result.plan.resources.find((r) => r.kind === 'role');
    expect(role?.action).toBe('update');
    expect(role?.changes.find((c) => c.field === 'trustPolicy')?.broadening).toBe(true);
    expect(aws.mutatingCalls()).toContain('UpdateAssumeRolePolicy');
    expect(result.trustPolicyDiff.some((l) => l.startsWith('+') && l.includes('release/*'))).toBe(true);
    expect(result.trustPolicyDiff.join('\n')).toContain('sts:AssumeRoleWithWebIdentity');
  });

  it('refuses to take over a role it did not create, before any change', async () => {
    aws.addRole({
      name: 'gitlab-acme-platform-web',
      path: '/gitlab-oidc/',
      trustPolicy: { Version: '2012-10-17', Statement: [] },
    });
    // A default-name collision is bad input (choose another name): exit 2, like a usage error.
    await expect(runInitWith(BASE_FLAGS, tmp.dir, { aws })).rejects.toMatchObject({
      code: 'NOT_MANAGED',
      exitCode: 2,
    });
    expect(aws.mutatingCalls()).toEqual([]);
  });

  it('refuses to overwrite a pipeline job it did not write, before touching AWS', async () => {
    writeFileSync(join(tmp.dir, '.gitlab-ci.yml'), 'aws-oidc-check:\n  script: [echo mine]\n');
    const error = await runInitWith(BASE_FLAGS, tmp.dir, { aws }).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(String(error.hint ?? '') + error.message).toMatch(/--force/);
    expect(aws.calls()).toEqual([]);
    expect(readFileSync(join(tmp.dir, '.gitlab-ci.yml'), 'utf8')).toBe(
      'aws-oidc-check:\n  script: [echo mine]\n',
    );
  });
});

describe('init modes and refusals', () => {
  it('needs --yes to apply without a terminal, and says so before any AWS call', async () => {
    const error = await runInitWith({ ...BASE_FLAGS, yes: false }, tmp.dir, { aws }).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.issues[0].field).toBe('--yes');
    expect(aws.calls()).toEqual([]);
  });

  it('asks for confirmation interactively and changes nothing on "no"', async () => {
    const error = await runInitWith({ ...BASE_FLAGS, yes: false }, tmp.dir, {
      aws,
      interactive: true,
      answers: { '--yes': false },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.exitCode).toBe(130);
    expect(aws.mutatingCalls()).toEqual([]);
    expect(existsSync(join(tmp.dir, '.gitlab-ci.yml'))).toBe(false);
  });

  it('stops before applying when Ctrl-C arrived during the confirmation', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await runInitWith(BASE_FLAGS, tmp.dir, { aws, signal: controller.signal }).catch((e) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(aws.mutatingCalls()).toEqual([]);
  });

  it('reports missing credentials clearly', async () => {
    aws.restore();
    aws = createFakeAws({ noCredentials: true });
    const error = await runInitWith(BASE_FLAGS, tmp.dir, { aws }).catch((e) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error.hint).toMatch(/--offline/);
  });
});

describe('AWS errors surface with their code and request ID, and a re-run converges', () => {
  const cases = [
    ['CreateRole', 'AccessDenied'],
    ['CreateRole', 'LimitExceeded'],
    ['CreateOpenIDConnectProvider', 'EntityAlreadyExists'],
    ['CreatePolicy', 'MalformedPolicyDocument'],
    ['CreateRole', 'Throttling'],
  ] as const;
  it.each(cases)('%s fails with %s', async (command, code) => {
    aws.failNext(command, code, `simulated ${code}`);
    const error = await runInitWith(S3_FLAGS, tmp.dir, { aws }).catch((e) => e);
    expect(error).toBeInstanceOf(CliError);
    const cause = error instanceof PartialApplyError ? error.cause : error;
    expect(cause).toBeInstanceOf(AwsError);
    expect((cause as AwsError).awsCode).toBe(code);
    expect((cause as AwsError).operation).toContain(command);
    expect((cause as AwsError).requestId).toBeTruthy();
    if (error instanceof PartialApplyError) expect(error.notDone.length).toBeGreaterThan(0);
    // the pipeline is only written once IAM is done
    expect(existsSync(join(tmp.dir, '.gitlab-ci.yml'))).toBe(false);

    const { result } = await runInitWith(S3_FLAGS, tmp.dir, { aws });
    expect(result.status).toBe('applied');
    const again = await runInitWith(S3_FLAGS, tmp.dir, { aws });
    expect(again.result.status).toBe('no-changes');
  });
});

it('says what IAM did when the pipeline write fails afterwards (file edited during the confirmation)', async () => {
  const file = join(tmp.dir, '.gitlab-ci.yml');
  writeFileSync(file, 'build:\n  script: [make]\n');
  const options = await resolveFlags({ ...BASE_FLAGS, project: 'acme/edited' }, tmp.dir);
  const error = await runInit(options, {
    logger: createMemoryLogger(),
    interactive: false,
    aws: async () => aws.ports,
    resolveThumbprints: async () => ({ thumbprints: [], source: 'not-needed', details: [], warnings: [] }),
    retry: virtualClock(),
    // Between planning and applying, the user saves the file in an editor.
    showPlan: () => writeFileSync(file, 'build:\n  script: [make, test]\n'),
  }).catch((e) => e);
  expect(error).toBeInstanceOf(PartialApplyError);
  expect(error.exitCode).toBe(1);
  expect(error.done).toEqual(expect.arrayContaining(['create role /gitlab-oidc/gitlab-acme-edited']));
  expect(error.notDone).toEqual([`write ${file}`]);
  expect(error.message).toMatch(/changed since it was read/);
  expect(readFileSync(file, 'utf8')).toBe('build:\n  script: [make, test]\n');
});

it('retries a passing ConcurrentModification and completes', async () => {
  aws.failNext('AttachRolePolicy', 'ConcurrentModification', 'simulated', { times: 2 });
  const { result } = await runInitWith(S3_FLAGS, tmp.dir, { aws });
  expect(result.status).toBe('applied');
  expect(aws.mutatingCalls().filter((c) => c === 'AttachRolePolicy')).toHaveLength(3);
});

describe.skipIf(!schemaAvailable)('generated pipelines validate against GitLab’s schema', () => {
  it('fresh file', async () => {
    const verifyImage = `registry.example.com/tools/gitlab-aws-oidc@sha256:${'ab'.repeat(32)}`;
    const flags = { ...S3_FLAGS, branch: ['main', 'release/*'], tag: ['v*'], verifyJob: true, verifyImage };
    await runInitWith(flags, tmp.dir, { aws });
    const doc = parse(readFileSync(join(tmp.dir, '.gitlab-ci.yml'), 'utf8'));
    expect(validateCi(doc)).toEqual([]);
    expect(Object.keys(doc)).toEqual(
      expect.arrayContaining(['.aws-oidc', 'aws-oidc-check', 'aws-oidc-verify']),
    );
  });

  it('merged into an existing pipeline, keeping its comments and jobs', async () => {
    const existing =
      '# our pipeline\nstages: [build, test]\n\nbuild:\n  stage: build\n  script: [make] # keep me\n';
    writeFileSync(join(tmp.dir, '.gitlab-ci.yml'), existing);
    const { result } = await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    const text = readFileSync(join(tmp.dir, '.gitlab-ci.yml'), 'utf8');
    expect(text.startsWith('# our pipeline\n')).toBe(true);
    expect(text).toContain('script: [make] # keep me');
    expect(validateCi(parse(text))).toEqual([]);
    expect(result.ciFile?.backupPath).toBeTruthy();
    expect(readFileSync(result.ciFile!.backupPath!, 'utf8')).toBe(existing);
  });
});
warnIfSchemaMissing();
