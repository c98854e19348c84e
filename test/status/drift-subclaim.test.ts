/** status reads back a trust policy written with --sub-claim project-id (project_id:<id>:… in sub). */
import { describe, expect, it } from 'vitest';
import { parseIssuerUrl } from '../../src/core/issuer.js';
import { policyDigest } from '../../src/core/ownership.js';
import { buildTrustPolicy } from '../../src/core/trust-policy.js';
import {
  GITLAB_URL_TAG,
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  type OidcProviderState,
  type PolicyDocument,
  PROJECT_TAG,
  type RoleState,
  type TrustInput,
} from '../../src/core/types.js';
import {
  describeSubject,
  detectDrift,
  recoverWrittenTrust,
  summarizeTrust,
  trustInputsOf,
} from '../../src/status/drift.js';

const URL = 'https://git.example.com';
const provider: OidcProviderState = {
  arn: 'arn:aws:iam::123456789012:oidc-provider/git.example.com',
  url: 'git.example.com',
  clientIds: [URL],
  thumbprints: [],
  tags: {},
};
const trustInput = (over: Partial<TrustInput> = {}): TrustInput => ({
  providerArn: provider.arn,
  issuer: parseIssuerUrl(URL),
  audience: URL,
  projectPath: 'grp/app',
  refs: [
    { type: 'branch', pattern: 'main' },
    { type: 'tag', pattern: 'v*' },
  ],
  projectId: '42',
  subClaim: 'project_id',
  ...over,
});
const roleWith = (trustPolicy: PolicyDocument): RoleState => ({
  name: 'gitlab-grp-app',
  path: '/gitlab-oidc/',
  arn: 'arn:aws:iam::123456789012:role/gitlab-oidc/gitlab-grp-app',
  trustPolicy,
  maxSessionDuration: 3600,
  tags: { [MANAGED_BY_TAG]: MANAGED_BY_VALUE, [PROJECT_TAG]: 'grp/app', [GITLAB_URL_TAG]: URL },
  attachedPolicyArns: [],
});

describe('status: a project_id-first trust policy', () => {
  const written = buildTrustPolicy(trustInput()).policy;

  it('is what init writes: no drift, and the inputs read back in the project_id form', () => {
    const role = roleWith(written);
    expect(detectDrift({ role, providers: [provider] })).toEqual([]);
    expect(trustInputsOf(role, provider, 'grp/app')).toMatchObject({
      subClaim: 'project_id',
      projectId: '42',
      refs: trustInput().refs,
    });
  });

  it('names the project by ID in what it trusts', () => {
    const subjects = summarizeTrust(written).subjects;
    expect(subjects.map((s) => describeSubject(s, 'grp/app'))).toEqual([
      'branch main of project 42',
      'tag v* of project 42',
    ]);
  });

  it('recovers the written trust from the record after a ref was added by hand', () => {
    const handEdited = buildTrustPolicy(
      trustInput({ refs: [...trustInput().refs, { type: 'branch', pattern: 'dev' }] }),
    ).policy;
    const inputs = trustInputsOf(roleWith(handEdited), provider, 'grp/app');
    expect(inputs).toBeDefined();
    const digest = policyDigest(written);
    expect(recoverWrittenTrust(inputs!, (doc) => policyDigest(doc) === digest)).toEqual(written);
  });

  it('two project IDs, or both forms at once, are drift (init writes one project in one form)', () => {
    const mixed = structuredClone(written);
    const st = (mixed.Statement as { Condition: Record<string, Record<string, unknown>> }[])[0]!;
    st.Condition.StringLike!['git.example.com:sub'] = [
      'project_id:42:ref_type:branch:ref:main',
      'project_path:grp/app:ref_type:branch:ref:main',
    ];
    const drift = detectDrift({ role: roleWith(mixed), providers: [provider] });
    expect(drift.map((d) => d.what)).toContain('project');
    expect(drift.find((d) => d.what === 'project')?.message).toMatch(/project ID 42 next to project paths/);
    st.Condition.StringLike!['git.example.com:sub'] = [
      'project_id:42:ref_type:branch:ref:main',
      'project_id:43:ref_type:branch:ref:main',
    ];
    expect(
      detectDrift({ role: roleWith(mixed), providers: [provider] }).find((d) => d.what === 'project')
        ?.message,
    ).toMatch(/several project IDs \(42, 43\)/);
  });
});
