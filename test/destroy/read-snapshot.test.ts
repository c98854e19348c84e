/**
 * `readDestroyState` from the account read in bulk (as a fleet run would pass it) reads exactly what it
 * reads role by role, in far fewer calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAccountSnapshot } from '../../src/aws/account-snapshot.js';
import { defaultPolicyName } from '../../src/core/naming.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { DESTROY_JOURNAL_TAG, type DestroyTarget } from '../../src/destroy/plan.js';
import { readDestroyState } from '../../src/destroy/read.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';

const TOOL = { 'managed-by': 'gitlab-aws-oidc', 'gitlab-aws-oidc:gitlab-url': 'https://gitlab.com' };
const tagsFor = (project: string) => ({ ...TOOL, 'gitlab-aws-oidc:project': project });
const allow = (resource: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resource }],
});
const trust = (provider: string, project: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: provider },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { 'gitlab.com:sub': `project_path:${project}:ref_type:branch:ref:main` } },
    },
  ],
});

let fake: FakeAws;
beforeAll(() => {
  fake = createFakeAws({ pageSize: 2 });
  const gl = fake.addProvider({ url: 'https://gitlab.com', clientIds: ['https://gitlab.com'], tags: TOOL });
  const web = fake.addPolicy({
    name: defaultPolicyName('acme/web'),
    path: '/gitlab-oidc/',
    document: allow('v3'),
    tags: tagsFor('acme/web'),
    olderVersions: [allow('v1'), allow('v2')],
  });
  const hand = fake.addPolicy({ name: 'team-extra', document: allow('hand') });
  fake.addPolicy({
    name: defaultPolicyName('acme/api'),
    path: '/gitlab-oidc/',
    document: allow('api'),
    tags: tagsFor('acme/api'),
  });
  const journaled = fake.addPolicy({
    name: 'acme-api-extra',
    path: '/gitlab-oidc/',
    document: allow('x'),
    tags: tagsFor('acme/api'),
  });
  fake.addRole({
    name: 'acme-web',
    path: '/gitlab-oidc/',
    trustPolicy: trust(gl, 'acme/web'),
    tags: tagsFor('acme/web'),
    attachedPolicyArns: [web, hand],
  });
  fake.addRole({
    name: 'acme-api',
    path: '/gitlab-oidc/',
    trustPolicy: trust(gl, 'acme/api'),
    tags: { ...tagsFor('acme/api'), [DESTROY_JOURNAL_TAG]: journaled.split(':policy')[1] as string },
    inlinePolicyNames: ['by-hand'],
  });
  fake.addInstanceProfile({ name: 'ec2', roleNames: ['acme-api'] });
  fake.addRole({ name: 'foreign', trustPolicy: trust(gl, 'x/y'), attachedPolicyArns: [hand] });
});
afterAll(() => fake.restore());

const identity = () => ({ account: fake.account, partition: 'aws' });
const targets: [string, DestroyTarget][] = [
  ['a project with its tool policy (3 versions) and a hand-attached one', { project: 'acme/web' }],
  ['a project with a journal, an inline policy and an instance profile', { project: 'ACME/api' }],
  ['a project on its GitLab instance', { project: 'acme/web', gitlabUrl: 'https://gitlab.com' }],
  ['a project on another instance', { project: 'acme/web', gitlabUrl: 'https://gitlab.example.com' }],
  ['a role by name', { role: 'foreign' }],
  ['a project with nothing', { project: 'none/here' }],
];

describe('readDestroyState from a snapshot', () => {
  it.each(targets)('%s: the same as role by role', async (_name, target) => {
    const { snapshot } = await readAccountSnapshot(fake.ports.iam, { concurrency: 4 });
    const fromSnapshot = await readDestroyState(fake.ports.iam, identity(), target, { snapshot });
    const perRole = await readDestroyState(fake.ports.iam, identity(), target);
    expect(fromSnapshot).toStrictEqual(perRole);
  });

  it('after the bulk read, a project takes only the GetPolicy calls for its policies’ tags', async () => {
    const { snapshot } = await readAccountSnapshot(fake.ports.iam, { concurrency: 4 });
    const mark = fake.calls().length;
    await readDestroyState(fake.ports.iam, identity(), { project: 'acme/api' }, { snapshot });
    // The default-named policy and the journaled one.
    expect(
      fake
        .calls()
        .slice(mark)
        .map((c) => c.command),
    ).toEqual(['GetPolicy', 'GetPolicy']);
  });
});
