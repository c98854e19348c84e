/**
 * The bulk reads of the IAM port: GetAccountAuthorizationDetails (Filter Role + LocalManagedPolicy,
 * Marker/IsTruncated pages) and GetAccountSummary, on the in-process fake (SDK mocked at the client)
 * and over the wire against the loopback Query server (URL-encoded documents, the SummaryMap map).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AwsPorts } from '../../src/aws/ports.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { AwsError } from '../../src/errors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { createServerPorts, type IamServer, startIamServer } from '../helpers/iam-server.js';

const allow = (action: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }],
});
const trust = (provider: string, sub: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: provider },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { 'gitlab.com:sub': sub } },
    },
  ],
});

let fake: FakeAws | undefined;
let server: IamServer | undefined;
afterEach(async () => {
  fake?.restore();
  fake = undefined;
  await server?.close();
  server = undefined;
});

/** Seeds through the port itself (works on both the fake and the server). */
async function seed(ports: AwsPorts, account: string) {
  const { iam } = ports;
  const provider = await iam.createOidcProvider({
    url: 'https://gitlab.com',
    clientIds: ['https://gitlab.com'],
    thumbprints: [],
    tags: {},
  });
  const local = await iam.createPolicy({
    name: 'deploy',
    path: '/app/',
    document: allow('s3:GetObject'),
    tags: {},
  });
  await iam.createPolicyVersion(local, allow('s3:PutObject'));
  const boundary = await iam.createPolicy({ name: 'boundary', path: '/', document: allow('s3:*'), tags: {} });
  for (const name of ['a', 'b', 'c']) {
    await iam.createRole({
      name,
      path: '/gitlab-oidc/',
      description: `role ${name}`,
      maxSessionDuration: 3600,
      trustPolicy: trust(provider, `project_path:grp/${name}:ref_type:branch:ref:main`),
      tags: { 'managed-by': 'gitlab-aws-oidc', project: name },
      ...(name === 'b' ? { permissionsBoundaryArn: boundary } : {}),
    });
    await iam.attachRolePolicy(name, local);
  }
  return {
    provider,
    local,
    boundary,
    roleArn: (n: string) => `arn:aws:iam::${account}:role/gitlab-oidc/${n}`,
  };
}

describe('getAccountAuthorizationDetails', () => {
  it('returns every role (trust decoded, attachments, tags, boundary, last use) and the customer managed policies with versions, across pages', async () => {
    fake = createFakeAws({ pageSize: 2 });
    const s = await seed(fake.ports, fake.account);
    const aws = fake.addPolicy({ name: 'ReadOnlyAccess', awsManaged: true, document: allow('s3:Get*') });
    fake.addRole({
      name: 'used',
      trustPolicy: trust(s.provider, 'project_path:grp/used:ref_type:branch:ref:main'),
      attachedPolicyArns: [aws],
      inlinePolicyNames: ['inline-1'],
      lastUsed: { date: new Date('2026-11-30T12:00:00Z'), region: 'eu-west-1' },
    });
    const profile = fake.addInstanceProfile({ name: 'ec2-used', path: '/ec2/', roleNames: ['used'] });
    const before = fake.calls().length;

    const details = await fake.ports.iam.getAccountAuthorizationDetails();

    expect(details.roles.map((r) => r.name)).toEqual(['a', 'b', 'c', 'used']);
    expect(details.roles[0]).toEqual({
      name: 'a',
      path: '/gitlab-oidc/',
      arn: s.roleArn('a'),
      trustPolicy: trust(s.provider, 'project_path:grp/a:ref_type:branch:ref:main'),
      permissionsBoundaryArn: undefined,
      tags: { 'managed-by': 'gitlab-aws-oidc', project: 'a' },
      attachedPolicyArns: [s.local],
      inlinePolicyNames: [],
      instanceProfiles: [],
      createDate: fake.state.roles.get('a')?.createDate,
    });
    expect(details.roles[1]?.permissionsBoundaryArn).toBe(s.boundary);
    expect(details.roles[3]).toMatchObject({
      attachedPolicyArns: [aws],
      inlinePolicyNames: ['inline-1'],
      instanceProfiles: [{ name: 'ec2-used', path: '/ec2/', arn: profile }],
      lastUsed: { date: new Date('2026-11-30T12:00:00Z'), region: 'eu-west-1' },
    });
    // Customer managed only (Filter LocalManagedPolicy): the AWS managed policy is not listed.
    expect(details.policies.map((p) => p.arn).sort()).toEqual([s.boundary, s.local].sort());
    const deploy = details.policies.find((p) => p.arn === s.local);
    expect(deploy).toMatchObject({
      name: 'deploy',
      path: '/app/',
      defaultVersionId: 'v2',
      document: allow('s3:PutObject'),
      attachmentCount: 3,
    });
    expect(deploy?.versions.map((v) => [v.versionId, v.isDefault])).toEqual([
      ['v2', true],
      ['v1', false],
    ]);

    const calls = fake.calls().slice(before);
    // 4 roles + 2 policies, 2 a page: 3 pages, following Marker.
    expect(calls.map((c) => c.command)).toEqual(Array(3).fill('GetAccountAuthorizationDetails'));
    expect(calls.map((c) => (c.input as { Marker?: string }).Marker !== undefined)).toEqual([
      false,
      true,
      true,
    ]);
    expect(
      calls.every(
        (c) => JSON.stringify((c.input as { Filter: string[] }).Filter) === '["Role","LocalManagedPolicy"]',
      ),
    ).toBe(true);
  });

  it('maps a refusal to a typed AwsError naming the operation', async () => {
    fake = createFakeAws();
    fake.failNext('GetAccountAuthorizationDetails', 'AccessDenied');
    const error = await fake.ports.iam.getAccountAuthorizationDetails().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsError);
    expect((error as AwsError).message).toMatch(/^GetAccountAuthorizationDetails failed: AccessDenied/);
  });

  it('over the wire (loopback Query server, real SDK client): documents decoded, pages followed', async () => {
    server = await startIamServer({ account: '111122223333', pageSize: 2 });
    const ports = createServerPorts(server);
    const s = await seed(ports, '111122223333');
    const details = await ports.iam.getAccountAuthorizationDetails();
    expect(details.roles.map((r) => [r.name, r.attachedPolicyArns, r.tags.project])).toEqual([
      ['a', [s.local], 'a'],
      ['b', [s.local], 'b'],
      ['c', [s.local], 'c'],
    ]);
    expect(details.roles[0]?.trustPolicy).toEqual(
      trust(s.provider, 'project_path:grp/a:ref_type:branch:ref:main'),
    );
    expect(details.policies.find((p) => p.arn === s.local)?.document).toEqual(allow('s3:PutObject'));
    expect(server.requests.filter((a) => a === 'GetAccountAuthorizationDetails')).toHaveLength(3);
  });
});

describe('getAccountSummary', () => {
  it('reads counts and quotas from the SummaryMap (in process and over the wire)', async () => {
    fake = createFakeAws();
    await seed(fake.ports, fake.account);
    const inProcess = await fake.ports.iam.getAccountSummary();
    expect(inProcess).toMatchObject({
      roles: 3,
      rolesQuota: 1000,
      policies: 2,
      policiesQuota: 1500,
      attachedPoliciesPerRoleQuota: 10,
      versionsPerPolicyQuota: 5,
      providers: 1,
    });
    expect(inProcess.summaryMap.PolicyVersionsInUse).toBe(3);
    fake.restore(); // the mock would answer for the server's clients too
    fake = undefined;

    server = await startIamServer({ account: '111122223333' });
    const ports = createServerPorts(server);
    await seed(ports, '111122223333');
    expect(await ports.iam.getAccountSummary()).toEqual(inProcess);
  });
});
