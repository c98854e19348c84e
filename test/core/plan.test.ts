import { describe, expect, it } from 'vitest';
import { parseIssuerUrl } from '../../src/core/issuer.js';
import {
  arnDigest,
  policyDigest,
  policyRecordTags,
  RECORD_TAGS,
  roleRecordTags,
  unfinishedCreationTags,
  valueDigest,
} from '../../src/core/ownership.js';
import { alignRolePath, buildDesiredState, buildPlan, pickVersionToPrune } from '../../src/core/plan.js';
import type {
  CurrentState,
  DesiredState,
  ManagedPolicyState,
  OidcProviderState,
  PolicyDocument,
  RoleState,
} from '../../src/core/types.js';
import { CliError, exitCodeFor, UsageError } from '../../src/errors.js';

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

type FullState = Required<Pick<CurrentState, 'provider' | 'policy' | 'role'>> & CurrentState;

/**
 * What IAM would return after applying `desired` (re-serialised: lists vs scalars, key order), with
 * the ownership record the run wrote (`record: false`: a role made by an older version, without one).
 */
function currentFrom(desired: DesiredState, { record = true } = {}): FullState {
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
    tags: { ...desired.policy!.tags, ...(record ? policyRecordTags(desired.policy!.document) : {}) },
  };
  const trust = structuredClone(desired.role.trustPolicy);
  const role: RoleState = {
    name: desired.role.name,
    path: desired.role.path,
    arn: desired.role.arn,
    trustPolicy: { Statement: trust.Statement, Version: trust.Version },
    maxSessionDuration: desired.role.maxSessionDuration,
    permissionsBoundaryArn: desired.role.permissionsBoundaryArn,
    description: desired.role.description,
    tags: {
      extra: 'kept',
      ...desired.role.tags,
      ...(record ? roleRecordTags({ ...desired.role, attachedByTool: desired.role.managedPolicyArns }) : {}),
    },
    attachedPolicyArns: [...desired.role.managedPolicyArns].reverse(),
  };
  return { provider, policy, role };
}

const kinds = (steps: { kind: string }[]) => steps.map((s) => s.kind);

describe('buildPlan', () => {
  it('fresh account: creates provider, policy, role (its whole record in its tags), attaches both; no TagRole', () => {
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
    // The record travels with what it describes: the document with CreatePolicy, the role's fields and
    // the attachments it is about to make with CreateRole (an interrupted run records what it really
    // attached itself: aws/apply.ts).
    const record = roleRecordTags({ ...desired.role, attachedByTool: desired.role.managedPolicyArns });
    expect(plan.steps[1]).toMatchObject({
      tags: { ...desired.policy!.tags, ...policyRecordTags(desired.policy!.document) },
    });
    expect(plan.steps[2]).toMatchObject({ tags: { ...desired.role.tags, ...record } });
    expect(plan.resources.map((r) => [r.kind, r.action])).toEqual([
      ['oidc-provider', 'create'],
      ['policy', 'create'],
      ['role', 'create'],
    ]);
    expect(plan.trustPolicy).toEqual({ before: undefined, after: desired.role.trustPolicy });
    expect(plan.hasChanges).toBe(true);
    expect(plan.broadening).toEqual([]);
    expect(plan.consents).toEqual([]);
  });

  it('a role with no managed policy records everything with CreateRole (no TagRole after it)', () => {
    const desired = desiredFor({ policy: undefined, managedPolicyArns: [] });
    const plan = buildPlan(desired, {});
    expect(kinds(plan.steps)).toEqual(['createProvider', 'createRole']);
    expect(plan.steps[1]).toMatchObject({ tags: { [RECORD_TAGS.attached]: 'none' } });
  });

  it('identical state (as IAM re-serialises it) is a no-op', () => {
    const desired = desiredFor();
    const plan = buildPlan(desired, currentFrom(desired));
    expect(plan.steps).toEqual([]);
    expect(plan.hasChanges).toBe(false);
    expect(plan.resources.map((r) => r.action)).toEqual(['no-op', 'no-op', 'no-op']);
    expect(plan.warnings).toEqual([]);
  });

  it('existing provider with other audiences: only adds ours (a widening), never removes, never tags', () => {
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
        broadening: true,
        needs: ['allow-widening'],
      },
    ]);
    expect(plan.consents).toEqual([
      {
        consent: 'allow-widening',
        resource: 'https://gitlab.com',
        field: 'clientIds',
        message:
          'OIDC provider gitlab.com: adds audience (client ID) "https://gitlab.com" to ["sts.amazonaws.com","https://other"]',
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

  it('new inputs that broaden trust: update (no drift), each reason needs --allow-widening', () => {
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
      {
        kind: 'tagRole',
        roleName: 'gitlab-acme-app',
        tags: { [RECORD_TAGS.trust]: policyDigest(desired.role.trustPolicy) },
      },
    ]);
    const change = plan.resources[2]!.changes[0]!;
    expect(change).toMatchObject({
      field: 'trustPolicy',
      from: current.role.trustPolicy,
      to: desired.role.trustPolicy,
      broadening: true,
      needs: ['allow-widening'],
    });
    expect(change.drift).toBeUndefined();
    expect(plan.broadening).toEqual([
      'Role gitlab-acme-app: the new trust policy allows new sub value(s): project_path:acme/app:ref_type:branch:ref:release/*.',
      'Role gitlab-acme-app: the new trust policy drops the condition gitlab.com:project_id = "42".',
    ]);
    expect(plan.consents.map((c) => [c.consent, c.message])).toEqual([
      [
        'allow-widening',
        'Role gitlab-acme-app: trust policy allows new sub value(s): project_path:acme/app:ref_type:branch:ref:release/*',
      ],
      [
        'allow-widening',
        'Role gitlab-acme-app: trust policy drops the condition gitlab.com:project_id = "42"',
      ],
    ]);
    expect(plan.trustPolicy.before).toBe(current.role.trustPolicy);
  });

  it('narrowing the trust policy is an update that needs no consent', () => {
    const current = currentFrom(
      desiredFor({
        refs: [
          { type: 'branch', pattern: 'main' },
          { type: 'tag', pattern: 'v*' },
        ],
      }),
    );
    const plan = buildPlan(desiredFor(), current);
    expect(kinds(plan.steps)).toEqual(['updateTrustPolicy', 'tagRole']);
    expect(plan.resources[2]!.changes[0]!.broadening).toBe(false);
    expect(plan.broadening).toEqual([]);
    expect(plan.consents).toEqual([]);
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
    // A default-name collision is bad input (pick another name), not a failure: exit 2.
    expect(exitCodeFor(caught)).toBe(2);
  });

  it('refuses a role managed for another project', () => {
    const current = currentFrom(desiredFor({ projectPath: 'acme/other' }));
    expect(() => buildPlan(desiredFor(), current)).toThrow(
      /managed by gitlab-aws-oidc for project acme\/other, not acme\/app/,
    );
    let caught: unknown;
    try {
      buildPlan(desiredFor(), current);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'OTHER_PROJECT' });
    expect(exitCodeFor(caught)).toBe(2);
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

  it('adopting an untagged role: trust, tags, attachments (widening); its boundary and policies are kept', () => {
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
    expect(kinds(plan.steps)).toEqual(['updateTrustPolicy', 'attachPolicy', 'attachPolicy', 'tagRole']);
    // The tool's tags and a record that says "the tool set no boundary": the next run keeps it too.
    expect(plan.steps[3]).toEqual({
      kind: 'tagRole',
      roleName: 'gitlab-acme-app',
      tags: {
        ...desired.role.tags,
        ...roleRecordTags({ ...desired.role, attachedByTool: desired.role.managedPolicyArns }),
      },
    });
    expect(plan.resources[2]!.notes).toEqual([
      'kept: permissions boundary arn:aws:iam::123456789012:policy/boundary (not set by gitlab-aws-oidc; --detach-unowned removes it)',
      'kept: policy arn:aws:iam::123456789012:policy/legacy (not attached by gitlab-aws-oidc; --detach-unowned detaches it)',
    ]);
    expect(plan.broadening.join('\n')).toMatch(/trusts new principal/);
    // One change per attached ARN, each with its own consent.
    expect(plan.resources[2]!.changes.filter((c) => c.field === 'managedPolicyArns')).toEqual([
      { field: 'managedPolicyArns', to: READONLY, broadening: true, needs: ['allow-widening'] },
      { field: 'managedPolicyArns', to: desired.policy!.arn, broadening: true, needs: ['allow-widening'] },
    ]);
    expect(plan.consents.map((c) => c.message)).toEqual([
      'Role gitlab-acme-app: trust policy trusts new principal(s): Federated:arn:aws:iam::123456789012:oidc-provider/gitlab.com',
      `Role gitlab-acme-app: attaches policy ${READONLY}`,
      'Role gitlab-acme-app: attaches policy arn:aws:iam::123456789012:policy/gitlab-oidc/gitlab-acme-app-permissions',
    ]);
  });

  it('a boundary kept at adoption stays on the next run with the same inputs: no changes', () => {
    const desired = desiredFor();
    const current = currentFrom(desired);
    current.role.permissionsBoundaryArn = 'arn:aws:iam::123456789012:policy/boundary';
    // What the adoption run recorded: the tool set no boundary.
    expect(current.role.tags[RECORD_TAGS.boundary]).toBe('none');
    const plan = buildPlan(desired, current);
    expect(plan.steps).toEqual([]);
    expect(plan.hasChanges).toBe(false);
    expect(plan.resources[2]!.notes).toEqual([
      'kept: permissions boundary arn:aws:iam::123456789012:policy/boundary (not set by gitlab-aws-oidc; --detach-unowned removes it)',
    ]);
    // Removed only on request, and then it is both a widening and a removal of what the tool did not set.
    const removing = buildPlan(desired, current, { detachUnowned: true });
    expect(removing.steps).toEqual([{ kind: 'deletePermissionsBoundary', roleName: 'gitlab-acme-app' }]);
    expect(removing.consents.map((c) => c.consent)).toEqual([
      'overwrite-drift',
      'allow-widening',
      'detach-unowned',
    ]);
  });

  it('a managed role: detaches what it attached, updates settings, boundary and tags, then the record', () => {
    const desired = desiredFor({
      maxSessionDuration: 7200,
      permissionsBoundaryArn: 'arn:aws:iam::123456789012:policy/boundary',
      tags: { team: 'ops' },
    });
    const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
    const before = desiredFor({ managedPolicyArns: [READONLY, ADMIN] });
    const current = currentFrom(before);
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
      { kind: 'detachPolicy', roleName: 'gitlab-acme-app', policyArn: ADMIN },
      { kind: 'tagPolicy', policyArn: current.policy.arn, tags: { team: 'ops' } },
      {
        kind: 'tagRole',
        roleName: 'gitlab-acme-app',
        tags: {
          team: 'ops',
          [RECORD_TAGS.session]: '7200',
          [RECORD_TAGS.boundary]: valueDigest('arn:aws:iam::123456789012:policy/boundary'),
          [RECORD_TAGS.attached]: roleRecordTags({
            ...desired.role,
            attachedByTool: desired.role.managedPolicyArns,
          })[RECORD_TAGS.attached],
        },
      },
    ]);
    expect(plan.resources[2]!.changes.map((c) => c.field)).toEqual([
      'maxSessionDuration',
      'permissionsBoundaryArn',
      'managedPolicyArns',
      'tags',
    ]);
    // Settings the tool wrote, a boundary added where there was none, a detach of its own: no consent.
    expect(plan.consents).toEqual([]);
  });

  it('a policy attached by hand is kept (a note, no step), detached only with --detach-unowned', () => {
    const HAND = 'arn:aws:iam::123456789012:policy/hand-made';
    const desired = desiredFor();
    const current = currentFrom(desired);
    current.role.attachedPolicyArns.push(HAND);
    current.unwantedPolicies = [
      { ...current.policy, arn: HAND, name: 'hand-made', path: '/', tags: { owner: 'team-x' } },
    ];
    const plan = buildPlan(desired, current);
    expect(plan.steps).toEqual([]);
    expect(plan.resources[2]!.notes).toEqual([
      `kept: policy ${HAND} (not attached by gitlab-aws-oidc; --detach-unowned detaches it)`,
    ]);
    const detaching = buildPlan(desired, current, { detachUnowned: true });
    expect(detaching.steps).toEqual([{ kind: 'detachPolicy', roleName: 'gitlab-acme-app', policyArn: HAND }]);
    expect(detaching.consents).toEqual([
      {
        consent: 'detach-unowned',
        resource: 'gitlab-acme-app',
        field: 'managedPolicyArns',
        message: `Role gitlab-acme-app: detaches policy ${HAND}, which gitlab-aws-oidc did not attach`,
      },
    ]);
  });

  it("an earlier run's template policy no longer wanted: detached, its versions and itself deleted", () => {
    const before = desiredFor();
    const current = currentFrom(before);
    const old = current.policy;
    old.versions = [
      { versionId: 'v1', isDefault: false },
      { versionId: 'v2', isDefault: true },
    ];
    old.defaultVersionId = 'v2';
    current.unwantedPolicies = [old];
    const desired = desiredFor({ policy: undefined });
    const plan = buildPlan(desired, { ...current, policy: undefined });
    expect(plan.steps).toEqual([
      { kind: 'detachPolicy', roleName: 'gitlab-acme-app', policyArn: old.arn },
      { kind: 'deletePolicyVersion', policyArn: old.arn, versionId: 'v1' },
      { kind: 'deletePolicy', policyArn: old.arn },
      {
        kind: 'tagRole',
        roleName: 'gitlab-acme-app',
        tags: { [RECORD_TAGS.attached]: arnDigest(READONLY) },
      },
    ]);
    expect(plan.resources.map((r) => [r.kind, r.id, r.action])).toEqual([
      ['oidc-provider', 'https://gitlab.com', 'no-op'],
      ['role', 'gitlab-acme-app', 'update'],
      ['policy', 'gitlab-acme-app-permissions', 'delete'],
    ]);
    expect(plan.consents).toEqual([]);
  });

  it('the tool policy an interrupted run detached but did not delete is deleted; one used elsewhere is kept', () => {
    const before = desiredFor();
    const after = desiredFor({ policy: undefined });
    const current = currentFrom(before);
    const old = { ...current.policy, attachmentCount: 0 };
    current.role.attachedPolicyArns = [READONLY];
    current.role.tags = {
      ...current.role.tags,
      ...roleRecordTags({ ...after.role, attachedByTool: after.role.managedPolicyArns }),
    };
    current.unwantedPolicies = [old];
    const plan = buildPlan(desiredFor({ policy: undefined }), { ...current, policy: undefined });
    expect(plan.steps).toEqual([{ kind: 'deletePolicy', policyArn: old.arn }]);
    // Attached to this role and to one more: detached from this role only.
    current.role.attachedPolicyArns.push(old.arn);
    current.role.tags = {
      ...current.role.tags,
      ...roleRecordTags({ ...before.role, attachedByTool: before.role.managedPolicyArns }),
    };
    current.unwantedPolicies = [{ ...old, attachmentCount: 2 }];
    const shared = buildPlan(desiredFor({ policy: undefined }), { ...current, policy: undefined });
    expect(kinds(shared.steps)).toEqual(['detachPolicy', 'tagRole']);
    expect(shared.resources.at(-1)?.notes).toEqual([
      `kept: policy ${old.arn} is no longer used by role gitlab-acme-app but is attached to 1 other entity`,
    ]);
  });

  it('a trust policy with hand-added ref_protected and project_id: drift and widening, with values', () => {
    const written = desiredFor({ projectId: undefined });
    const current = currentFrom(written);
    // Someone tightened the role by hand after the tool wrote it.
    current.role.trustPolicy = desiredFor({ protectedOnly: true }).role.trustPolicy;
    const plan = buildPlan(written, current);
    expect(kinds(plan.steps)).toEqual(['updateTrustPolicy']);
    const change = plan.resources[2]!.changes[0]!;
    expect(change).toMatchObject({ field: 'trustPolicy', drift: true, broadening: true });
    expect(change.needs).toEqual(['overwrite-drift', 'allow-widening']);
    expect(plan.consents.map((c) => [c.consent, c.message])).toEqual([
      [
        'overwrite-drift',
        'Role gitlab-acme-app: trust policy was changed outside gitlab-aws-oidc since its last run; this run replaces it (see the trust policy diff)',
      ],
      [
        'allow-widening',
        'Role gitlab-acme-app: trust policy drops the condition gitlab.com:project_id = "42"',
      ],
      [
        'allow-widening',
        'Role gitlab-acme-app: trust policy drops the condition gitlab.com:ref_protected = "true"',
      ],
    ]);
  });

  it('a hand-set MaxSessionDuration is drift: overwriting it needs --overwrite-drift', () => {
    const desired = desiredFor();
    const current = currentFrom(desired);
    current.role.maxSessionDuration = 7200;
    const plan = buildPlan(desired, current);
    expect(kinds(plan.steps)).toEqual(['updateRole']);
    expect(plan.resources[2]!.changes).toEqual([
      { field: 'maxSessionDuration', from: 7200, to: 3600, drift: true, needs: ['overwrite-drift'] },
    ]);
    expect(plan.consents.map((c) => c.message)).toEqual([
      'Role gitlab-acme-app: MaxSessionDuration was changed outside gitlab-aws-oidc to 7200; this run sets 3600',
    ]);
  });

  it('a record left stale by an interrupted run is refreshed with one TagRole, without consent', () => {
    const desired = desiredFor({ refs: [{ type: 'branch', pattern: 'dev' }] });
    // The interrupted run updated the trust policy but stopped before its final TagRole.
    const current = currentFrom(desiredFor());
    current.role.trustPolicy = structuredClone(desired.role.trustPolicy);
    const plan = buildPlan(desired, current);
    expect(plan.steps).toEqual([
      {
        kind: 'tagRole',
        roleName: 'gitlab-acme-app',
        tags: { [RECORD_TAGS.trust]: policyDigest(desired.role.trustPolicy) },
      },
    ]);
    expect(plan.consents).toEqual([]);
  });

  it('a creation by an earlier version, stopped before its final TagRole, finishes its attachments without consent', () => {
    const desired = desiredFor();
    const current = currentFrom(desired);
    delete current.role.tags[RECORD_TAGS.attached];
    current.role.attachedPolicyArns = [READONLY];
    const plan = buildPlan(desired, current);
    expect(kinds(plan.steps)).toEqual(['attachPolicy', 'tagRole']);
    expect(plan.consents).toEqual([]);
  });

  it('a creation that stopped part-way and recorded what it attached finishes without consent, then records all', () => {
    const desired = desiredFor();
    const current = currentFrom(desired);
    const toolPolicy = desired.policy!.arn;
    // What aws/apply.ts writes when a run fails (or is interrupted) after CreateRole, before all attachments.
    Object.assign(current.role.tags, unfinishedCreationTags(desired.role.managedPolicyArns, [READONLY]));
    current.role.attachedPolicyArns = [READONLY];
    const plan = buildPlan(desired, current);
    expect(plan.steps).toEqual([
      { kind: 'attachPolicy', roleName: 'gitlab-acme-app', policyArn: toolPolicy },
      {
        kind: 'tagRole',
        roleName: 'gitlab-acme-app',
        tags: {
          [RECORD_TAGS.attached]: roleRecordTags({
            ...desired.role,
            attachedByTool: desired.role.managedPolicyArns,
          })[RECORD_TAGS.attached] as string,
        },
      },
    ]);
    expect(plan.consents).toEqual([]);
    // Another policy than the approved ones is still a widening.
    const more = desiredFor({ managedPolicyArns: [READONLY, 'arn:aws:iam::aws:policy/PowerUserAccess'] });
    expect(buildPlan(more, current).consents.map((c) => c.message)).toEqual([
      'Role gitlab-acme-app: attaches policy arn:aws:iam::aws:policy/PowerUserAccess',
    ]);
  });

  it('a role whose record lists a policy that is not attached (killed after CreateRole, or detached by hand): attaching it needs --allow-widening', () => {
    const desired = desiredFor();
    const current = currentFrom(desired);
    current.role.attachedPolicyArns = [];
    const plan = buildPlan(desired, current);
    expect(kinds(plan.steps)).toEqual(['attachPolicy', 'attachPolicy']);
    expect(plan.consents.map((c) => [c.consent, c.message])).toEqual(
      desired.role.managedPolicyArns.map((arn) => [
        'allow-widening',
        `Role gitlab-acme-app: attaches policy ${arn}, which its ownership record lists as attached by gitlab-aws-oidc but is not attached now (detached outside the tool, or a run was killed between CreateRole and AttachRolePolicy)`,
      ]),
    );
  });

  it('a role made by an older version (no record): same inputs only write the record', () => {
    const desired = desiredFor();
    const current = currentFrom(desired, { record: false });
    const plan = buildPlan(desired, current);
    expect(kinds(plan.steps)).toEqual(['tagPolicy', 'tagRole']);
    expect(plan.steps[1]).toEqual({
      kind: 'tagRole',
      roleName: 'gitlab-acme-app',
      tags: roleRecordTags({ ...desired.role, attachedByTool: desired.role.managedPolicyArns }),
    });
    expect(plan.consents).toEqual([]);
    // Its settings converge (no record, made by the tool: not drift); a new policy is still a widening.
    current.role.maxSessionDuration = 7200;
    const more = desiredFor({ managedPolicyArns: [READONLY, 'arn:aws:iam::aws:policy/PowerUserAccess'] });
    expect(buildPlan(more, current).consents.map((c) => c.message)).toEqual([
      'Role gitlab-acme-app: attaches policy arn:aws:iam::aws:policy/PowerUserAccess',
    ]);
  });

  it('the policy document changed by hand is drift; an adopted policy gets the tool tags and record', () => {
    const desired = desiredFor();
    const current = currentFrom(desired);
    current.policy.document = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
    };
    const plan = buildPlan(desired, current);
    expect(plan.resources[1]!.changes[0]).toMatchObject({
      field: 'document',
      drift: true,
      needs: ['overwrite-drift'],
    });
    current.policy.tags = {};
    current.policy.document = structuredClone(desired.policy!.document);
    const adopted = buildPlan(desired, current, { adoptExisting: true });
    expect(adopted.steps).toEqual([
      {
        kind: 'tagPolicy',
        policyArn: current.policy.arn,
        tags: { ...desired.policy!.tags, ...policyRecordTags(desired.policy!.document) },
      },
    ]);
  });

  it('a thumbprint change on a provider other roles use needs --allow-widening and names them', () => {
    const tp = 'a'.repeat(40);
    const current = currentFrom(desiredFor());
    current.provider.thumbprints = ['b'.repeat(40)];
    current.providerUsedBy = ['other-team-deploy'];
    const plan = buildPlan(desiredFor({ thumbprints: [tp] }), current);
    expect(plan.resources[0]!.usedBy).toEqual(['other-team-deploy']);
    expect(plan.consents.map((c) => [c.consent, c.message])).toEqual([
      [
        'allow-widening',
        `OIDC provider gitlab.com: thumbprints ["${'b'.repeat(40)}"] → ["${tp}"], also used by role(s) other-team-deploy`,
      ],
    ]);
    current.providerUsedBy = [];
    expect(buildPlan(desiredFor({ thumbprints: [tp] }), current).consents).toEqual([]);
  });

  it('replacing a boundary is a widening; one the tool did not set also needs --detach-unowned', () => {
    const B1 = 'arn:aws:iam::123456789012:policy/b1';
    const B2 = 'arn:aws:iam::123456789012:policy/b2';
    const current = currentFrom(desiredFor({ permissionsBoundaryArn: B1 }));
    const plan = buildPlan(desiredFor({ permissionsBoundaryArn: B2 }), current);
    expect(kinds(plan.steps)).toEqual(['putPermissionsBoundary', 'tagRole']);
    expect(plan.consents.map((c) => c.message)).toEqual([
      `Role gitlab-acme-app: replaces permissions boundary ${B1} with ${B2}`,
    ]);
    const legacy = currentFrom(desiredFor({ permissionsBoundaryArn: B1 }), { record: false });
    expect(
      buildPlan(desiredFor({ permissionsBoundaryArn: B2 }), legacy).consents.map((c) => c.consent),
    ).toEqual(['allow-widening', 'detach-unowned']);
  });

  it('removing a boundary the tool set is a widening', () => {
    const current = currentFrom(
      desiredFor({ permissionsBoundaryArn: 'arn:aws:iam::123456789012:policy/boundary' }),
    );
    const plan = buildPlan(desiredFor(), current);
    expect(plan.steps).toEqual([
      { kind: 'deletePermissionsBoundary', roleName: 'gitlab-acme-app' },
      { kind: 'tagRole', roleName: 'gitlab-acme-app', tags: { [RECORD_TAGS.boundary]: 'none' } },
    ]);
    expect(plan.consents.map((c) => [c.consent, c.message])).toEqual([
      [
        'allow-widening',
        'Role gitlab-acme-app: removes permissions boundary arn:aws:iam::123456789012:policy/boundary',
      ],
    ]);
  });

  it('a role at another path: the default path gives way (real ARN, a note); an explicit --role-path is refused', () => {
    const current = currentFrom(desiredFor());
    current.role.path = '/';
    current.role.arn = 'arn:aws:iam::123456789012:role/gitlab-acme-app';
    const plan = buildPlan(desiredFor(), current, { warnings: ['w1'], broadening: ['b1'] });
    expect(plan.steps).toEqual([]);
    expect(plan.warnings).toEqual(['w1']);
    expect(plan.broadening).toEqual(['b1']);
    expect(plan.resources[2]!.notes).toEqual([
      'kept: role gitlab-acme-app stays at path / (IAM cannot move a role); the pipeline uses its real ARN arn:aws:iam::123456789012:role/gitlab-acme-app',
    ]);
    expect(alignRolePath(desiredFor(), current).desired.role).toMatchObject({
      path: '/',
      arn: 'arn:aws:iam::123456789012:role/gitlab-acme-app',
    });
    let caught: unknown;
    try {
      buildPlan(desiredFor(), current, { rolePathGiven: true });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect(exitCodeFor(caught)).toBe(2);
    expect((caught as UsageError).issues[0]).toMatchObject({ field: '--role-path' });
    expect((caught as UsageError).message).toMatch(/already exists at path \/, not \/gitlab-oidc\//);
    expect((caught as UsageError).hint).toMatch(
      /destroy --role gitlab-acme-app.*or choose a new --role-name/,
    );
  });

  it('warns above the default attached-policies quota', () => {
    const arns = Array.from({ length: 10 }, (_, i) => `arn:aws:iam::123456789012:policy/p${i}`);
    const plan = buildPlan(desiredFor({ managedPolicyArns: arns }), {});
    expect(plan.warnings.join('\n')).toMatch(/11 managed policies; IAM's default quota is 10/);
  });
});
