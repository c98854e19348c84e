import { describe, expect, it } from 'vitest';
import type { ManagedPolicyState, OidcProviderState, RoleState } from '../../src/core/types.js';
import {
  buildDestroyPlan,
  DESTROY_JOURNAL_TAG,
  type DestroyCurrent,
  decodeJournal,
  describeDestroyStep,
  encodeJournal,
} from '../../src/destroy/plan.js';

const TOOL = { 'managed-by': 'gitlab-aws-oidc' };
const P = 'arn:aws:iam::111122223333:oidc-provider/gitlab.example.com';
const provider: OidcProviderState = {
  arn: P,
  url: 'gitlab.example.com',
  clientIds: ['a'],
  thumbprints: [],
  tags: TOOL,
};
const role = (
  name: string,
  project: string,
  attached: string[] = [],
  extraTags: Record<string, string> = {},
): RoleState => ({
  name,
  path: '/gitlab-oidc/',
  arn: `arn:aws:iam::111122223333:role/gitlab-oidc/${name}`,
  trustPolicy: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Federated: P }, Action: 'sts:AssumeRoleWithWebIdentity' }],
  },
  maxSessionDuration: 3600,
  tags: { ...TOOL, 'gitlab-aws-oidc:project': project, ...extraTags },
  attachedPolicyArns: attached,
});
const policy = (name: string, project: string, versions = 1): ManagedPolicyState => ({
  arn: `arn:aws:iam::111122223333:policy/gitlab-oidc/${name}`,
  name,
  path: '/gitlab-oidc/',
  defaultVersionId: `v${versions}`,
  document: { Version: '2012-10-17', Statement: [] },
  versions: Array.from({ length: versions }, (_, i) => ({
    versionId: `v${i + 1}`,
    isDefault: i === versions - 1,
  })),
  tags: { ...TOOL, 'gitlab-aws-oidc:project': project },
});
const current = (over: Partial<DestroyCurrent>): DestroyCurrent => ({
  target: { project: 'g/app' },
  roles: [],
  inlinePolicies: {},
  policies: [],
  providers: [],
  otherRoles: [],
  ...over,
});

describe('buildDestroyPlan', () => {
  it('orders journal, provider, detaches, tool policy versions and policy, role', () => {
    const pol = policy('app-perms', 'g/app', 3);
    const plan = buildDestroyPlan(
      current({
        roles: [role('app', 'g/app', [pol.arn, 'arn:aws:iam::aws:policy/ReadOnlyAccess'])],
        policies: [pol],
        providers: [provider],
      }),
    );
    expect(plan.steps.map(describeDestroyStep)).toEqual([
      'tag role app with the policies being deleted',
      'delete OIDC provider gitlab.example.com',
      `detach ${pol.arn} from role app`,
      'detach arn:aws:iam::aws:policy/ReadOnlyAccess from role app',
      `delete version v1 of ${pol.arn}`,
      `delete version v2 of ${pol.arn}`,
      `delete policy ${pol.arn}`,
      'delete role app',
    ]);
    expect(plan.steps[0]).toEqual({
      kind: 'tagRole',
      roleName: 'app',
      tags: { [DESTROY_JOURNAL_TAG]: '/gitlab-oidc/app-perms' },
    });
  });

  it('a per-group role (destroy --role): its plan line names the projects it trusts, which all lose access', () => {
    const subs = Array.from(
      { length: 7 },
      (_, i) => `project_path:acme/app-${i + 1}:ref_type:branch:ref:main`,
    );
    const packed: RoleState = {
      ...role('gitlab-acme-1', 'unused'),
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: P },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: { 'gitlab.example.com:aud': 'a', 'gitlab.example.com:sub': subs },
            },
          },
        ],
      },
      tags: { ...TOOL, 'gitlab-aws-oidc:per-group': 'acme' },
    };
    const plan = buildDestroyPlan(current({ target: { role: 'gitlab-acme-1' }, roles: [packed] }));
    expect(plan.resources.find((r) => r.kind === 'role')?.reason).toBe(
      'per-group role of acme: the 7 projects it trusts lose access: acme/app-1, acme/app-2, acme/app-3, acme/app-4, acme/app-5 and 2 more',
    );
    // A one-project role's line stays as it was.
    const single = buildDestroyPlan(current({ roles: [role('app', 'g/app')] }));
    expect(single.resources.find((r) => r.kind === 'role')?.reason).toBeUndefined();
  });

  it('does not delete a tool policy of another project; only detaches it', () => {
    const other = policy('other-perms', 'g/other');
    const plan = buildDestroyPlan(current({ roles: [role('app', 'g/app', [other.arn])], policies: [other] }));
    expect(plan.steps.map((s) => s.kind)).toEqual(['detachRolePolicy', 'deleteRole']);
    expect(plan.resources.find((r) => r.arn === other.arn)?.reason).toBe(
      'managed for another project (g/other)',
    );
  });

  it('deletes a shared tool policy once when two roles of the project hold it', () => {
    const pol = policy('app-perms', 'g/app');
    const plan = buildDestroyPlan(
      current({
        roles: [role('a', 'g/app', [pol.arn]), role('b', 'g/app', [pol.arn])],
        policies: [pol],
        providers: [provider],
      }),
    );
    // Both roles detach it before it is deleted (IAM refuses to delete an attached policy).
    expect(plan.steps.map((s) => `${s.kind}${'roleName' in s ? `:${s.roleName}` : ''}`)).toEqual([
      'tagRole:a',
      'tagRole:b',
      'deleteOidcProvider',
      'detachRolePolicy:a',
      'detachRolePolicy:b',
      'deletePolicy',
      'deleteRole:a',
      'deleteRole:b',
    ]);
    expect(plan.resources.filter((r) => r.kind === 'policy')).toEqual([
      { kind: 'policy', id: 'app-perms', arn: pol.arn, action: 'delete' },
    ]);
  });

  it('keeps the provider while a role outside the plan trusts it', () => {
    const plan = buildDestroyPlan(
      current({
        roles: [role('app', 'g/app')],
        providers: [provider],
        otherRoles: [{ name: 'x', providerArns: [P] }],
      }),
    );
    expect(plan.steps.map((s) => s.kind)).toEqual(['deleteRole']);
    expect(plan.resources.find((r) => r.kind === 'oidc-provider')).toMatchObject({
      action: 'keep',
      reason: 'still trusted by role x',
    });
  });

  it('blocks (and plans nothing) for inline policies or an untagged role without --force', () => {
    const untagged = { ...role('manual', 'g/app'), tags: {} };
    const plan = buildDestroyPlan(
      current({ target: { role: 'manual' }, roles: [untagged], providers: [provider] }),
    );
    expect(plan.steps).toEqual([]);
    expect(plan.blockers[0]?.message).toMatch(/not created by gitlab-aws-oidc/);
    expect(plan.resources.find((r) => r.kind === 'oidc-provider')?.action).toBe('keep');
    const forced = buildDestroyPlan(
      current({ target: { role: 'manual' }, roles: [untagged], providers: [provider] }),
      { force: true },
    );
    // The provider follows its own rule: created by the tool and trusted by no remaining role.
    expect(forced.steps.map((s) => s.kind)).toEqual(['deleteOidcProvider', 'deleteRole']);
    const untaggedProvider = { ...provider, tags: {} };
    const forced2 = buildDestroyPlan(
      current({ target: { role: 'manual' }, roles: [untagged], providers: [untaggedProvider] }),
      {
        force: true,
      },
    );
    expect(forced2.steps.map((s) => s.kind)).toEqual(['deleteRole']);
    expect(forced2.resources.find((r) => r.kind === 'oidc-provider')).toMatchObject({
      action: 'keep',
      reason: 'not created by gitlab-aws-oidc',
    });
    const inline = buildDestroyPlan(
      current({ roles: [role('app', 'g/app')], inlinePolicies: { app: ['x'] } }),
    );
    expect(inline.blockers).toHaveLength(1);
    expect(inline.steps).toEqual([]);
  });

  it('finds detached tool policies again through the journal, and orphans of the project without a role', () => {
    const pol = policy('custom', 'g/app', 2);
    const journaled = role('app', 'g/app', [], { [DESTROY_JOURNAL_TAG]: '/gitlab-oidc/custom' });
    const plan = buildDestroyPlan(current({ roles: [journaled], policies: [pol] }));
    expect(plan.steps.map((s) => s.kind)).toEqual(['deletePolicyVersion', 'deletePolicy', 'deleteRole']);
    const orphan = buildDestroyPlan(current({ policies: [pol] }));
    expect(orphan.steps.map((s) => s.kind)).toEqual(['deletePolicyVersion', 'deletePolicy']);
  });
});

describe('journal', () => {
  it('round-trips policy paths and names through a role tag', () => {
    const pols = [policy('b', 'g/app'), policy('a', 'g/app')];
    const value = encodeJournal(pols);
    expect(value).toBe('/gitlab-oidc/a /gitlab-oidc/b');
    const r = role('app', 'g/app', [], { [DESTROY_JOURNAL_TAG]: value as string });
    expect(decodeJournal(r)).toEqual(pols.map((p) => p.arn).sort());
  });

  it('gives up when the value does not fit a tag (length or characters)', () => {
    expect(encodeJournal([policy('x'.repeat(128), 'g'), policy('y'.repeat(128), 'g')])).toBeUndefined();
    expect(encodeJournal([policy('a,b', 'g')])).toBeUndefined();
  });
});
