/**
 * `currentStateFromSnapshot` (one bulk read for many projects) gives exactly what `readCurrentState`
 * (GetOpenIDConnectProvider, GetRole, ListAttachedRolePolicies, GetPolicy… per project) reads from the
 * same account, shape by shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccountSnapshot,
  currentStateFromSnapshot,
  policyArnsNeeded,
  readAccountSnapshot,
  readPolicyTags,
} from '../../src/aws/account-snapshot.js';
import { readCurrentState, type StateTargets } from '../../src/aws/read-state.js';
import type { PolicyDocument } from '../../src/core/types.js';
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
let gl: string;
let p: Record<string, string>;
beforeAll(() => {
  // Page size 2: every list and the bulk read span several pages.
  fake = createFakeAws({ pageSize: 2 });
  gl = fake.addProvider({
    url: 'https://gitlab.com',
    clientIds: ['https://gitlab.com', 'sts.amazonaws.com', 'https://gitlab.com/acme'],
    thumbprints: ['a'.repeat(40)],
    tags: TOOL,
  });
  p = {
    web: fake.addPolicy({
      name: 'acme-web-permissions',
      path: '/gitlab-oidc/',
      document: allow('a'),
      tags: tagsFor('acme/web'),
    }),
    versions: fake.addPolicy({
      name: 'acme-api-permissions',
      path: '/gitlab-oidc/',
      document: allow('v5'),
      tags: tagsFor('acme/api'),
      olderVersions: [allow('v1'), allow('v2'), allow('v3'), allow('v4')],
    }),
    hand: fake.addPolicy({ name: 'team-extra', document: allow('hand'), tags: { team: 'x' } }),
    untagged: fake.addPolicy({ name: 'no-tags', document: allow('none') }),
    boundary: fake.addPolicy({ name: 'boundary', document: allow('*') }),
    detached: fake.addPolicy({
      name: 'acme-old-permissions',
      path: '/gitlab-oidc/',
      document: allow('old'),
      tags: tagsFor('acme/old'),
    }),
    readOnly: fake.addPolicy({ name: 'ReadOnlyAccess', awsManaged: true, document: allow('*') }),
  } as Record<string, string>;
  fake.addRole({
    name: 'acme-web',
    path: '/gitlab-oidc/',
    trustPolicy: trust(gl, 'acme/web'),
    tags: tagsFor('acme/web'),
    attachedPolicyArns: [p.web as string, p.readOnly as string],
    description: 'GitLab OIDC for acme/web',
  });
  fake.addRole({
    name: 'acme-api',
    path: '/gitlab-oidc/',
    trustPolicy: trust(gl, 'acme/api'),
    tags: tagsFor('acme/api'),
    attachedPolicyArns: [p.versions as string, p.hand as string, p.untagged as string],
    permissionsBoundaryArn: p.boundary as string,
    maxSessionDuration: 7200,
  });
  fake.addRole({
    name: 'acme-old',
    path: '/gitlab-oidc/',
    trustPolicy: trust(gl, 'acme/old'),
    tags: tagsFor('acme/old'),
  });
  fake.addRole({ name: 'foreign', trustPolicy: trust(gl, 'x/y'), attachedPolicyArns: [p.hand as string] });
});
// One fake for the whole table: the reads never change it.
afterAll(() => fake.restore());

const policy = (key: string) => p[key] as string;
const cases: [string, () => StateTargets][] = [
  [
    'role with its tool policy, a description and an AWS managed policy',
    () => ({
      providerArn: gl,
      roleName: 'acme-web',
      policyArn: policy('web'),
      managedPolicyArns: [policy('readOnly')],
    }),
  ],
  [
    'boundary, MaxSessionDuration, a policy with 5 versions, hand-attached and untagged policies',
    () => ({ providerArn: gl, roleName: 'acme-api', policyArn: policy('versions') }),
  ],
  [
    'hand-attached policy the run asks for (not unwanted)',
    () => ({
      providerArn: gl,
      roleName: 'acme-api',
      policyArn: policy('versions'),
      managedPolicyArns: [policy('hand')],
    }),
  ],
  ['no tool policy wanted: the attached one is unwanted', () => ({ providerArn: gl, roleName: 'acme-api' })],
  [
    'no tool policy wanted, the former one left detached',
    () => ({ providerArn: gl, roleName: 'acme-old', formerPolicyArn: policy('detached') }),
  ],
  [
    'former policy that does not exist',
    () => ({
      providerArn: gl,
      roleName: 'acme-old',
      formerPolicyArn: fake.policyArn('nope', '/gitlab-oidc/'),
    }),
  ],
  [
    'missing role, tool policy that does not exist yet',
    () => ({
      providerArn: gl,
      roleName: 'acme-new',
      policyArn: fake.policyArn('acme-new-permissions', '/gitlab-oidc/'),
    }),
  ],
  [
    'missing provider',
    () => ({
      providerArn: fake.providerArn('https://gitlab.example.com'),
      roleName: 'acme-web',
      policyArn: policy('web'),
    }),
  ],
  [
    'role named in another case (IAM names are case-insensitive)',
    () => ({ providerArn: gl, roleName: 'ACME-Web', policyArn: policy('web') }),
  ],
  ['a role the tool does not manage', () => ({ providerArn: gl, roleName: 'foreign' })],
];

describe('currentStateFromSnapshot', () => {
  let snapshot: AccountSnapshot;
  it('reads the account once', async () => {
    const reads = await readAccountSnapshot(fake.ports.iam, { concurrency: 4 });
    expect(reads.snapshot).toBeDefined();
    snapshot = reads.snapshot as AccountSnapshot;
    expect(snapshot.roles.size).toBe(4);
  });

  it.each(cases)('%s: the same as readCurrentState', async (_name, targets) => {
    const t = targets();
    await readPolicyTags(fake.ports.iam, snapshot, policyArnsNeeded(snapshot, t), 4);
    const fromSnapshot = currentStateFromSnapshot(snapshot, t);
    const read = await readCurrentState(fake.ports.iam, t);
    expect(fromSnapshot).toStrictEqual(read);
  });

  it('plans every project from one bulk read: a GetPolicy per policy for its tags, nothing per role', async () => {
    const mark = fake.calls().length;
    const { snapshot: fresh } = await readAccountSnapshot(fake.ports.iam, { concurrency: 4 });
    const s = fresh as AccountSnapshot;
    const all = cases.map(([, t]) => t());
    await readPolicyTags(
      fake.ports.iam,
      s,
      all.flatMap((t) => policyArnsNeeded(s, t)),
      4,
    );
    for (const t of all) currentStateFromSnapshot(s, t);
    const counts: Record<string, number> = {};
    for (const { command } of fake.calls().slice(mark)) counts[command] = (counts[command] ?? 0) + 1;
    // 4 roles at 2 a page; 4 roles + 6 customer policies at 2 entities a page; tags of 5 policies.
    expect(counts).toEqual({
      ListOpenIDConnectProviders: 1,
      GetOpenIDConnectProvider: 1,
      ListRoles: 2,
      GetAccountAuthorizationDetails: 5,
      GetPolicy: 5,
    });
  });

  it('refuses to guess a policy whose tags were not read', async () => {
    const { snapshot: fresh } = await readAccountSnapshot(fake.ports.iam, { concurrency: 4 });
    expect(() =>
      currentStateFromSnapshot(fresh as AccountSnapshot, {
        providerArn: gl,
        roleName: 'acme-web',
        policyArn: policy('web'),
      }),
    ).toThrow(/tags of .*acme-web-permissions were not read/);
  });
});
