import { describe, expect, it } from 'vitest';
import {
  classifyAccess,
  type Finding,
  lintMaxSessionDuration,
  lintPermissions,
  lintProviderUsage,
  type PermissionSource,
} from '../../src/core/lint.js';
import type { PolicyStatement } from '../../src/core/types.js';
import { allowWebIdentity, policyDoc as doc, GITLAB_COM_PROVIDER } from './fixtures.js';

const src = (name: string, ...statements: PolicyStatement[]): PermissionSource => ({
  name,
  document: doc(...statements),
});
const ids = (fs: Finding[]) => fs.map((f) => f.ruleId).sort();

describe('lintPermissions', () => {
  it.each([
    ['AdministratorAccess by ARN', [], ['arn:aws:iam::aws:policy/AdministratorAccess'], ['GAO030']],
    [
      'AdministratorAccess in aws-us-gov',
      [],
      ['arn:aws-us-gov:iam::aws:policy/AdministratorAccess'],
      ['GAO030'],
    ],
    ['PowerUserAccess', [], ['arn:aws:iam::aws:policy/PowerUserAccess'], ['GAO030']],
    ['IAMFullAccess', [], ['arn:aws:iam::aws:policy/IAMFullAccess'], ['GAO031']],
    ['"*" action', [src('p', { Effect: 'Allow', Action: '*', Resource: '*' })], [], ['GAO030']],
    ['"*:*" action', [src('p', { Effect: 'Allow', Action: ['*:*'], Resource: '*' })], [], ['GAO030']],
    ['NotAction on *', [src('p', { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' })], [], ['GAO030']],
    ['iam:*', [src('p', { Effect: 'Allow', Action: 'iam:*', Resource: '*' })], [], ['GAO031']],
    [
      'iam:Put* escalation',
      [src('p', { Effect: 'Allow', Action: 'iam:Put*', Resource: '*' })],
      [],
      ['GAO031'],
    ],
    [
      'iam:PassRole on *',
      [src('p', { Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' })],
      [],
      ['GAO031'],
    ],
    [
      'sts:AssumeRole on *',
      [src('p', { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' })],
      [],
      ['GAO032'],
    ],
    ['sts:* on *', [src('p', { Effect: 'Allow', Action: 'sts:*', Resource: '*' })], [], ['GAO032']],
    ['s3:* on *', [src('p', { Effect: 'Allow', Action: 's3:*', Resource: '*' })], [], ['GAO033']],
    [
      's3:* on one bucket',
      [src('p', { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::site/*' })],
      [],
      [],
    ],
    [
      'sts:AssumeRole on one role',
      [src('p', { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::1:role/x' })],
      [],
      [],
    ],
    [
      'scoped deploy',
      [src('p', { Effect: 'Allow', Action: ['s3:PutObject', 's3:ListBucket'], Resource: '*' })],
      [],
      [],
    ],
    ['Deny * is fine', [src('p', { Effect: 'Deny', Action: '*', Resource: '*' })], [], []],
    ['ReadOnlyAccess', [], ['arn:aws:iam::aws:policy/ReadOnlyAccess'], []],
  ] as const)('%s', (_name, sources, arns, expected) => {
    expect(ids(lintPermissions([...sources], [...arns]))).toEqual([...expected].sort());
  });

  it('names the policy, statement and action, and does not double-report an ARN given twice', () => {
    const arn = 'arn:aws:iam::123456789012:policy/ci';
    const findings = lintPermissions(
      [{ arn, document: doc({ Sid: 'All', Effect: 'Allow', Action: 'iam:*', Resource: '*' }) }],
      [arn, 'arn:aws:iam::aws:policy/AdministratorAccess'],
    );
    expect(ids(findings)).toEqual(['GAO030', 'GAO031']);
    expect(findings.find((f) => f.ruleId === 'GAO031')).toMatchObject({
      statementIndex: 0,
      sid: 'All',
      value: 'iam:*',
      severity: 'high',
      target: { kind: 'policy', id: arn, arn },
    });
    expect(findings.find((f) => f.ruleId === 'GAO030')?.fix).toContain('detach-role-policy');
  });
});

describe('classifyAccess', () => {
  it.each([
    ['read-only managed policy', [], ['arn:aws:iam::aws:policy/ReadOnlyAccess'], 'read-only'],
    ['admin', [], ['arn:aws:iam::aws:policy/AdministratorAccess'], 'write'],
    ['unknown customer policy without document', [], ['arn:aws:iam::1:policy/x'], 'unknown'],
    [
      'Get/List/Describe only',
      [src('p', { Effect: 'Allow', Action: ['s3:GetObject', 'ec2:Describe*', 's3:List*'], Resource: '*' })],
      [],
      'read-only',
    ],
    [
      'one write action',
      [src('p', { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: '*' })],
      [],
      'write',
    ],
    ['nothing', [], [], 'unknown'],
  ] as const)('%s → %s', (_n, sources, arns, expected) => {
    expect(classifyAccess([...sources], [...arns])).toBe(expected);
  });
});

describe('account helpers', () => {
  it('flags MaxSessionDuration far above need', () => {
    expect(lintMaxSessionDuration(3600, 'r')).toEqual([]);
    expect(lintMaxSessionDuration(7200, 'r')).toEqual([]);
    expect(lintMaxSessionDuration(10800, 'r').map((f) => [f.ruleId, f.severity])).toEqual([
      ['GAO040', 'low'],
    ]);
    const [long] = lintMaxSessionDuration(43200, 'deploy');
    expect(long).toMatchObject({ ruleId: 'GAO040', severity: 'medium', value: '43200' });
    expect(long?.fix).toBe('aws iam update-role --role-name deploy --max-session-duration 3600');
    expect(lintMaxSessionDuration(14400, 'r', 7200)).toEqual([]);
  });

  it('finds providers no role trusts and audiences no role checks', () => {
    const gl = GITLAB_COM_PROVIDER;
    const sm = 'arn:aws:iam::123456789012:oidc-provider/gitlab.example.com';
    const role = {
      name: 'deploy',
      trustPolicy: doc(
        allowWebIdentity({
          StringEquals: {
            'gitlab.com:aud': 'https://gitlab.com',
            'gitlab.com:sub': 'project_path:a/b:ref_type:branch:ref:main',
          },
        }),
      ),
    };
    const findings = lintProviderUsage({
      providers: [
        { arn: gl, url: 'gitlab.com', clientIds: ['https://gitlab.com', 'sts.amazonaws.com'] },
        { arn: sm, url: 'gitlab.example.com', clientIds: ['https://gitlab.example.com'] },
      ],
      roles: [role],
    });
    expect(findings.map((f) => [f.ruleId, f.target?.arn, f.value])).toEqual([
      ['GAO042', gl, 'sts.amazonaws.com'],
      ['GAO041', sm, undefined],
    ]);
  });

  it.each([
    ['StringEquals', 'https://gitlab.com', []],
    ['StringEquals', 'HTTPS://GITLAB.COM', ['https://gitlab.com']],
    ['StringEqualsIgnoreCase', 'HTTPS://GITLAB.COM', []],
    ['StringLike', 'https://*', []],
    ['StringLike', 'sts.*', ['https://gitlab.com']],
    ['StringNotEquals', 'https://gitlab.com', ['https://gitlab.com']], // not a check of the audience
  ])('GAO042: aud %s %j checks the client ID (unchecked: %j)', (operator, aud, unchecked) => {
    const gl = GITLAB_COM_PROVIDER;
    const role = {
      name: 'deploy',
      trustPolicy: doc(allowWebIdentity({ [operator]: { 'gitlab.com:aud': aud } })),
    };
    const findings = lintProviderUsage({
      providers: [{ arn: gl, url: 'https://gitlab.com', clientIds: ['https://gitlab.com'] }],
      roles: [role],
    });
    expect(findings.filter((f) => f.ruleId === 'GAO042').map((f) => f.value)).toEqual(unchecked);
  });
});
