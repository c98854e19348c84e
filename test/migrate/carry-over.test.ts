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

describe('carryOverPermissions', () => {
  it('managed as they are (deduplicated), inline and group inline copied with traceable Sids, the boundary kept', () => {
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
      notCarriedOver: [],
    });
  });

  it('lists what cannot be carried over: aws:username statements, policies past the quota, an oversized document', () => {
    const out = carryOverPermissions(
      {
        userName: 'u',
        attachedPolicyArns: [
          'arn:aws:iam::aws:policy/A',
          'arn:aws:iam::aws:policy/B',
          'arn:aws:iam::aws:policy/C',
        ],
        inlinePolicies: [
          {
            name: 'self',
            document: doc(
              // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template.
              allow('iam:CreateAccessKey', 'arn:aws:iam::*:user/${aws:username}'),
              allow('sqs:*'),
            ),
          },
          { name: 'big', document: doc(allow(`s3:${'x'.repeat(6200)}`)) },
        ],
        groups: [],
      },
      { attachableQuota: 3 },
    );
    expect(out.managedPolicyArns).toEqual(['arn:aws:iam::aws:policy/A', 'arn:aws:iam::aws:policy/B']);
    expect(out.notCarriedOver).toEqual([
      'user u inline policy self, Statement[0]: uses aws:username, which a role session does not have',
      "managed policy arn:aws:iam::aws:policy/C: over the role's quota of 2 attached policies (raise it in Service Quotas, or merge policies)",
      expect.stringMatching(/^the copied inline statements are \d+ characters, over IAM's 6144/),
    ]);
    expect(out.policyDocument?.Statement).toHaveLength(2);
  });

  it('no inline policy: no tool policy, the whole quota for managed ones', () => {
    const out = carryOverPermissions({
      userName: 'u',
      attachedPolicyArns: [],
      inlinePolicies: [],
      groups: [],
    });
    expect(out).toEqual({ managedPolicyArns: [], notCarriedOver: [] });
  });
});
