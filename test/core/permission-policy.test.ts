import { describe, expect, it } from 'vitest';
import { findBroadPermissions, validatePermissionPolicy } from '../../src/core/permission-policy.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { usageError } from '../helpers/usage-error.js';

const ok = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Deploy', Effect: 'Allow', Action: ['s3:PutObject'], Resource: 'arn:aws:s3:::b/*' }],
};

describe('validatePermissionPolicy', () => {
  it('returns the document with Statement as a list', () => {
    expect(validatePermissionPolicy(ok)).toEqual(ok);
    const single = { Version: '2012-10-17', Statement: ok.Statement[0] };
    expect(validatePermissionPolicy(single).Statement).toEqual(ok.Statement);
  });

  it('accepts NotAction/NotResource and conditions', () => {
    const doc = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          NotAction: 'iam:*',
          NotResource: ['arn:aws:s3:::b'],
          Condition: { Bool: { 'aws:SecureTransport': false } },
        },
      ],
    };
    expect(validatePermissionPolicy(doc)).toEqual(doc);
  });

  it.each([
    [{ ...ok, Version: '2020-01-01' }, '--policy-file Version', /2012-10-17/],
    [{ Statement: ok.Statement }, '--policy-file Version', /is required/],
    [{ Version: '2012-10-17' }, '--policy-file Statement', /is required/],
    [{ Version: '2012-10-17', Statement: [] }, '--policy-file Statement', /at least one/],
    [{ ...ok, Extra: 1 }, '--policy-file', /unknown element\(s\) Extra/],
    [
      { Version: '2012-10-17', Statement: [ok.Statement[0], { ...ok.Statement[0], Effect: 'allow' }] },
      '--policy-file Statement[1].Effect',
      /"Allow" or "Deny"/,
    ],
    [
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*' }] },
      '--policy-file Statement[0].Action',
      /Action or NotAction is required/,
    ],
    [
      {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:x', NotAction: 's3:y', Resource: '*' }],
      },
      '--policy-file Statement[0].NotAction',
      /not both/,
    ],
    [
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:x' }] },
      '--policy-file Statement[0].Resource',
      /Resource or NotResource is required/,
    ],
    [
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3 Get', Resource: '*' }] },
      '--policy-file Statement[0].Action',
      /service:Action/,
    ],
    [
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:A', 'bad'], Resource: '*' }] },
      '--policy-file Statement[0].Action[1]',
      /service:Action/,
    ],
    [
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:A', Resource: [] }] },
      '--policy-file Statement[0].Resource',
      /must not be empty/,
    ],
    [
      { Version: '2012-10-17', Statement: [{ ...ok.Statement[0], Principal: '*' }] },
      '--policy-file Statement[0].Principal',
      /trust policy/,
    ],
    [
      { Version: '2012-10-17', Statement: [{ ...ok.Statement[0], Sid: 'has space' }] },
      '--policy-file Statement[0].Sid',
      /letters and digits/,
    ],
  ])('%j → %s', (doc, field, message) => {
    const error = usageError(() => validatePermissionPolicy(doc));
    const issue = error.issues.find((i) => i.field === field);
    expect(issue, JSON.stringify(error.issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('reports every problem at once and uses the given field name', () => {
    const error = usageError(() =>
      validatePermissionPolicy({ Version: 'x', Statement: [{ Effect: 'Nope' }] }, '--template s3-deploy'),
    );
    expect(error.issues.map((i) => i.field).sort()).toEqual([
      '--template s3-deploy Statement[0].Action',
      '--template s3-deploy Statement[0].Effect',
      '--template s3-deploy Statement[0].Resource',
      '--template s3-deploy Version',
    ]);
    expect(error.message).toMatch(/4 problems/);
  });

  it('refuses a document over the 6,144-character quota, saying by how much', () => {
    const resources = Array.from({ length: 300 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`);
    const doc = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resources }],
    };
    const size = JSON.stringify(doc).length;
    expect(size).toBeGreaterThan(6144);
    expect(usageError(() => validatePermissionPolicy(doc)).message).toMatch(
      `${size - 6144} over the 6144-character quota`,
    );
    expect(validatePermissionPolicy(doc, '--policy-file', size)).toBeTruthy();
  });
});

function allow(action: string | string[], resource: string | string[] = '*'): PolicyDocument {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] };
}

describe('findBroadPermissions', () => {
  it.each([
    [allow('*'), /every action \("\*"\) on every resource/],
    [allow('*:*', 'arn:aws:s3:::b'), /every action/],
    [allow('iam:*', 'arn:aws:iam::123456789012:role/x'), /iam:\* : full control/],
    [allow('s3:*'), /s3:\* on every resource/],
    [allow('sts:AssumeRole'), /sts:AssumeRole on every role/],
    [allow('sts:Assume*'), /sts:AssumeRole on every role/],
    [allow('iam:PassRole'), /iam:PassRole on every role/],
    [allow('iam:Put*', 'arn:aws:iam::123456789012:role/x'), /privilege escalation/],
    [
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }] },
      /NotAction with Allow/,
    ],
    [
      {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:*', NotResource: 'arn:aws:s3:::x' }],
      },
      /s3:\* on every resource/,
    ],
  ] as Array<[PolicyDocument, RegExp]>)('warns on %j', (doc, message) => {
    expect(findBroadPermissions(doc).join('\n')).toMatch(message);
  });

  it.each([
    allow(['s3:GetObject', 's3:PutObject'], 'arn:aws:s3:::b/*'),
    allow('s3:*', 'arn:aws:s3:::b/*'),
    allow('ecr:GetAuthorizationToken'),
    allow('sts:AssumeRole', 'arn:aws:iam::123456789012:role/deploy'),
    { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] },
  ] as PolicyDocument[])('quiet on scoped grants and denies: %j', (doc) => {
    expect(findBroadPermissions(doc)).toEqual([]);
  });

  it('flags admin-level AWS managed policies only', () => {
    const warnings = findBroadPermissions(undefined, [
      'arn:aws:iam::aws:policy/AdministratorAccess',
      'arn:aws-cn:iam::aws:policy/IAMFullAccess',
      'arn:aws:iam::aws:policy/PowerUserAccess',
      'arn:aws:iam::aws:policy/ReadOnlyAccess',
      'arn:aws:iam::123456789012:policy/AdministratorAccess',
    ]);
    expect(warnings).toHaveLength(3);
    expect(warnings.join('\n')).toMatch(/AdministratorAccess.*\n.*IAMFullAccess.*\n.*PowerUserAccess/);
  });
});
