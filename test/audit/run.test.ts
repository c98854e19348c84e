import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAuditFlags } from '../../src/audit/options.js';
import { auditDocument, gateFailure } from '../../src/audit/report.js';
import { runAudit } from '../../src/audit/run.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { AbortError, CliError, UsageError } from '../../src/errors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixturePath = (f: string) => join(here, '..', 'fixtures', 'trust-policies', f);
const fixture = (f: string) => JSON.parse(readFileSync(fixturePath(f), 'utf8')) as PolicyDocument;

const trust = (
  providerArn: string,
  condition: Record<string, Record<string, string | string[]>>,
): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: providerArn },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: condition,
    },
  ],
});
const TOOL_TAGS = { 'managed-by': 'gitlab-aws-oidc', 'gitlab-aws-oidc:gitlab-url': 'https://gitlab.com' };

let fake: FakeAws;
beforeEach(() => {
  fake = createFakeAws({ pageSize: 2 });
});
afterEach(() => fake.restore());

function seedAccount() {
  const gl = fake.addProvider({
    url: 'https://gitlab.com',
    clientIds: ['https://gitlab.com'],
    tags: TOOL_TAGS,
  });
  const sm = fake.addProvider({ url: 'https://git.corp.example', clientIds: ['https://git.corp.example'] });
  const gh = fake.addProvider({
    url: 'https://token.actions.githubusercontent.com',
    clientIds: ['sts.amazonaws.com'],
  });
  const unused = fake.addProvider({ url: 'https://gitlab.unused.example', clientIds: ['x'] });
  const admin = fake.addPolicy({
    name: 'AdministratorAccess',
    awsManaged: true,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  });
  const deploy = fake.addPolicy({
    name: 'deploy',
    document: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::site/*' }],
    },
  });
  fake.addRole({
    name: 'good',
    trustPolicy: trust(gl, {
      StringEquals: {
        'gitlab.com:aud': 'https://gitlab.com',
        'gitlab.com:sub': 'project_path:acme/web:ref_type:branch:ref:main',
        'gitlab.com:project_id': '42',
        'gitlab.com:ref_protected': 'true',
      },
    }),
    tags: { ...TOOL_TAGS, 'gitlab-aws-oidc:project': 'acme/web' },
    attachedPolicyArns: [deploy],
  });
  fake.addRole({
    name: 'wide-open',
    trustPolicy: trust(sm, { StringLike: { 'git.corp.example:sub': 'project_path:*' } }),
    attachedPolicyArns: [admin],
    maxSessionDuration: 43200,
  });
  fake.addRole({
    name: 'also-admin',
    trustPolicy: trust(gl, {
      StringEquals: {
        'gitlab.com:aud': 'https://gitlab.com',
        'gitlab.com:project_id': '42',
        'gitlab.com:ref_protected': 'true',
      },
      'ForAllValues:StringLike': { 'gitlab.com:sub': 'project_path:acme/web:ref_type:branch:ref:*' },
    }),
    attachedPolicyArns: [admin],
  });
  fake.addRole({
    name: 'github',
    trustPolicy: trust(gh, {
      StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
    }),
  });
  fake.addRole({
    name: 'ec2-instance',
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    },
    attachedPolicyArns: [admin],
  });
  return { gl, sm, gh, unused, admin, deploy };
}

const opts = (over: Partial<ReturnType<typeof parseAuditFlags>> = {}) => ({
  ...parseAuditFlags({}),
  ...over,
});

describe('runAudit (account)', () => {
  it('lists providers GitLab first, audits only federated roles, and lints trust, permissions and sessions', async () => {
    const { gl, sm, gh, unused } = seedAccount();
    const report = await runAudit(opts(), { aws: () => fake.ports });
    expect(report.scope).toBe('account');
    expect(report.account).toBe('123456789012');
    expect(report.providers.map((p) => [p.url, p.gitlab])).toEqual([
      ['git.corp.example', true],
      ['gitlab.com', true],
      ['gitlab.unused.example', true],
      ['token.actions.githubusercontent.com', false],
    ]);
    expect(report.providers.find((p) => p.arn === gl)).toMatchObject({
      managedByTool: true,
      trustedBy: ['also-admin', 'good'],
    });
    expect(report.roles.map((r) => r.name)).toEqual(['wide-open', 'also-admin', 'good', 'github']);
    expect(report.roles.find((r) => r.name === 'good')).toMatchObject({
      managedByTool: true,
      access: 'write',
      findings: 0,
    });

    const byRole = (name: string) =>
      report.findings
        .filter((f) => f.target?.id === name)
        .map((f) => f.ruleId)
        .sort();
    expect(byRole('good')).toEqual([]);
    // No GAO015: the provider has a single client ID, which STS enforces.
    expect(byRole('wide-open')).toEqual(['GAO003', 'GAO009', 'GAO030', 'GAO040']);
    expect(byRole('also-admin')).toEqual(['GAO006', 'GAO009', 'GAO030']);
    expect(byRole('github')).toEqual(['GAO002']);
    expect(byRole('ec2-instance')).toEqual([]);
    const providerFindings = report.findings.filter((f) => f.target?.kind === 'oidc-provider');
    expect(providerFindings.map((f) => [f.ruleId, f.target?.arn, f.value]).sort()).toEqual([
      ['GAO041', unused, undefined],
      // wide-open checks no aud, so nothing names the self-managed provider's audience.
      ['GAO042', sm, 'https://git.corp.example'],
    ]);
    expect(report.findings[0]?.severity).toBe('critical');
    expect(report.findings.find((f) => f.target?.id === 'wide-open' && f.ruleId === 'GAO003')).toMatchObject({
      target: { kind: 'role', id: 'wide-open', arn: fake.roleArn('wide-open') },
      conditionKey: 'git.corp.example:sub',
      value: 'project_path:*',
    });
    expect(report.counts.critical).toBe(2);
    expect(report.ok).toBe(true);
    expect(report.incomplete).toEqual([]);
    expect(report.providers.find((p) => p.arn === gh)?.trustedBy).toEqual(['github']);
  });

  it('reads each attached policy once across roles, and only reads (no mutating call)', async () => {
    seedAccount();
    await runAudit(opts(), { aws: () => fake.ports });
    expect(fake.mutatingCalls()).toEqual([]);
    const getPolicy = fake
      .calls()
      .filter(
        (c) =>
          c.command === 'GetPolicy' &&
          (c.input as { PolicyArn: string }).PolicyArn.endsWith('AdministratorAccess'),
      );
    expect(getPolicy).toHaveLength(1);
    // Attachments and tags come from the bulk read, not a GetRole per role; both reads paginate (page size 2).
    expect(fake.calls().filter((c) => c.command === 'GetRole')).toEqual([]);
    expect(fake.calls().filter((c) => c.command === 'GetAccountAuthorizationDetails').length).toBeGreaterThan(
      1,
    );
    expect(fake.calls().filter((c) => c.command === 'ListRoles').length).toBeGreaterThan(1);
    // The customer managed policy's document came with the bulk read too.
    expect(
      fake
        .calls()
        .filter(
          (c) => c.command === 'GetPolicy' && !(c.input as { PolicyArn: string }).PolicyArn.includes(':aws:'),
        ),
    ).toEqual([]);
  });

  it('applies the --fail-on gate', async () => {
    seedAccount();
    const report = await runAudit(opts({ failOn: 'high' }), { aws: () => fake.ports });
    expect(report.ok).toBe(false);
    expect(gateFailure(report)).toMatch(/^\d+ findings at or above high \(--fail-on high\)\.$/);
    expect(auditDocument(report)).toMatchObject({ ok: false, command: 'audit', exitCode: 1 });
    expect(auditDocument(report)).not.toHaveProperty('artifacts');
  });

  it('goes on when a role cannot be read, and reports it; a gate then fails', async () => {
    seedAccount();
    // The bulk read refused, the audit reads role by role; one of those reads fails too.
    fake.failNext('GetAccountAuthorizationDetails', 'AccessDenied');
    fake.failNext('GetRole', 'AccessDenied');
    const report = await runAudit(opts({ failOn: 'critical', concurrency: 1 }), { aws: () => fake.ports });
    expect(report.incomplete).toHaveLength(1);
    expect(report.incomplete[0]?.error).toMatch(/AccessDenied/);
    expect(report.roles).toHaveLength(4);
    expect(report.ok).toBe(false);
  });

  it('fails fast without credentials', async () => {
    fake.restore();
    fake = createFakeAws({ noCredentials: true });
    await expect(runAudit(opts(), { aws: () => fake.ports })).rejects.toMatchObject({
      code: 'NO_CREDENTIALS',
    });
    expect(fake.calls().map((c) => c.command)).toEqual(['GetCallerIdentity']);
  });
});

describe('runAudit --role', () => {
  it('audits one role against the account’s providers', async () => {
    const { sm } = seedAccount();
    const report = await runAudit(opts({ role: 'wide-open' }), { aws: () => fake.ports });
    expect(report.scope).toBe('role');
    expect(report.roles.map((r) => r.name)).toEqual(['wide-open']);
    expect(report.providers.map((p) => p.arn)).toEqual([sm]);
    expect(report.findings.every((f) => f.target?.id === 'wide-open')).toBe(true);
    expect(fake.calls().some((c) => c.command === 'ListRoles')).toBe(false);
  });

  it('reports a missing role as an error naming it', async () => {
    seedAccount();
    const error = await runAudit(opts({ role: 'nope' }), { aws: () => fake.ports }).catch((e) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ code: 'ROLE_NOT_FOUND', exitCode: 1 });
    expect(error.message).toContain('nope');
  });

  it('reports an unknown provider as a functional error', async () => {
    fake.addRole({
      name: 'dangling',
      trustPolicy: fixture('bad/unknown-provider.json'),
    });
    const report = await runAudit(opts({ role: 'dangling' }), { aws: () => fake.ports });
    expect(report.findings.map((f) => f.ruleId)).toEqual(['GAO028']);
  });
});

describe('runAudit --policy-file', () => {
  const noAws = () => {
    throw new Error('AWS must not be called for --policy-file');
  };

  it('lints a file offline with file targets and keeps the text for SARIF', async () => {
    const file = fixturePath('bad/multiple-statements-one-weak.json');
    const report = await runAudit(opts({ policyFile: file }), { aws: noAws });
    expect(report.scope).toBe('file');
    expect(report.findings.map((f) => f.ruleId).sort()).toEqual(['GAO003', 'GAO009']);
    expect(report.findings[0]?.target).toEqual({ kind: 'file', id: file.replace(/\\/g, '/') });
    expect(report.artifacts?.[0]?.text).toBe(readFileSync(file, 'utf8'));
    expect(fake.calls()).toEqual([]);
  });

  it('honours --read-only-role', async () => {
    const report = await runAudit(opts({ policyFile: fixturePath('bad/any-ref.json'), writeRole: false }), {
      aws: noAws,
    });
    expect(report.findings.map((f) => [f.ruleId, f.severity])).toEqual([['GAO009', 'medium']]);
  });

  it.each([
    [
      'a missing file',
      async () => Promise.reject(Object.assign(new Error('no'), { code: 'ENOENT' })),
      /does not exist/,
    ],
    ['invalid JSON', async () => '{ "Version": ', /not valid JSON/],
    ['JSON without Statement', async () => '{"Version": "2012-10-17"}', /has no "Statement"/],
    ['a JSON array', async () => '[]', /./],
  ])('rejects %s with a usage error naming --policy-file', async (_name, readFile, message) => {
    const error = await runAudit(opts({ policyFile: 'trust.json' }), { aws: noAws, readFile }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(2);
    expect(`${error.message} ${error.details().join(' ')}`).toMatch(message);
    expect(error.issues[0]?.field).toBe('--policy-file');
  });
});

describe('parseAuditFlags', () => {
  it.each([
    [{ role: 'r', policyFile: 'f.json' }, '--policy-file'],
    [{ json: true, format: 'sarif' }, '--json'],
    [{ writeRole: true, readOnlyRole: true, policyFile: 'f' }, '--write-role'],
    [{ writeRole: true }, '--write-role'],
    [{ failOn: 'severe' }, '--fail-on'],
    [{ format: 'xml' }, '--format'],
    [{ role: 'arn:aws:iam::1:role/x' }, '--role'],
    [{ role: 'x'.repeat(65) }, '--role'],
  ])('%o → usage error on %s', (flags, field) => {
    const error = (() => {
      try {
        parseAuditFlags(flags);
      } catch (e) {
        return e;
      }
    })() as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.issues.map((i) => i.field)).toContain(field);
  });

  it('maps --json to the json format and defaults to a table', () => {
    expect(parseAuditFlags({ json: true }).format).toBe('json');
    expect(parseAuditFlags({}).format).toBe('table');
    expect(parseAuditFlags({ failOn: 'functional' }).failOn).toBe('functional');
    expect(parseAuditFlags({ policyFile: 'x', readOnlyRole: true }).writeRole).toBe(false);
  });
});

describe('runAudit interrupted (Ctrl-C/SIGTERM)', () => {
  it.each(['getAccountAuthorizationDetails', 'getRole', 'getOidcProvider', 'getPolicyDocument'] as const)(
    'a %s cancelled in flight ends the run (AbortError, exit 130), not an "incomplete" entry',
    async (method) => {
      seedAccount();
      const interrupted = new AbortError(`Interrupted: ${method} was cancelled in flight.`);
      // GetRole is called when the bulk read fails (here with a plain error: the audit goes on).
      const bulkRefused =
        method === 'getRole'
          ? { getAccountAuthorizationDetails: () => Promise.reject(new Error('denied')) }
          : {};
      const ports = {
        ...fake.ports,
        iam: { ...fake.ports.iam, ...bulkRefused, [method]: () => Promise.reject(interrupted) },
      };
      await expect(runAudit(opts(), { aws: () => ports })).rejects.toBe(interrupted);
    },
  );
});
