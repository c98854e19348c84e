import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/core/types.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';

const TRUST: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/gitlab.com' },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          'gitlab.com:aud': 'https://gitlab.com',
          'gitlab.com:sub': 'project_path:acme/app:ref_type:branch:ref:main',
        },
      },
    },
  ],
};
const S3_READ: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/a b+c%/*' }],
};

let fake: FakeAws;
afterEach(() => fake.restore());

describe('IamPort over the SDK: OIDC providers', () => {
  it('creates, reads, updates and deletes a provider', async () => {
    fake = createFakeAws();
    const { iam } = fake.ports;
    const arn = await iam.createOidcProvider({
      url: 'https://gitlab.example.com/gitlab',
      clientIds: ['sts.amazonaws.com'],
      thumbprints: [],
      tags: { team: 'ops' },
    });
    expect(arn).toBe('arn:aws:iam::123456789012:oidc-provider/gitlab.example.com/gitlab');
    // No thumbprints and no tags: optional parameters are left out, not sent empty.
    expect(fake.calls().at(-1)?.input).toEqual({
      Url: 'https://gitlab.example.com/gitlab',
      ClientIDList: ['sts.amazonaws.com'],
      Tags: [{ Key: 'team', Value: 'ops' }],
    });

    await iam.addOidcClientId(arn, 'https://gitlab.example.com');
    await iam.updateOidcThumbprints(arn, ['a'.repeat(40)]);
    await iam.tagOidcProvider(arn, { env: 'prod' });
    expect(await iam.listOidcProviderArns()).toEqual([arn]);
    expect(await iam.getOidcProvider(arn)).toEqual({
      arn,
      url: 'gitlab.example.com/gitlab',
      clientIds: ['sts.amazonaws.com', 'https://gitlab.example.com'],
      thumbprints: ['a'.repeat(40)],
      tags: { team: 'ops', env: 'prod' },
    });

    await iam.deleteOidcProvider(arn);
    expect(await iam.getOidcProvider(arn)).toBeUndefined();
    // NoSuchEntity on delete counts as done.
    await expect(iam.deleteOidcProvider(arn)).resolves.toBeUndefined();
  });
});

describe('IamPort over the SDK: roles', () => {
  it('reads a role with its decoded trust policy, boundary, tags and every attached policy page', async () => {
    fake = createFakeAws({ pageSize: 2 });
    const boundary = fake.addPolicy({ name: 'Boundary', document: S3_READ });
    const arns = ['A', 'B', 'C', 'D', 'E'].map((n) => fake.addPolicy({ name: n, document: S3_READ }));
    fake.addRole({
      name: 'deploy',
      path: '/ci/',
      trustPolicy: TRUST,
      maxSessionDuration: 7200,
      description: 'CI role',
      permissionsBoundaryArn: boundary,
      tags: { 'managed-by': 'gitlab-aws-oidc' },
      attachedPolicyArns: arns,
    });

    const role = await fake.ports.iam.getRole('deploy');

    expect(role).toEqual({
      name: 'deploy',
      path: '/ci/',
      arn: 'arn:aws:iam::123456789012:role/ci/deploy',
      trustPolicy: TRUST,
      maxSessionDuration: 7200,
      permissionsBoundaryArn: boundary,
      description: 'CI role',
      tags: { 'managed-by': 'gitlab-aws-oidc' },
      attachedPolicyArns: arns,
    });
    const listCalls = fake.calls().filter((c) => c.command === 'ListAttachedRolePolicies');
    expect(listCalls).toHaveLength(3);
    expect(listCalls[0]?.input).toEqual({ RoleName: 'deploy', Marker: undefined });
    expect((listCalls[1]?.input as { Marker?: string } | undefined)?.Marker).toEqual(expect.any(String));
  });

  it('runs GetRole and ListAttachedRolePolicies concurrently', async () => {
    fake = createFakeAws();
    fake.addRole({ name: 'deploy', trustPolicy: TRUST });
    const pending = fake.ports.iam.getRole('deploy');
    // Both requests are sent before either answers.
    await Promise.resolve();
    expect(fake.calls().map((c) => c.command)).toEqual(['GetRole', 'ListAttachedRolePolicies']);
    await pending;
  });

  it('returns undefined for a missing role and treats deleting it as done', async () => {
    fake = createFakeAws();
    await expect(fake.ports.iam.getRole('nope')).resolves.toBeUndefined();
    await expect(fake.ports.iam.deleteRole('nope')).resolves.toBeUndefined();
    await expect(
      fake.ports.iam.detachRolePolicy('nope', 'arn:aws:iam::aws:policy/X'),
    ).resolves.toBeUndefined();
  });

  it('lists every role across pages, filtered by path prefix', async () => {
    fake = createFakeAws({ pageSize: 2 });
    for (const name of ['a', 'b', 'c']) fake.addRole({ name, path: '/gitlab-oidc/', trustPolicy: TRUST });
    fake.addRole({ name: 'other', trustPolicy: TRUST });

    const roles = await fake.ports.iam.listRoles('/gitlab-oidc/');

    expect(roles.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(roles[0]).toEqual({
      name: 'a',
      path: '/gitlab-oidc/',
      arn: 'arn:aws:iam::123456789012:role/gitlab-oidc/a',
      trustPolicy: TRUST,
      maxSessionDuration: 3600,
    });
    expect(fake.calls().filter((c) => c.command === 'ListRoles')).toHaveLength(2);
    expect(await fake.ports.iam.listRoles()).toHaveLength(4);
  });

  it('creates and changes a role through every mutating method', async () => {
    fake = createFakeAws();
    const providerArn = fake.addProvider({ url: 'https://gitlab.com', clientIds: ['https://gitlab.com'] });
    const policy = fake.addPolicy({ name: 'P', document: S3_READ });
    const boundary = fake.addPolicy({ name: 'B', document: S3_READ });
    const { iam } = fake.ports;

    const arn = await iam.createRole({
      name: 'deploy',
      path: '/',
      description: 'd',
      trustPolicy: TRUST,
      maxSessionDuration: 3600,
      tags: { a: '1' },
    });
    expect(arn).toBe('arn:aws:iam::123456789012:role/deploy');
    const sent = fake.calls().at(-1)?.input as { AssumeRolePolicyDocument: string };
    expect(JSON.parse(sent.AssumeRolePolicyDocument)).toEqual(TRUST);

    const updated = {
      ...TRUST,
      Statement: [{ ...(TRUST.Statement as object[])[0], Sid: 'x' }],
    } as PolicyDocument;
    await iam.updateTrustPolicy('deploy', updated);
    await iam.updateRole('deploy', { maxSessionDuration: 7200, description: 'new' });
    await iam.putPermissionsBoundary('deploy', boundary);
    await iam.attachRolePolicy('deploy', policy);
    await iam.tagRole('deploy', { b: '2' });
    await iam.untagRole('deploy', ['a']);

    expect(await iam.getRole('deploy')).toMatchObject({
      trustPolicy: updated,
      maxSessionDuration: 7200,
      description: 'new',
      permissionsBoundaryArn: boundary,
      attachedPolicyArns: [policy],
      tags: { b: '2' },
    });
    await iam.deletePermissionsBoundary('deploy');
    await iam.detachRolePolicy('deploy', policy);
    expect((await iam.getRole('deploy'))?.permissionsBoundaryArn).toBeUndefined();
    await iam.deleteRole('deploy');
    expect(fake.state.roles.size).toBe(0);
    expect(providerArn).toContain('oidc-provider/gitlab.com');
  });

  it('lists inline policy names across pages', async () => {
    fake = createFakeAws({ pageSize: 1 });
    fake.addRole({ name: 'r', trustPolicy: TRUST, inlinePolicyNames: ['one', 'two', 'three'] });
    expect(await fake.ports.iam.listInlineRolePolicies('r')).toEqual(['one', 'two', 'three']);
    expect(fake.calls().filter((c) => c.command === 'ListRolePolicies')).toHaveLength(3);
  });
});

describe('IamPort over the SDK: managed policies', () => {
  it('reads a policy with its decoded default document and every version page', async () => {
    fake = createFakeAws({ pageSize: 2 });
    const old: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
    };
    const arn = fake.addPolicy({
      name: 'app',
      path: '/gitlab-oidc/',
      document: S3_READ,
      olderVersions: [old, old],
      tags: { k: 'v' },
    });

    const policy = await fake.ports.iam.getPolicy(arn);

    expect(policy).toMatchObject({
      arn,
      name: 'app',
      path: '/gitlab-oidc/',
      defaultVersionId: 'v3',
      // Characters that URL-encoding changes (space, +, %) survive the round trip.
      document: S3_READ,
      tags: { k: 'v' },
    });
    expect(policy?.versions.map((v) => [v.versionId, v.isDefault])).toEqual([
      ['v3', true],
      ['v2', false],
      ['v1', false],
    ]);
    expect(policy?.versions[0]?.createDate).toBeInstanceOf(Date);
    expect(fake.calls().filter((c) => c.command === 'ListPolicyVersions')).toHaveLength(2);
    expect(await fake.ports.iam.getPolicyDocument(arn)).toEqual(S3_READ);
  });

  it('returns undefined for a missing policy', async () => {
    fake = createFakeAws();
    const arn = fake.policyArn('missing');
    expect(await fake.ports.iam.getPolicy(arn)).toBeUndefined();
    expect(await fake.ports.iam.getPolicyDocument(arn)).toBeUndefined();
    await expect(fake.ports.iam.deletePolicy(arn)).resolves.toBeUndefined();
  });

  it('creates a policy, adds a default version, prunes and deletes', async () => {
    fake = createFakeAws();
    const { iam } = fake.ports;
    const arn = await iam.createPolicy({ name: 'app', path: '/gitlab-oidc/', document: S3_READ, tags: {} });
    expect(arn).toBe('arn:aws:iam::123456789012:policy/gitlab-oidc/app');
    const next: PolicyDocument = {
      ...S3_READ,
      Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }],
    };
    await iam.createPolicyVersion(arn, next);
    expect((await iam.getPolicy(arn))?.document).toEqual(next);
    expect(await iam.listPolicyVersions(arn)).toMatchObject([
      { versionId: 'v2', isDefault: true },
      { versionId: 'v1', isDefault: false },
    ]);
    await iam.deletePolicyVersion(arn, 'v1');
    await iam.deletePolicy(arn);
    expect(fake.state.policies.size).toBe(0);
  });
});
