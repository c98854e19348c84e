/**
 * The role's part of the plan: the three-way diff per field (trust, session, description, boundary)
 * against the ownership record, the attachments per ARN, the tool's own policy of an earlier run
 * (detached and deleted), and the final TagRole that records what the run wrote. Pure.
 */
import { UsageError } from '../errors.js';
import {
  attachedByTool,
  pendingAttachment,
  type RoleProvenance,
  type RoleRecord,
  readRoleRecord,
  roleProvenance,
  roleRecordTags,
} from './ownership.js';
import {
  type Acc,
  checkOwnership,
  missingTags,
  type PlanOptions,
  requireConsent,
  requireDriftConsent,
  show,
  tagChanges,
  warnAttachedQuota,
} from './plan-shared.js';
import { policiesEqual } from './policy-json.js';
import { isToolPolicyFor } from './tool-resources.js';
import { findTrustBroadening } from './trust-policy.js';
import {
  type CurrentState,
  type DesiredState,
  type FieldChange,
  type ManagedPolicyState,
  PACK_TAG,
  type RoleState,
  type Tags,
} from './types.js';

/**
 * IAM cannot move a role to another path. An explicit `--role-path` that differs from the existing
 * role's is refused with the ways to move it; the default path gives way to the real one, so the
 * pipeline gets the role's real ARN.
 */
export function alignRolePath(
  desired: DesiredState,
  current: CurrentState,
  opts: Pick<PlanOptions, 'rolePathGiven'> = {},
): { desired: DesiredState; note?: string | undefined } {
  const have = current.role;
  if (!have || (have.path === desired.role.path && have.arn === desired.role.arn)) return { desired };
  if (have.path !== desired.role.path && opts.rolePathGiven) {
    throw UsageError.field(
      '--role-path',
      `role ${have.name} already exists at path ${have.path}, not ${desired.role.path}, and IAM cannot move a role`,
      `Keep --role-path ${have.path}, or move it: run \`destroy --role ${have.name}\` then init again with --role-path ${desired.role.path}, or choose a new --role-name.`,
    );
  }
  const note =
    have.path === desired.role.path
      ? undefined
      : `kept: role ${have.name} stays at path ${have.path} (IAM cannot move a role); the pipeline uses its real ARN ${have.arn}`;
  return { desired: { ...desired, role: { ...desired.role, path: have.path, arn: have.arn } }, note };
}

/** The tool-managed customer policy of an earlier run for this project (tags prove the tool made it). */
const isToolPolicyOfProject = (policy: ManagedPolicyState, roleTags: Tags): boolean =>
  isToolPolicyFor(policy.tags, roleTags);

function planNewRole(want: DesiredState['role'], acc: Acc): void {
  // The whole record with CreateRole, attachments included: a fresh role is CreateRole + one
  // AttachRolePolicy per policy, no TagRole after them. A run that stops in between records what it
  // really attached (aws/apply.ts); one killed there leaves a record the re-run does not trust blindly.
  acc.steps.push({
    kind: 'createRole',
    name: want.name,
    path: want.path,
    description: want.description,
    trustPolicy: want.trustPolicy,
    maxSessionDuration: want.maxSessionDuration,
    permissionsBoundaryArn: want.permissionsBoundaryArn,
    tags: { ...want.tags, ...roleRecordTags({ ...want, attachedByTool: want.managedPolicyArns }) },
  });
  for (const policyArn of want.managedPolicyArns)
    acc.steps.push({ kind: 'attachPolicy', roleName: want.name, policyArn });
  const changes: FieldChange[] = [
    { field: 'trustPolicy', to: want.trustPolicy },
    { field: 'maxSessionDuration', to: want.maxSessionDuration },
    { field: 'managedPolicyArns', to: want.managedPolicyArns },
    ...(want.permissionsBoundaryArn
      ? [{ field: 'permissionsBoundaryArn', to: want.permissionsBoundaryArn }]
      : []),
  ];
  acc.resources.push({ kind: 'role', id: want.name, arn: want.arn, action: 'create', changes });
  warnAttachedQuota(want.managedPolicyArns.length, acc);
}

interface RoleContext {
  name: string;
  have: RoleState;
  want: DesiredState['role'];
  prov: RoleProvenance;
  changes: FieldChange[];
  notes: string[];
}

function planTrust(
  { name, have, want, prov, changes }: RoleContext,
  opts: Pick<PlanOptions, 'sameProject' | 'trustBaseline'>,
  acc: Acc,
): void {
  if (policiesEqual(have.trustPolicy, want.trustPolicy)) return;
  // A packed role: the projects this run adds to it are the plan's onboarding, the rest must not widen.
  const judged = want.tags[PACK_TAG] !== undefined ? opts.trustBaseline : want.trustPolicy;
  const reasons = judged
    ? findTrustBroadening(have.trustPolicy, judged, { sameProject: opts.sameProject })
    : [];
  acc.steps.push({ kind: 'updateTrustPolicy', roleName: name, trustPolicy: want.trustPolicy });
  const change: FieldChange = {
    field: 'trustPolicy',
    from: have.trustPolicy,
    to: want.trustPolicy,
    broadening: reasons.length > 0,
  };
  changes.push(change);
  if (prov.trust === 'drifted')
    requireDriftConsent(
      acc,
      change,
      name,
      `Role ${name}: trust policy was changed outside gitlab-aws-oidc since its last run; this run replaces it (see the trust policy diff)`,
    );
  for (const reason of reasons) {
    acc.broadening.push(`Role ${name}: the new trust policy ${reason}.`);
    requireConsent(acc, change, 'allow-widening', name, `Role ${name}: trust policy ${reason}`);
  }
}

/**
 * A field changed outside the tool that this run keeps as it is (the re-run's inputs default to the
 * role's current values): the final TagRole records it as the tool's, so say so instead of doing it quietly.
 */
function noteKeptDrift({ have, want, prov, notes }: RoleContext): void {
  const kept: string[] = [];
  if (prov.trust === 'drifted' && policiesEqual(have.trustPolicy, want.trustPolicy))
    kept.push('trust policy');
  if (prov.session === 'drifted' && have.maxSessionDuration === want.maxSessionDuration)
    kept.push(`MaxSessionDuration (${have.maxSessionDuration} s)`);
  if (prov.description === 'drifted' && (have.description ?? '') === want.description)
    kept.push('description');
  if (prov.boundary === 'drifted' && have.permissionsBoundaryArn === want.permissionsBoundaryArn)
    kept.push(`permissions boundary (${have.permissionsBoundaryArn ?? 'none'})`);
  if (kept.length)
    notes.push(
      `kept and recorded as written by gitlab-aws-oidc: ${kept.join(', ')}, changed outside the tool since its last run`,
    );
}

function planSettings({ name, have, want, prov, changes }: RoleContext, acc: Acc): void {
  const description = have.description ?? '';
  const session = have.maxSessionDuration !== want.maxSessionDuration;
  const text = description !== want.description;
  if (!session && !text) return;
  acc.steps.push({
    kind: 'updateRole',
    roleName: name,
    maxSessionDuration: want.maxSessionDuration,
    description: want.description,
  });
  const fields = [
    [
      'maxSessionDuration',
      session,
      have.maxSessionDuration,
      want.maxSessionDuration,
      prov.session,
      'MaxSessionDuration',
    ],
    ['description', text, description, want.description, prov.description, 'description'],
  ] as const;
  for (const [field, changed, from, to, provenance, label] of fields) {
    if (!changed) continue;
    const change: FieldChange = { field, from, to };
    changes.push(change);
    if (provenance === 'drifted')
      requireDriftConsent(
        acc,
        change,
        name,
        `Role ${name}: ${label} was changed outside gitlab-aws-oidc to ${show(from)}; this run sets ${show(to)}`,
      );
  }
}

function planBoundary(ctx: RoleContext, opts: PlanOptions, acc: Acc): void {
  const { name, have, want, prov, changes, notes } = ctx;
  const wanted = want.permissionsBoundaryArn;
  const existing = have.permissionsBoundaryArn;
  if (wanted === existing) return;
  // Unknown provenance (adopted role, older version) counts as "not set by the tool".
  const setByTool = existing !== undefined && prov.boundary === 'as-written';
  if (!wanted && existing && !setByTool && !opts.detachUnowned) {
    notes.push(
      `kept: permissions boundary ${existing} (not set by gitlab-aws-oidc; --detach-unowned removes it)`,
    );
    return;
  }
  acc.steps.push(
    wanted
      ? { kind: 'putPermissionsBoundary', roleName: name, boundaryArn: wanted }
      : { kind: 'deletePermissionsBoundary', roleName: name },
  );
  const change: FieldChange = { field: 'permissionsBoundaryArn', from: existing, to: wanted };
  changes.push(change);
  if (prov.boundary === 'drifted')
    requireDriftConsent(
      acc,
      change,
      name,
      `Role ${name}: permissions boundary was changed outside gitlab-aws-oidc to ${show(existing)}; this run sets ${show(wanted)}`,
    );
  if (!existing) return;
  change.broadening = true;
  requireConsent(
    acc,
    change,
    'allow-widening',
    name,
    wanted
      ? `Role ${name}: replaces permissions boundary ${existing} with ${wanted}`
      : `Role ${name}: removes permissions boundary ${existing}`,
  );
  if (!setByTool)
    requireConsent(
      acc,
      change,
      'detach-unowned',
      name,
      `Role ${name}: permissions boundary ${existing} was not set by gitlab-aws-oidc`,
    );
}

/** One change per attached or detached ARN (`to` or `from` the ARN), each with its own consent. */
function planAttachments(
  ctx: RoleContext,
  current: CurrentState,
  record: RoleRecord,
  managed: boolean,
  opts: PlanOptions,
  acc: Acc,
): void {
  const { name, have, want, changes, notes } = ctx;
  // Created by an earlier version that recorded attachments only in a final TagRole, stopped before it:
  // the attachments finish that creation. A creation that stopped part-way and said so (`pending`) too.
  const finishingCreate = managed && record.trust.known && !record.attached.known;
  const approved = (arn: string) => finishingCreate || (managed && pendingAttachment(record, arn));
  // Recorded as attached by the tool, yet not attached: detached by hand, or a run killed between
  // CreateRole and AttachRolePolicy. Either way it is not re-attached without asking.
  const recordedOnly = (arn: string) => managed && attachedByTool(record, arn) === true;
  const attach = want.managedPolicyArns.filter((arn) => !have.attachedPolicyArns.includes(arn));
  const detached: string[] = [];
  for (const arn of have.attachedPolicyArns.filter((a) => !want.managedPolicyArns.includes(a))) {
    const policy = current.unwantedPolicies?.find((p) => p.arn === arn);
    const ours = managed && policy !== undefined && isToolPolicyOfProject(policy, want.tags);
    const byTool = managed && (attachedByTool(record, arn) ?? ours);
    if (!byTool && !opts.detachUnowned) {
      notes.push(`kept: policy ${arn} (not attached by gitlab-aws-oidc; --detach-unowned detaches it)`);
      continue;
    }
    detached.push(arn);
    acc.steps.push({ kind: 'detachPolicy', roleName: name, policyArn: arn });
    const change: FieldChange = { field: 'managedPolicyArns', from: arn };
    changes.push(change);
    if (!byTool)
      requireConsent(
        acc,
        change,
        'detach-unowned',
        name,
        `Role ${name}: detaches policy ${arn}, which gitlab-aws-oidc did not attach`,
      );
    if (ours && policy) planPolicyDeletion(policy, name, 1, acc);
  }
  // The tool's policy left detached (not deleted) by an interrupted run: deleted now.
  for (const policy of current.unwantedPolicies ?? []) {
    const attached = have.attachedPolicyArns.includes(policy.arn);
    if (!attached && managed && isToolPolicyOfProject(policy, want.tags))
      planPolicyDeletion(policy, name, 0, acc);
  }
  for (const policyArn of attach) {
    acc.steps.push({ kind: 'attachPolicy', roleName: name, policyArn });
    const change: FieldChange = { field: 'managedPolicyArns', to: policyArn };
    changes.push(change);
    if (!approved(policyArn)) {
      change.broadening = true;
      requireConsent(
        acc,
        change,
        'allow-widening',
        name,
        recordedOnly(policyArn)
          ? `Role ${name}: attaches policy ${policyArn}, which its ownership record lists as attached by gitlab-aws-oidc but is not attached now (detached outside the tool, or a run was killed between CreateRole and AttachRolePolicy)`
          : `Role ${name}: attaches policy ${policyArn}`,
      );
    }
  }
  warnAttachedQuota(have.attachedPolicyArns.length - detached.length + attach.length, acc);
}

/**
 * The tool's own policy of an earlier run, no longer wanted: deleted so it is not left orphaned,
 * unless something other than this role (`ownAttachments`: 1 if attached to it, else 0) still uses it.
 */
function planPolicyDeletion(
  policy: ManagedPolicyState,
  roleName: string,
  ownAttachments: number,
  acc: Acc,
): void {
  const elsewhere = (policy.attachmentCount ?? ownAttachments) - ownAttachments;
  if (elsewhere > 0) {
    acc.resources.push({
      kind: 'policy',
      id: policy.name,
      arn: policy.arn,
      action: 'no-op',
      changes: [],
      notes: [
        `kept: policy ${policy.arn} is no longer used by role ${roleName} but is attached to ${elsewhere} other entit${elsewhere === 1 ? 'y' : 'ies'}`,
      ],
    });
    return;
  }
  for (const v of policy.versions.filter((v) => !v.isDefault && v.versionId !== policy.defaultVersionId))
    acc.steps.push({ kind: 'deletePolicyVersion', policyArn: policy.arn, versionId: v.versionId });
  acc.steps.push({ kind: 'deletePolicy', policyArn: policy.arn });
  acc.resources.push({
    kind: 'policy',
    id: policy.name,
    arn: policy.arn,
    action: 'delete',
    changes: [{ field: 'document', from: policy.document }],
    notes: [
      `no longer used: created by gitlab-aws-oidc for this project${ownAttachments ? `, detached from role ${roleName}` : ''}`,
    ],
  });
}

export function planRole(desired: DesiredState, current: CurrentState, opts: PlanOptions, acc: Acc): void {
  const want = desired.role;
  const have = current.role;
  if (!have) {
    planNewRole(want, acc);
    return;
  }
  const managed = checkOwnership('Role', want.name, have.tags, want.tags, opts);
  // A role taken over has no record of ours, whatever its tags say.
  const record = readRoleRecord(managed ? have.tags : {});
  const ctx: RoleContext = {
    name: have.name,
    have,
    want,
    prov: roleProvenance(record, have),
    changes: [],
    notes: [],
  };
  const aligned = alignRolePath(desired, current, opts);
  if (aligned.note) ctx.notes.push(aligned.note);
  planTrust(ctx, opts, acc);
  planSettings(ctx, acc);
  planBoundary(ctx, opts, acc);
  noteKeptDrift(ctx);
  const resourceIndex = acc.resources.length;
  planAttachments(ctx, current, record, managed, opts, acc);
  // Last: the record of what this run wrote (and the tool's tags), once it is so. A stale or missing
  // record (an interrupted run, an older version) is refreshed even when nothing else changes.
  const target = {
    ...want.tags,
    // A boundary kept because the tool did not set it is recorded as "none set by the tool".
    ...roleRecordTags({ ...want, attachedByTool: want.managedPolicyArns }),
  };
  const added = missingTags(have.tags, target);
  if (Object.keys(added).length) {
    acc.finalSteps.push({ kind: 'tagRole', roleName: ctx.name, tags: added });
    ctx.changes.push(...tagChanges(have.tags, added));
  }
  const action = ctx.changes.length ? 'update' : 'no-op';
  acc.resources.splice(resourceIndex, 0, {
    kind: 'role',
    id: ctx.name,
    arn: have.arn,
    action,
    changes: ctx.changes,
    ...(ctx.notes.length ? { notes: ctx.notes } : {}),
  });
}
