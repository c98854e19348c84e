import { describe, expect, it } from 'vitest';
import { parseIssuerUrl } from '../../src/core/issuer.js';
import { buildDesiredState, buildPlan, pickVersionToPrune } from '../../src/core/plan.js';
import type {
  CurrentState,
  DesiredState,
  ManagedPolicyState,
  OidcProviderState,
  PolicyDocument,
  RoleState,
} from '../../src/core/types.js';
import { CliError } from '../../src/errors.js';

const issuer = parseIssuerUrl('https://gitlab.com');
const document: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::site/*' }],
};
const READONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';

function desiredFor(over: Partial<Parameters<typeof buildDesiredState>[0]> = {}): DesiredState {
  return buildDesiredState({
    identity: { account: '123456789012', partition: 'aws' },
    issuer,
    audience: 'https://gitlab.com',
    projectPath: 'acme/app',
    refs: [{ type: 'branch', pattern: 'main' }],
    projectId: '42',
    roleName: 'gitlab-acme-app',
    policy: { name: 'gitlab-acme-app-permissions', document },
    managedPolicyArns: [READONLY],
    ...over,
  }).desired;
}

/** What IAM would return after applying `desired` (re-serialised: lists vs scalars, key order). */
function currentFrom(desired: DesiredState): Required<CurrentState> {
  const provider: OidcProviderState = {
    arn: desired.provider.arn,
    url: desired.provider.url.replace('https://', ''),
    clientIds: [...desired.provider.clientIds],
    thumbprints: [],
    tags: { ...desired.provider.tags },
  };
  const policy: ManagedPolicyState = {
    arn: desired.policy!.arn,
    name: desired.policy!.name,
    path: desired.policy!.path,
    defaultVersionId: 'v1',
    document: JSON.parse(
      JSON.stringify(desired.policy!.document).replace('"s3:PutObject"', '["s3:PutObject"]'),
    ),
    versions: [{ versionId: 'v1', isDefault: true }],
    tags: { ...desired.policy!.tags },
  };
  const trust = structuredClone(desired.role.trustPolicy);
  const role: RoleState = {
    name: desired.role.name,
    path: desired.role.path,
    arn: desired.role.arn,
    trustPolicy: { Statement: trust.Statement, Version: trust.Version },
    maxSessionDuration: desired.role.maxSessionDuration,
    description: desired.role.description,
    tags: { extra: 'kept', ...desired.role.tags },
    attachedPolicyArns: [...desired.role.managedPolicyArns].reverse(),
  };
  return { provider, policy, role };
}

const kinds = (steps: { kind: string }[]) => steps.map((s) => s.kind);

describe('buildPlan', () => {
  it('fresh account: creates provider, policy, role and attaches both policies', () => {
    const desired = desiredFor();
    const plan = buildPlan(desired, {});
    expect(kinds(plan.steps)).toEqual([
      'createProvider',
      'createPolicy',
      'createRole',
      'attachPolicy',
      'attachPolicy',
    ]);
    expect(plan.steps[0]).toEqual({
      kind: 'createProvider',
      url: 'https://gitlab.com',
      clientIds: ['https://gitlab.com'],
      thumbprints: [],
      tags: desired.provider.tags,
    });
    expect(
      plan.steps.filter((s) => s.kind === 'attachPolicy').map((s) => (s as { policyArn: string }).policyArn),
    ).toEqual([READONLY, 'arn:aws:iam::123456789012:policy/gitlab-oidc/gitlab-acme-app-permissions']);
    expect(plan.resources.map((r) => [r.kind, r.action])).toEqual([
      ['oidc-provider', 'create'],
      ['policy', 'create'],
      ['role', 'create'],
    ]);
    expect(plan.trustPolicy).toEqual({ before: undefined, after: desired.role.trustPolicy });
    expect(plan.hasChanges).toBe(true);
    expect(plan.broadening).toEqual([]);
  });

  it('identical state (as IAM re-serialises it) is a no-op', () => {
    const desired = desiredFor();
    const plan = buildPlan(desired, currentFrom(desired));
    expect(plan.steps).toEqual([]);
    expect(plan.hasChanges).toBe(false);
    expect(plan.resources.map((r) => r.action)).toEqual(['no-op', 'no-op', 'no-op']);
    expect(plan.warnings).toEqual([]);
  });

  it('existing provider with other audiences: only adds ours, never removes, never tags', () => {
    const desired = desiredFor();
    const current = currentFrom(desired);
    current.provider.clientIds = ['sts.amazonaws.com', 'https://other'];
    current.provider.tags = {};
    const plan = buildPlan(desired, current);
    expect(plan.steps).toEqual([
      { kind: 'addClientId', providerArn: current.provider.arn, clientId: 'https://gitlab.com' },
    ]);
    expect(plan.resources[0]!.changes).toEqual([
      {
        field: 'clientIds',
        from: ['sts.amazonaws.com', 'https://other'],
        to: ['sts.amazonaws.com', 'https://other', 'https://gitlab.com'],
      },
    ]);
  });

  it('thumbprints: updated only when desired ones are given and differ', () => {
    const tp = 'a'.repeat(40);
    const current = currentFrom(desiredFor());
    current.provider.thumbprints = ['b'.repeat(40)];
    expect(buildPlan(desiredFor(), current).steps).toEqual([]);
    const plan = buildPlan(desiredFor({ thumbprints: [tp.toUpperCase()] }), current);
    expect(plan.steps).toEqual([
      { kind: 'updateThumbprints', providerArn: current.provider.arn, thumbprints: [tp] },
    ]);
    current.provider.thumbprints = [tp];
    expect(buildPlan(desiredFor({ thumbprints: [tp] }), current).steps).toEqual([]);
  });

  it('refuses a provider at its 100-audience quota', () => {
    const current = currentFrom(desiredFor());
    current.provider.clientIds = Array.from({ length: 100 }, (_, i) => `aud-${i}`);
    expect(() => buildPlan(desiredFor(), current)).toThrow(expect.objectContaining({ code: 'QUOTA' }));
  });

  it('drifted trust policy: update, flagged as broadening with reasons', () => {
    const current = currentFrom(desiredFor());
    const desired = desiredFor({
      refs: [
        { type: 'branch', pattern: 'main' },
        { type: 'branch', pattern: 'release/*' },
      ],
      projectId: undefined,
    });
    const plan = buildPlan(desired, current);
    expect(plan.steps).toEqual([
      { kind: 'updateTrustPolicy', roleName: 'gitlab-acme-app', trustPolicy: desired.role.trustPolicy },
    ]);
    const change = plan.resources[2]!.changes[0]!;
    expect(change).toMatchObject({
      field: 'trustPolicy',
      from: current.role.trustPolicy,
      to: desired.role.trustPolicy,
      broadening: true,
    });
    expect(plan.broadening).toEqual([
      'Role gitlab-acme-app: the new trust policy allows new sub value(s): project_path:acme/app:ref_type:branch:ref:release/*.',
      'Role gitlab-acme-app: the new trust policy drops the condition stringequals gitlab.com:project_id.',
    ]);
    expect(plan.trustPolicy.before).toBe(current.role.trustPolicy);
  });

  it('narrowing trust drift is an update without broadening', () => {
    const current = currentFrom(
      desiredFor({
        refs: [
          { type: 'branch', pattern: 'main' },
          { type: 'tag', pattern: 'v*' },
        ],
      }),
    );
    const plan = buildPlan(desiredFor(), current);
    expect(kinds(plan.steps)).toEqual(['updateTrustPolicy']);
    expect(plan.resources[2]!.changes[0]!.broadening).toBe(false);
    expect(plan.broadening).toEqual([]);
  });

  it('policy document drift with 5 versions: new version, pruning the oldest non-default', () => {
    const current = currentFrom(desiredFor());
    current.policy.document = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
    };
    current.policy.defaultVersionId = 'v2';
    current.policy.versions = [
      { versionId: 'v2', isDefault: true, createDate: new Date('2024-01-01') },
      { versionId: 'v3', isDefault: false, createDate: new Date('2024-02-01') },
      { versionId: 'v4', isDefault: false, createDate: new Date('2024-03-01') },
      { versionId: 'v5', isDefault: false, createDate: new Date('2024-04-01') },
      { versionId: 'v6', isDefault: false, createDate: new Date('2024-05-01') },
    ];
    const plan = buildPlan(desiredFor(), current);
    expect(plan.steps).toEqual([
      {
        kind: 'createPolicyVersion',
        policyArn: current.policy.arn,
        document: desiredFor().policy!.document,
        pruneVersionId: 'v3',
      },
    ]);
    current.policy.versions = current.policy.versions.slice(0, 4);
    expect(buildPlan(desiredFor(), current).steps[0]).toMatchObject({ pruneVersionId: undefined });
  });

  it('pickVersionToPrune falls back to version numbers without dates', () => {
    const versions = ['v10', 'v7', 'v9', 'v8', 'v11'].map((versionId) => ({
      versionId,
      isDefault: versionId === 'v7',
    }));
    const policy = { ...currentFrom(desiredFor()).policy, versions, defaultVersionId: 'v7' };
    expect(pickVersionToPrune(policy)).toBe('v8');
  });

  it('refuses an existing role not tagged as tool-managed', () => {
    const current = currentFrom(desiredFor());
    current.role.tags = { owner: 'team-x' };
    let caught: unknown;
    try {
      buildPlan(desiredFor(), current);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect(caught).toMatchObject({
      code: 'NOT_MANAGED',
      message: expect.stringMatching(/Role "gitlab-acme-app" already exists/),
    });
    expect((caught as CliError).hint).toMatch(/--adopt-existing/);
  });

  it('refuses a role managed for another project', () => {
    const current = currentFrom(desiredFor({ projectPath: 'acme/other' }));
    expect(() => buildPlan(desiredFor(), current)).toThrow(
      /managed by gitlab-aws-oidc for project acme\/other, not acme\/app/,
    );
  });

  // A project is its path on one instance: grp/app on a private GitLab and grp/app on gitlab.com
  // (which anyone may register) are different projects.
  it('refuses a role managed for the same path on another GitLab instance, unless adopting', () => {
    const internal = parseIssuerUrl('https://gitlab.internal.example');
    const current = currentFrom(
      desiredFor({ issuer: internal, audience: internal.url, projectId: undefined }),
    );
    expect(() => buildPlan(desiredFor(), current)).toThrow(
      expect.objectContaining({
        code: 'OTHER_PROJECT',
        message: expect.stringMatching(/acme\/app on https:\/\/gitlab\.internal\.example, not .*gitlab\.com/),
      }),
    );
    expect(buildPlan(desiredFor(), current, { adoptExisting: true }).hasChanges).toBe(true);
  });

  it('refuses an existing untagged policy with the same name', () => {
    const current = currentFrom(desiredFor());
    current.policy.tags = {};
    expect(() => buildPlan(desiredFor(), current)).toThrow(expect.objectContaining({ code: 'NOT_MANAGED' }));
  });

  it('adopting an untagged role only adds: trust, tags, attachments; no detach, no boundary removal', () => {
    const desired = desiredFor();
    const current = currentFrom(desired);
    current.role.tags = { owner: 'team-x' };
    current.role.attachedPolicyArns = ['arn:aws:iam::123456789012:policy/legacy'];
    current.role.permissionsBoundaryArn = 'arn:aws:iam::123456789012:policy/boundary';
    current.role.trustPolicy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole' },
      ],
    };
    const plan = buildPlan(desired, current, { adoptExisting: true });
    expect(kinds(plan.steps)).toEqual(['updateTrustPolicy', 'tagRole', 'attachPolicy', 'attachPolicy']);
    expect(plan.steps[1]).toEqual({ kind: 'tagRole', roleName: 'gitlab-acme-app', tags: desired.role.tags });
    expect(plan.warnings.join('\n')).toMatch(/keeps its permissions boundary/);
    expect(plan.warnings.join('\n')).toMatch(/left as they are: arn:aws:iam::123456789012:policy\/legacy/);
    expect(plan.broadening.join('\n')).toMatch(/trusts new principal/);
  });

  it('a managed role: detaches undesired policies, updates settings, boundary and tags', () => {
    const desired = desiredFor({
      maxSessionDuration: 7200,
      permissionsBoundaryArn: 'arn:aws:iam::123456789012:policy/boundary',
      tags: { team: 'ops' },
    });
    const current = currentFrom(desiredFor());
    current.role.attachedPolicyArns.push('arn:aws:iam::aws:policy/AdministratorAccess');
    const plan = buildPlan(desired, current);
    expect(plan.steps).toEqual([
      {
        kind: 'updateRole',
        roleName: 'gitlab-acme-app',
        maxSessionDuration: 7200,
        description: desired.role.description,
      },
      {
        kind: 'putPermissionsBoundary',
        roleName: 'gitlab-acme-app',
        boundaryArn: 'arn:aws:iam::123456789012:policy/boundary',
      },
      { kind: 'tagRole', roleName: 'gitlab-acme-app', tags: { team: 'ops' } },
      {
        kind: 'detachPolicy',
        roleName: 'gitlab-acme-app',
        policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
      },
    ]);
    expect(plan.resources[2]!.changes.map((c) => c.field)).toEqual([
      'maxSessionDuration',
      'permissionsBoundaryArn',
      'tags',
      'managedPolicyArns',
    ]);
  });

  it('removes a boundary from a managed role with a warning', () => {
    const current = currentFrom(desiredFor());
    current.role.permissionsBoundaryArn = 'arn:aws:iam::123456789012:policy/boundary';
    const plan = buildPlan(desiredFor(), current);
    expect(plan.steps).toEqual([{ kind: 'deletePermissionsBoundary', roleName: 'gitlab-acme-app' }]);
    expect(plan.warnings.join('\n')).toMatch(/widens what it can do/);
  });

  it('warns when the role lives at another path and carries options notes', () => {
    const current = currentFrom(desiredFor());
    current.role.path = '/';
    const plan = buildPlan(desiredFor(), current, { warnings: ['w1'], broadening: ['b1'] });
    expect(plan.steps).toEqual([]);
    expect(plan.warnings).toEqual(['w1', expect.stringMatching(/exists at path \/, not \/gitlab-oidc\//)]);
    expect(plan.broadening).toEqual(['b1']);
  });

  it('warns above the default attached-policies quota', () => {
    const arns = Array.from({ length: 10 }, (_, i) => `arn:aws:iam::123456789012:policy/p${i}`);
    const plan = buildPlan(desiredFor({ managedPolicyArns: arns }), {});
    expect(plan.warnings.join('\n')).toMatch(/11 managed policies; IAM's default quota is 10/);
  });
});
