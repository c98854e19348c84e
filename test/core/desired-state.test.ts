import { describe, expect, it } from 'vitest';
import { buildDesiredState, type DesiredStateInput } from '../../src/core/desired-state.js';
import { parseIssuerUrl } from '../../src/core/issuer.js';
import type { PolicyStatement, RefRule } from '../../src/core/types.js';
import { usageError } from '../helpers/usage-error.js';

const base: DesiredStateInput = {
  identity: { account: '123456789012', partition: 'aws-us-gov' },
  issuer: parseIssuerUrl('https://git.example.com/gitlab'),
  audience: 'https://git.example.com/gitlab',
  projectPath: 'acme/app',
  refs: [{ type: 'branch', pattern: 'main' }],
  roleName: 'gitlab-acme-app',
  managedPolicyArns: ['arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess'],
};

describe('buildDesiredState', () => {
  it('derives ARNs, defaults and the tool tags', () => {
    const { desired, warnings, broadening } = buildDesiredState({ ...base, tags: { team: 'ops' } });
    expect(desired.provider).toEqual({
      url: 'https://git.example.com/gitlab',
      arn: 'arn:aws-us-gov:iam::123456789012:oidc-provider/git.example.com/gitlab',
      clientIds: ['https://git.example.com/gitlab'],
      thumbprints: [],
      tags: {
        team: 'ops',
        'managed-by': 'gitlab-aws-oidc',
        'gitlab-aws-oidc:gitlab-url': 'https://git.example.com/gitlab',
      },
    });
    expect(desired.role).toMatchObject({
      name: 'gitlab-acme-app',
      path: '/gitlab-oidc/',
      arn: 'arn:aws-us-gov:iam::123456789012:role/gitlab-oidc/gitlab-acme-app',
      maxSessionDuration: 3600,
      permissionsBoundaryArn: undefined,
      managedPolicyArns: ['arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess'],
      tags: {
        team: 'ops',
        'managed-by': 'gitlab-aws-oidc',
        'gitlab-aws-oidc:gitlab-url': 'https://git.example.com/gitlab',
        'gitlab-aws-oidc:project': 'acme/app',
      },
    });
    expect(desired.role.description).toMatch(/acme\/app/);
    const st = (desired.role.trustPolicy.Statement as PolicyStatement[])[0]!;
    expect(st.Principal).toEqual({ Federated: desired.provider.arn });
    expect(desired.policy).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(broadening).toEqual([]);
  });

  it('adds the tool policy ARN to the attached list, once', () => {
    const document = {
      Version: '2012-10-17' as const,
      Statement: [{ Effect: 'Allow' as const, Action: 's3:GetObject', Resource: 'arn:aws-us-gov:s3:::b/*' }],
    };
    const policyArn = 'arn:aws-us-gov:iam::123456789012:policy/gitlab-oidc/p';
    const { desired } = buildDesiredState({
      ...base,
      managedPolicyArns: [policyArn, ...(base.managedPolicyArns ?? [])],
      policy: { name: 'p', document },
    });
    expect(desired.policy).toEqual({
      name: 'p',
      path: '/gitlab-oidc/',
      arn: policyArn,
      document,
      tags: desired.role.tags,
    });
    expect(desired.role.managedPolicyArns).toEqual([
      policyArn,
      'arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess',
    ]);
  });

  it('collects trust warnings, broad-permission warnings and accepted broadening', () => {
    const { warnings, broadening } = buildDesiredState({
      ...base,
      refs: [{ type: 'branch', pattern: '*' }],
      allowAnyRef: true,
      managedPolicyArns: ['arn:aws-us-gov:iam::aws:policy/AdministratorAccess'],
    });
    expect(warnings.join('\n')).toMatch(/Ref patterns/);
    expect(warnings.join('\n')).toMatch(/AdministratorAccess gives the CI role admin-level access/);
    expect(broadening).toHaveLength(1);
  });

  it('warns when the role gets no permissions at all', () => {
    expect(buildDesiredState({ ...base, managedPolicyArns: [] }).warnings.join('\n')).toMatch(
      /no permission policy/,
    );
  });

  it('leaves room for the tool tags and the ownership record within 50 tags', () => {
    const tags = Object.fromEntries(Array.from({ length: 42 }, (_, i) => [`k${i}`, 'v']));
    expect(Object.keys(buildDesiredState({ ...base, tags }).desired.role.tags)).toHaveLength(45);
  });

  it('normalises thumbprints', () => {
    const tp = 'AB:'.repeat(19) + 'AB';
    expect(
      buildDesiredState({ ...base, thumbprints: [tp, 'ab'.repeat(20)] }).desired.provider.thumbprints,
    ).toEqual(['ab'.repeat(20)]);
  });

  it.each([
    [{ thumbprints: ['xyz'] }, '--thumbprint'],
    [{ thumbprints: Array.from({ length: 6 }, (_, i) => String(i).repeat(40)) }, '--thumbprint'],
    [{ tags: { 'managed-by': 'me' } }, '--aws-tag'],
    [{ tags: { 'aws:x': 'y' } }, '--aws-tag'],
    [{ tags: Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`k${i}`, 'v'])) }, '--aws-tag'],
    // The ownership record's keys are the tool's, and count towards IAM's 50 tags per role.
    [{ tags: { 'gitlab-aws-oidc:trust': 'x' } }, '--aws-tag'],
    [{ tags: Object.fromEntries(Array.from({ length: 43 }, (_, i) => [`k${i}`, 'v'])) }, '--aws-tag'],
    [{ roleName: 'bad name' }, '--role-name'],
    [{ rolePath: 'nope' }, '--role-path'],
    [{ maxSessionDuration: 60 }, '--max-session-duration'],
    [{ permissionsBoundaryArn: 'arn:aws:iam::123456789012:policy/b' }, '--permissions-boundary'],
    [{ managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }, '--managed-policy'],
    [{ projectPath: 'acme/*' }, '--project'],
    [{ description: 'x'.repeat(1001) }, 'role description'],
    [
      { policy: { name: 'p', path: 'bad', document: { Version: '2012-10-17' as const, Statement: [] } } },
      '--policy-path',
    ],
  ] as Array<[Partial<DesiredStateInput>, string]>)('refuses %j naming %s', (over, field) => {
    expect(usageError(() => buildDesiredState({ ...base, ...over })).issues[0]?.field).toBe(field);
  });

  it('enforces the trust policy quota, which can be raised', () => {
    const refs: RefRule[] = Array.from({ length: 40 }, (_, i) => ({
      type: 'branch',
      pattern: `feature/number-${i}`,
    }));
    expect(usageError(() => buildDesiredState({ ...base, refs })).message).toMatch(
      /over the 2048-character quota/,
    );
    expect(
      buildDesiredState({ ...base, refs, trustPolicyQuota: 4096 }).desired.role.trustPolicy,
    ).toBeTruthy();
  });
});
