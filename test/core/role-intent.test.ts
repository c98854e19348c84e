import { describe, expect, it } from 'vitest';
import { parseIssuerUrl } from '../../src/core/issuer.js';
import { describeRefs, readRoleIntent } from '../../src/core/role-intent.js';
import { buildTrustPolicy } from '../../src/core/trust-policy.js';
import type { PolicyDocument, RefRule, RoleState } from '../../src/core/types.js';

const PROVIDER = 'arn:aws:iam::111122223333:oidc-provider/gitlab.com';
const TOOL_POLICY = 'arn:aws:iam::111122223333:policy/gitlab-oidc/gitlab-grp-app-permissions';

function role(trustPolicy: PolicyDocument, extra: Partial<RoleState> = {}): RoleState {
  return {
    name: 'gitlab-grp-app',
    path: '/gitlab-oidc/',
    arn: 'arn:aws:iam::111122223333:role/gitlab-oidc/gitlab-grp-app',
    trustPolicy,
    maxSessionDuration: 3600,
    tags: { 'gitlab-aws-oidc:gitlab-url': 'https://gitlab.com' },
    attachedPolicyArns: [],
    ...extra,
  };
}

const written = (
  refs: RefRule[],
  more: {
    projectId?: string;
    protectedOnly?: boolean;
    audience?: string;
    subClaim?: 'project_path' | 'project_id';
    issuer?: string;
  } = {},
) =>
  buildTrustPolicy({
    providerArn: PROVIDER,
    issuer: parseIssuerUrl(more.issuer ?? 'https://gitlab.com'),
    audience: more.audience ?? 'https://gitlab.com',
    subClaim: more.subClaim,
    projectPath: 'grp/app',
    refs,
    projectId: more.projectId,
    protectedOnly: more.protectedOnly,
  }).policy;

describe('readRoleIntent: a role read back into init inputs', () => {
  it('reads back exactly what init wrote: refs (branches first), audience, pins, settings', () => {
    const refs: RefRule[] = [
      { type: 'tag', pattern: 'v*' },
      { type: 'branch', pattern: 'main' },
      { type: 'branch', pattern: 'release/*' },
    ];
    const intent = readRoleIntent(
      role(written(refs, { projectId: '42', protectedOnly: true, audience: 'sts.amazonaws.com' }), {
        attachedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess', TOOL_POLICY],
        permissionsBoundaryArn: 'arn:aws:iam::111122223333:policy/Boundary',
        maxSessionDuration: 7200,
      }),
      { projectPath: 'grp/app', toolPolicyArn: TOOL_POLICY },
    );
    expect(intent).toEqual({
      refs: [refs[1], refs[2], refs[0]],
      subClaim: 'project_path',
      audience: 'sts.amazonaws.com',
      projectId: '42',
      namespaceId: undefined,
      protectedOnly: true,
      managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      toolPolicyAttached: true,
      permissionsBoundaryArn: 'arn:aws:iam::111122223333:policy/Boundary',
      maxSessionDuration: 7200,
      rolePath: '/gitlab-oidc/',
      gitlabUrl: 'https://gitlab.com',
    });
    expect(describeRefs(intent.refs!)).toBe('main, release/*, tag v*');
  });

  it.each([
    ['another project', 'project_path:grp/other:ref_type:branch:ref:main', 'StringEquals'],
    ['a project_id sub with a non-numeric ID', 'project_id:abc:ref_type:branch:ref:main', 'StringEquals'],
    ['a custom sub shape', 'project_path:grp/app:ref_type:branch:ref:main:environment:prod', 'StringEquals'],
    [
      'a wildcard under StringEquals (a literal *)',
      'project_path:grp/app:ref_type:branch:ref:release/*',
      'StringEquals',
    ],
    ['a sub under StringNotLike', 'project_path:grp/app:ref_type:branch:ref:main', 'StringNotLike'],
  ])('gives no refs for %s (the caller falls back, never guesses)', (_name, sub, operator) => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: PROVIDER },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { 'gitlab.com:aud': 'https://gitlab.com' },
            [operator]: { 'gitlab.com:sub': sub },
          },
        },
      ],
    };
    expect(readRoleIntent(role(doc), { projectPath: 'grp/app' }).refs).toBeUndefined();
  });

  it.each(['https://gitlab.com', 'https://git.example.com'])(
    'reads back a project_id-first trust (--sub-claim project-id) on %s: refs, the ID, the form',
    (issuer) => {
      const refs: RefRule[] = [
        { type: 'branch', pattern: 'main' },
        { type: 'tag', pattern: 'v*' },
      ];
      const doc = written(refs, { projectId: '4242', subClaim: 'project_id', issuer, audience: issuer });
      const intent = readRoleIntent(role(doc), { projectPath: 'grp/app' });
      expect(intent).toMatchObject({ refs, subClaim: 'project_id', projectId: '4242', audience: issuer });
    },
  );

  it.each([
    [
      'two forms at once',
      ['project_id:42:ref_type:branch:ref:main', 'project_path:grp/app:ref_type:branch:ref:dev'],
    ],
    ['two project IDs', ['project_id:42:ref_type:branch:ref:main', 'project_id:43:ref_type:branch:ref:dev']],
  ])('gives no refs for %s in the project_id form', (_name, subs) => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: PROVIDER },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { 'gitlab.com:aud': 'https://gitlab.com', 'gitlab.com:sub': subs } },
        },
      ],
    };
    const intent = readRoleIntent(role(doc), { projectPath: 'grp/app' });
    expect(intent.refs).toBeUndefined();
    expect(intent.subClaim).toBeUndefined();
  });

  it('a project_id sub and a gitlab.com:project_id pin that disagree give no project ID', () => {
    const doc = written([{ type: 'branch', pattern: 'main' }], { projectId: '42', subClaim: 'project_id' });
    const st = (doc.Statement as { Condition: Record<string, Record<string, unknown>> }[])[0]!;
    st.Condition.StringEquals!['gitlab.com:project_id'] = '99';
    expect(readRoleIntent(role(doc), { projectPath: 'grp/app' }).projectId).toBeUndefined();
  });

  it('gives no audience when the trust policy accepts several, and no tool policy when it is not attached', () => {
    const doc = written([{ type: 'branch', pattern: 'main' }]);
    const statement = (doc.Statement as PolicyDocument['Statement'][])[0] as {
      Condition: Record<string, Record<string, unknown>>;
    };
    statement.Condition.StringEquals!['gitlab.com:aud'] = ['https://gitlab.com', 'sts.amazonaws.com'];
    const intent = readRoleIntent(role(doc), { projectPath: 'GRP/App', toolPolicyArn: TOOL_POLICY });
    expect(intent.audience).toBeUndefined();
    expect(intent.refs).toEqual([{ type: 'branch', pattern: 'main' }]);
    expect(intent.toolPolicyAttached).toBe(false);
  });
});
