/**
 * `status` of an account with 1,000 tool-managed roles (and 60 foreign ones), counting IAM calls on
 * the stateful fake (page size 100, IAM's default). Half the projects have a tool-managed permission
 * policy, one of them detached from its role. The bulk read takes 533 calls (501 of them a GetPolicy
 * each for the tags of a customer policy, which no bulk read returns); role by role it was 4,187. Both
 * give the same report.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY_PATH,
  DEFAULT_ROLE_PATH,
  defaultPolicyName,
  defaultRoleName,
} from '../../src/core/naming.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { parseStatusFlags } from '../../src/status/options.js';
import { runStatus } from '../../src/status/run.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';

const ROLES = 1000;
const TOOL_TAGS = { 'managed-by': 'gitlab-aws-oidc', 'gitlab-aws-oidc:gitlab-url': 'https://gitlab.com' };
const allow = (action: string, resource: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
});
const trust = (provider: string, project: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: provider },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          'gitlab.com:aud': 'https://gitlab.com',
          'gitlab.com:sub': `project_path:${project}:ref_type:branch:ref:main`,
        },
      },
    },
  ],
});

let fake: FakeAws;
beforeEach(() => {
  fake = createFakeAws();
  const gl = fake.addProvider({
    url: 'https://gitlab.com',
    clientIds: ['https://gitlab.com'],
    tags: TOOL_TAGS,
  });
  const other = fake.addProvider({
    url: 'https://token.actions.githubusercontent.com',
    clientIds: ['sts.amazonaws.com'],
  });
  const readOnly = fake.addPolicy({
    name: 'ReadOnlyAccess',
    awsManaged: true,
    document: allow('s3:Get*', '*'),
  });
  const handMade = fake.addPolicy({ name: 'team-extra', document: allow('sqs:SendMessage', '*') });
  for (let i = 0; i < ROLES; i++) {
    const project = `grp/p${i}`;
    const tags = { ...TOOL_TAGS, 'gitlab-aws-oidc:project': project };
    const attached = [readOnly];
    if (i % 2 === 0) {
      const policy = fake.addPolicy({
        name: defaultPolicyName(project),
        path: DEFAULT_POLICY_PATH,
        document: allow('s3:PutObject', `arn:aws:s3:::site-${i}/*`),
        tags,
        olderVersions: i % 100 === 0 ? [allow('s3:*', '*')] : [],
      });
      // One project's tool policy was detached by hand.
      if (i !== 500) attached.push(policy);
    }
    if (i % 250 === 0) attached.push(handMade);
    fake.addRole({
      name: defaultRoleName(project),
      path: DEFAULT_ROLE_PATH,
      trustPolicy: trust(gl, project),
      tags,
      attachedPolicyArns: attached,
      ...(i % 300 === 0 ? { permissionsBoundaryArn: handMade, maxSessionDuration: 7200 } : {}),
    });
  }
  // Foreign roles: federated ones (to GitLab and GitHub), and some at the tool's path without its tag.
  for (let i = 0; i < 60; i++) {
    fake.addRole({
      name: `foreign-${i}`,
      path: i % 3 === 0 ? DEFAULT_ROLE_PATH : '/',
      trustPolicy: trust(i % 2 ? other : gl, `other/x${i}`),
      tags: i % 5 === 0 ? { team: 'platform' } : {},
      attachedPolicyArns: [readOnly],
    });
  }
});
afterEach(() => fake.restore());

function callsByCommand(from = 0): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { command } of fake.calls().slice(from)) counts[command] = (counts[command] ?? 0) + 1;
  return counts;
}

describe(`status of ${ROLES} tool-managed roles`, () => {
  it('reads the account in bulk, and reports the same as role by role when the bulk read is refused', {
    timeout: 120_000,
  }, async () => {
    const progress: string[] = [];
    const status = () =>
      runStatus(parseStatusFlags({}), { aws: () => fake.ports, progress: (m) => progress.push(m) });

    const bulk = await status();
    expect(bulk.roles).toHaveLength(ROLES);
    expect(bulk.roles.filter((r) => r.policies.some((p) => p.toolManaged))).toHaveLength(ROLES / 2 - 1);
    expect(bulk.roles.find((r) => r.project === 'grp/p500')?.drift).toContainEqual(
      expect.objectContaining({ what: 'policy', message: expect.stringContaining('is not attached') }),
    );
    const bulkCalls = callsByCommand();
    expect(bulkCalls).toEqual({
      GetCallerIdentity: 1,
      ListOpenIDConnectProviders: 1,
      GetOpenIDConnectProvider: 2,
      // 1,060 roles, 1,000 a page (MaxItems).
      ListRoles: 2,
      // 1,060 roles + 501 customer managed policies, 1,000 entities a page (MaxItems).
      GetAccountAuthorizationDetails: 2,
      // Tags only (the bulk read has none): the 500 tool policies and the hand-made one.
      GetPolicy: 501,
    });
    expect(fake.mutatingCalls()).toEqual([]);

    const mark = fake.calls().length;
    fake.failNext('GetAccountAuthorizationDetails', 'AccessDenied');
    const perRole = await status();
    expect(perRole).toEqual(bulk);
    expect(progress).toContainEqual(expect.stringMatching(/AccessDenied.*reading role by role instead/));
    // What status took before the bulk read (GetCallerIdentity is remembered by the port).
    expect(callsByCommand(mark)).toEqual({
      GetAccountAuthorizationDetails: 1,
      ListOpenIDConnectProviders: 1,
      GetOpenIDConnectProvider: 2,
      ListRoles: 2,
      // The candidates: federated or under /gitlab-oidc/ (every role here: the foreign ones federate too).
      GetRole: 1060,
      ListAttachedRolePolicies: 1060,
      // The 501 attached customer policies and the 500 projects' default-named ones that do not exist.
      GetPolicy: 1001,
      GetPolicyVersion: 501,
      ListPolicyVersions: 501,
    });
  });
});
