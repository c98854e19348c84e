import { describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/core/types.js';
import { carryOverPermissions } from '../../src/migrate/carry-over.js';

const doc = (...statements: PolicyDocument['Statement'][]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: statements.flat(),
});
const allow = (action: string, resource = '*') => ({
  Effect: 'Allow' as const,
  Action: action,
  Resource: resource,
});
const ROLE = 'arn:aws:iam::123456789012:role/gitlab-oidc-acme-api';

describe('carryOverPermissions', () => {
  it('managed as they are (deduplicated, groups too), inline and group inline copied with traceable Sids, the boundary kept', () => {
    const out = carryOverPermissions({
      userName: 'deploy-bot',
      attachedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      inlinePolicies: [{ name: 's3-deploy', document: doc(allow('s3:PutObject', 'arn:aws:s3:::site/*')) }],
      groups: [
        {
          name: 'ci-users',
          attachedPolicyArns: [
            'arn:aws:iam::aws:policy/ReadOnlyAccess',
            'arn:aws:iam::123456789012:policy/ecr',
          ],
          inlinePolicies: [{ name: 'logs', document: doc(allow('logs:PutLogEvents')) }],
        },
      ],
      permissionsBoundaryArn: 'arn:aws:iam::123456789012:policy/boundary',
    });
    expect(out).toEqual({
      managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::123456789012:policy/ecr'],
      policyDocument: doc(
        { ...allow('s3:PutObject', 'arn:aws:s3:::site/*'), Sid: 'UserInlines3deploy0' },
        { ...allow('logs:PutLogEvents'), Sid: 'Groupciuserslogs0' },
      ),
      permissionsBoundaryArn: 'arn:aws:iam::123456789012:policy/boundary',
      sources: [
        { holder: 'user deploy-bot', kind: 'inline', policy: 's3-deploy', outcome: 'copied' },
        { holder: 'group ci-users', kind: 'inline', policy: 'logs', outcome: 'copied' },
        {
          holder: 'user deploy-bot',
          kind: 'managed',
          policy: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
          outcome: 'attached',
        },
        {
          holder: 'group ci-users',
          kind: 'managed',
          policy: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
          outcome: 'attached',
        },
        {
          holder: 'group ci-users',
          kind: 'managed',
          policy: 'arn:aws:iam::123456789012:policy/ecr',
          outcome: 'attached',
        },
        {
          holder: 'user deploy-bot',
          kind: 'boundary',
          policy: 'arn:aws:iam::123456789012:policy/boundary',
          outcome: 'boundary',
        },
      ],
      notCarriedOver: [],
    });
  });

  it('lists what cannot be carried over: aws:username, the user itself, PassRole to itself, past the quota, past the size', () => {
    const userArn = 'arn:aws:iam::123456789012:user/u';
    const out = carryOverPermissions(
      {
        userName: 'u',
        userArn,
        attachedPolicyArns: [
          'arn:aws:iam::aws:policy/A',
          'arn:aws:iam::123456789012:policy/self-service',
          'arn:aws:iam::aws:policy/C',
        ],
        managedPolicyDocuments: new Map([
          [
            'arn:aws:iam::123456789012:policy/self-service',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template.
            doc(allow('iam:ChangePassword', 'arn:aws:iam::*:user/${aws:username}')),
          ],
        ]),
        inlinePolicies: [
          {
            name: 'self',
            document: doc(
              // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template.
              allow('iam:CreateAccessKey', 'arn:aws:iam::*:user/${aws:username}'),
              allow('sqs:*'),
              allow('iam:UpdateAccessKey', userArn),
              allow('iam:PassRole', 'arn:aws:iam::123456789012:role/gitlab-oidc-*'),
            ),
          },
          { name: 'big', document: doc(allow(`s3:${'x'.repeat(6200)}`)) },
        ],
        groups: [],
      },
      { attachedPoliciesQuota: 3, roleArn: ROLE },
    );
    expect(out.managedPolicyArns).toEqual([
      'arn:aws:iam::aws:policy/A',
      'arn:aws:iam::123456789012:policy/self-service',
    ]);
    expect(out.notCarriedOver).toEqual([
      {
        source: 'user u inline policy self, Statement[0]',
        reason: 'uses aws:username, which a role session does not have',
      },
      {
        source: 'user u inline policy self, Statement[2]',
        reason: 'acts on IAM user u itself: the role would keep power over the user being retired',
      },
      {
        source: 'user u inline policy self, Statement[3]',
        reason: expect.stringMatching(/^lets the role pass itself \(iam:PassRole on its own ARN\)/),
      },
      {
        source: 'user u inline policy big, Statement[0]',
        reason: expect.stringMatching(
          /^does not fit: the copied statements would pass IAM's 6144 characters/,
        ),
      },
      {
        source: 'managed policy arn:aws:iam::123456789012:policy/self-service, Statement[0]',
        reason: expect.stringMatching(/^uses aws:username.*\(attached as it is/),
      },
      {
        source: 'user u managed policy arn:aws:iam::aws:policy/C',
        reason: expect.stringMatching(
          /^over the role's quota of 2 attached policies \(besides the tool-managed one\)/,
        ),
      },
    ]);
    expect(out.policyDocument?.Statement).toEqual([{ ...allow('sqs:*'), Sid: 'UserInlineself1' }]);
    expect(out.sources.filter((s) => s.kind === 'inline').map((s) => [s.policy, s.outcome])).toEqual([
      ['self', 'partly-copied'],
      ['big', 'not-carried'],
    ]);
    expect(out.sources.find((s) => s.policy === 'arn:aws:iam::aws:policy/C')?.outcome).toBe('not-carried');
  });

  it('iam:PassRole on any resource (*) or with iam:* is carried as it is', () => {
    const out = carryOverPermissions(
      {
        userName: 'u',
        attachedPolicyArns: [],
        inlinePolicies: [{ name: 'p', document: doc(allow('iam:PassRole'), allow('iam:*', ROLE)) }],
        groups: [],
      },
      { roleArn: ROLE },
    );
    expect(out.notCarriedOver).toEqual([]);
    expect(out.policyDocument?.Statement).toHaveLength(2);
  });

  it('no inline policy: no tool policy, the whole quota for managed ones', () => {
    const out = carryOverPermissions({
      userName: 'u',
      attachedPolicyArns: [],
      inlinePolicies: [],
      groups: [],
    });
    expect(out).toEqual({ managedPolicyArns: [], sources: [], notCarriedOver: [] });
  });
});
