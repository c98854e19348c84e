/**
 * `audit` of an account with 1,000 federated roles, counting IAM calls on the stateful fake (page size
 * 100, IAM's default). Reading role by role (GetRole + ListAttachedRolePolicies each) took 2,035 calls
 * for this account; the bulk read (GetAccountAuthorizationDetails, which also carries the customer
 * managed policies' documents) takes 26, and the report is the same either way.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAuditFlags } from '../../src/audit/options.js';
import { runAudit } from '../../src/audit/run.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';

const ROLES = 1000;
const TOOL_TAGS = { 'managed-by': 'gitlab-aws-oidc', 'gitlab-aws-oidc:gitlab-url': 'https://gitlab.com' };
const allow = (action: string, resource: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
});

let fake: FakeAws;
beforeEach(() => {
  fake = createFakeAws();
  const gl = fake.addProvider({
    url: 'https://gitlab.com',
    clientIds: ['https://gitlab.com'],
    tags: TOOL_TAGS,
  });
  const readOnly = fake.addPolicy({
    name: 'ReadOnlyAccess',
    awsManaged: true,
    document: allow('s3:Get*', '*'),
  });
  const deploy = Array.from({ length: 10 }, (_, i) =>
    fake.addPolicy({
      name: `deploy-${i}`,
      path: '/gitlab-oidc/',
      document: allow('s3:PutObject', `arn:aws:s3:::site-${i}/*`),
    }),
  );
  for (let i = 0; i < ROLES; i++) {
    fake.addRole({
      name: `gitlab-grp-p${i}`,
      path: '/gitlab-oidc/',
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: gl },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: {
                'gitlab.com:aud': 'https://gitlab.com',
                'gitlab.com:sub': `project_path:grp/p${i}:ref_type:branch:ref:main`,
              },
            },
          },
        ],
      },
      tags: TOOL_TAGS,
      attachedPolicyArns: [deploy[i % 10] as string, readOnly],
    });
  }
});
afterEach(() => fake.restore());

function callsByCommand(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { command } of fake.calls()) counts[command] = (counts[command] ?? 0) + 1;
  return counts;
}

describe(`audit of ${ROLES} federated roles`, () => {
  it('reads the account in bulk: 8 IAM/STS calls (role by role it was 2,035)', async () => {
    const report = await runAudit(parseAuditFlags({}), { aws: () => fake.ports });
    expect(report.roles).toHaveLength(ROLES);
    expect(report.incomplete).toEqual([]);
    expect(report.roles.every((r) => r.attachedPolicyArns.length === 2 && r.managedByTool)).toBe(true);
    expect(callsByCommand()).toEqual({
      GetCallerIdentity: 1,
      ListOpenIDConnectProviders: 1,
      GetOpenIDConnectProvider: 1,
      // 1,000 roles, 1,000 a page (MaxItems).
      ListRoles: 1,
      // 1,000 roles + 10 customer managed policies, 1,000 entities a page (MaxItems).
      GetAccountAuthorizationDetails: 2,
      // Only the AWS managed policy is read on its own, once for all roles.
      GetPolicy: 1,
      GetPolicyVersion: 1,
    });
    expect(fake.calls()).toHaveLength(8);
    expect(fake.mutatingCalls()).toEqual([]);
  });

  it('when the bulk read is refused, goes on role by role (as before) and reports the same', async () => {
    const bulk = await runAudit(parseAuditFlags({}), { aws: () => fake.ports });
    const before = fake.calls().length;
    fake.failNext('GetAccountAuthorizationDetails', 'AccessDenied');
    const progress: string[] = [];
    const perRole = await runAudit(parseAuditFlags({}), {
      aws: () => fake.ports,
      progress: (m) => progress.push(m),
    });
    expect(perRole).toEqual(bulk);
    expect(progress).toContainEqual(expect.stringMatching(/AccessDenied.*reading role by role instead/));
    const perRoleCalls: Record<string, number> = {};
    for (const { command } of fake.calls().slice(before))
      perRoleCalls[command] = (perRoleCalls[command] ?? 0) + 1;
    // What every audit took before the bulk read (GetCallerIdentity is remembered by the port).
    expect(perRoleCalls).toEqual({
      GetAccountAuthorizationDetails: 1,
      ListOpenIDConnectProviders: 1,
      GetOpenIDConnectProvider: 1,
      ListRoles: 1,
      GetRole: ROLES,
      ListAttachedRolePolicies: ROLES,
      GetPolicy: 11,
      GetPolicyVersion: 11,
    });
  });
});
