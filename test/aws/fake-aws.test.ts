/** The fake behaves like IAM where the tool depends on it. */
import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  ListRoleTagsCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/core/types.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { buildTrust, PERMISSIONS } from './apply-fixtures.js';

let fake: FakeAws;
afterEach(() => fake.restore());

const client = () =>
  new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (e: { awsCode?: string }) => e.awsCode,
  );

describe('fake IAM', () => {
  it('throws SDK-shaped errors', async () => {
    fake = createFakeAws();
    const error = await client()
      .send(new GetRoleCommand({ RoleName: 'nope' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoSuchEntityException);
    expect(error).toMatchObject({
      name: 'NoSuchEntityException',
      Code: 'NoSuchEntity',
      $fault: 'client',
      message: 'The role with name nope cannot be found.',
      $metadata: { httpStatusCode: 404, requestId: expect.stringMatching(/^fake-iam-/) },
    });
  });

  it('returns trust policies URL-encoded, like IAM', async () => {
    fake = createFakeAws();
    const trust = buildTrust('arn:aws:iam::123456789012:oidc-provider/gitlab.com');
    fake.addRole({ name: 'r', trustPolicy: trust });
    const out = await client().send(new GetRoleCommand({ RoleName: 'r' }));
    expect(out.Role?.AssumeRolePolicyDocument).toMatch(/^%7B%22Version%22/);
    expect(JSON.parse(decodeURIComponent(out.Role?.AssumeRolePolicyDocument ?? ''))).toEqual(trust);
  });

  it('refuses duplicates: provider URL, role name (any case), policy name', async () => {
    fake = createFakeAws();
    const { iam } = fake.ports;
    fake.addProvider({ url: 'https://gitlab.com' });
    fake.addRole({ name: 'Deploy', trustPolicy: buildTrust('x') });
    fake.addPolicy({ name: 'app', path: '/a/', document: PERMISSIONS });
    expect(
      await code(
        iam.createOidcProvider({ url: 'https://gitlab.com', clientIds: [], thumbprints: [], tags: {} }),
      ),
    ).toBe('EntityAlreadyExists');
    const role = {
      name: 'deploy',
      path: '/',
      description: '',
      trustPolicy: buildTrust('x'),
      maxSessionDuration: 3600,
      tags: {},
    };
    expect(await code(iam.createRole(role))).toBe('EntityAlreadyExists');
    expect(await code(iam.createPolicy({ name: 'APP', path: '/b/', document: PERMISSIONS, tags: {} }))).toBe(
      'EntityAlreadyExists',
    );
  });

  it('refuses malformed trust policies and principals naming a missing provider', async () => {
    fake = createFakeAws();
    const raw = client().send(
      new CreateRoleCommand({
        RoleName: 'r',
        AssumeRolePolicyDocument: '{not json',
        MaxSessionDuration: 3600,
      }),
    );
    await expect(raw).rejects.toMatchObject({
      Code: 'MalformedPolicyDocument',
      message: 'This policy contains invalid Json',
    });
    const missing = fake.providerArn('https://gitlab.com');
    const role = {
      name: 'r',
      path: '/',
      description: '',
      trustPolicy: buildTrust(missing),
      maxSessionDuration: 3600,
      tags: {},
    };
    await expect(fake.ports.iam.createRole(role)).rejects.toThrow(
      `Invalid principal in policy: "Federated":"${missing}"`,
    );
    // Other accounts' providers are not checked, like IAM.
    const foreign = {
      ...role,
      trustPolicy: buildTrust('arn:aws:iam::999999999999:oidc-provider/gitlab.com'),
    };
    await expect(fake.ports.iam.createRole(foreign)).resolves.toContain(':role/r');
  });

  it('simulates propagation: a new provider is an invalid principal for N calls', async () => {
    fake = createFakeAws({ propagationDelayCalls: 3 });
    const { iam } = fake.ports;
    const arn = await iam.createOidcProvider({
      url: 'https://gitlab.com',
      clientIds: [],
      thumbprints: [],
      tags: {},
    });
    const role = {
      name: 'r',
      path: '/',
      description: '',
      trustPolicy: buildTrust(arn),
      maxSessionDuration: 3600,
      tags: {},
    };
    expect(await code(iam.createRole(role))).toBe('MalformedPolicyDocument');
    expect(await code(iam.createRole(role))).toBe('MalformedPolicyDocument');
    expect(await code(iam.createRole(role))).toBe('ok');
  });

  it('refuses a trust policy IAM would not store (lower-case Effect, unknown operator, Resource)', async () => {
    fake = createFakeAws();
    const arn = fake.addProvider({ url: 'https://gitlab.com' });
    const base = buildTrust(arn);
    const first = (Array.isArray(base.Statement) ? base.Statement : [base.Statement])[0];
    const role = (statement: Record<string, unknown>) => ({
      name: 'r',
      path: '/',
      description: '',
      trustPolicy: { ...base, Statement: [{ ...first, ...statement }] } as PolicyDocument,
      maxSessionDuration: 3600,
      tags: {},
    });
    for (const bad of [
      { Effect: 'allow' },
      { Condition: { stringequals: { 'gitlab.com:sub': 'x' } } },
      { Resource: '*' },
    ]) {
      expect(await code(fake.ports.iam.createRole(role(bad))), JSON.stringify(bad)).toBe(
        'MalformedPolicyDocument',
      );
    }
    expect(await code(fake.ports.iam.createRole(role({})))).toBe('ok');
  });

  it('enforces quotas with LimitExceeded', async () => {
    fake = createFakeAws();
    const { iam } = fake.ports;
    const provider = fake.addProvider({
      url: 'https://gitlab.com',
      clientIds: Array.from({ length: 100 }, (_, i) => `aud-${i}`),
    });
    expect(await code(iam.addOidcClientId(provider, 'aud-0'))).toBe('ok');
    expect(await code(iam.addOidcClientId(provider, 'one-more'))).toBe('LimitExceeded');
    expect(
      await code(
        iam.updateOidcThumbprints(
          provider,
          Array.from({ length: 6 }, () => 'a'.repeat(40)),
        ),
      ),
    ).toBe('LimitExceeded');

    const policy = fake.addPolicy({
      name: 'p',
      document: PERMISSIONS,
      olderVersions: [PERMISSIONS, PERMISSIONS, PERMISSIONS, PERMISSIONS],
    });
    expect(await code(iam.createPolicyVersion(policy, PERMISSIONS))).toBe('LimitExceeded');

    const ten = Array.from({ length: 10 }, (_, i) =>
      fake.addPolicy({ name: `p${i}`, document: PERMISSIONS }),
    );
    fake.addRole({ name: 'r', trustPolicy: buildTrust('x'), attachedPolicyArns: ten });
    const eleventh = fake.addPolicy({ name: 'eleventh', document: PERMISSIONS });
    expect(await code(iam.attachRolePolicy('r', eleventh))).toBe('LimitExceeded');

    const big: PolicyDocument = { ...buildTrust('x'), Id: 'x'.repeat(2100) };
    const role = {
      name: 'big',
      path: '/',
      description: '',
      trustPolicy: big,
      maxSessionDuration: 3600,
      tags: {},
    };
    expect(await code(iam.createRole(role))).toBe('LimitExceeded');
  });

  it('refuses deletes that IAM refuses with DeleteConflict', async () => {
    fake = createFakeAws();
    const { iam } = fake.ports;
    const attached = fake.addPolicy({ name: 'a', document: PERMISSIONS });
    const versioned = fake.addPolicy({ name: 'v', document: PERMISSIONS, olderVersions: [PERMISSIONS] });
    fake.addRole({ name: 'r', trustPolicy: buildTrust('x'), attachedPolicyArns: [attached] });
    fake.addRole({ name: 'inline', trustPolicy: buildTrust('x'), inlinePolicyNames: ['x'] });

    expect(await code(iam.deleteRole('r'))).toBe('DeleteConflict');
    expect(await code(iam.deleteRole('inline'))).toBe('DeleteConflict');
    expect(await code(iam.deletePolicy(attached))).toBe('DeleteConflict');
    expect(await code(iam.deletePolicy(versioned))).toBe('DeleteConflict');
    expect(await code(iam.deletePolicyVersion(versioned, 'v2'))).toBe('DeleteConflict');
    expect(await code(iam.deletePolicyVersion(versioned, 'v1'))).toBe('ok');
    expect(await code(iam.deletePolicy(versioned))).toBe('ok');
    expect(await code(iam.detachRolePolicy('r', attached))).toBe('ok');
    expect(await code(iam.deleteRole('r'))).toBe('ok');
  });

  it('paginates role tags with Marker', async () => {
    fake = createFakeAws({ pageSize: 2 });
    fake.addRole({ name: 'r', trustPolicy: buildTrust('x'), tags: { a: '1', b: '2', c: '3' } });
    const first = await client().send(new ListRoleTagsCommand({ RoleName: 'r' }));
    expect(first).toMatchObject({ IsTruncated: true, Tags: [{ Key: 'a' }, { Key: 'b' }] });
    const second = await client().send(new ListRoleTagsCommand({ RoleName: 'r', Marker: first.Marker }));
    expect(second).toMatchObject({ IsTruncated: false, Tags: [{ Key: 'c', Value: '3' }] });
  });

  it('injects failures: failNext times, failAfter counting mutating calls', async () => {
    fake = createFakeAws();
    const { iam } = fake.ports;
    fake.failNext('ListOpenIDConnectProviders', 'Throttling', 'Rate exceeded', { times: 2 });
    expect(await code(iam.listOidcProviderArns())).toBe('Throttling');
    expect(await code(iam.listOidcProviderArns())).toBe('Throttling');
    expect(await code(iam.listOidcProviderArns())).toBe('ok');

    fake.failAfter(1, 'AccessDenied');
    const provider = fake.addProvider({ url: 'https://gitlab.com' });
    expect(await code(iam.tagOidcProvider(provider, { a: '1' }))).toBe('ok');
    expect(await code(iam.getOidcProvider(provider))).toBe('ok');
    expect(await code(iam.tagOidcProvider(provider, { b: '2' }))).toBe('AccessDenied');
    expect(await code(iam.tagOidcProvider(provider, { b: '2' }))).toBe('ok');
    expect(fake.mutatingCalls()).toEqual([
      'TagOpenIDConnectProvider',
      'TagOpenIDConnectProvider',
      'TagOpenIDConnectProvider',
    ]);
    expect(fake.state.providers.get(provider)?.tags).toEqual({ a: '1', b: '2' });
  });

  it('uninstalls its mocks on restore', async () => {
    fake = createFakeAws();
    const stubbed = IAMClient.prototype.send;
    fake.restore();
    expect(IAMClient.prototype.send).not.toBe(stubbed);
    fake = createFakeAws();
  });
});

describe('fake IAM instance profiles', () => {
  it('refuses DeleteRole with DeleteConflict while the role is in an instance profile, as IAM does', async () => {
    fake = createFakeAws();
    const { iam } = fake.ports;
    fake.addRole({ name: 'r', trustPolicy: buildTrust('x') });
    const arn = fake.addInstanceProfile({ name: 'p', roleNames: ['r'] });
    expect(arn).toBe(`arn:aws:iam::${fake.account}:instance-profile/p`);
    expect(await iam.listInstanceProfilesForRole('r')).toEqual([{ name: 'p', path: '/', arn }]);
    expect(await code(iam.deleteRole('r'))).toBe('DeleteConflict');
    await iam.removeRoleFromInstanceProfile('p', 'r');
    await iam.removeRoleFromInstanceProfile('p', 'r'); // NoSuchEntity counts as done
    expect(await iam.listInstanceProfilesForRole('r')).toEqual([]);
    expect(await code(iam.deleteRole('r'))).toBe('ok');
    expect(await iam.listInstanceProfilesForRole('r')).toEqual([]);
  });
});
