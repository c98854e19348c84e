/**
 * Plan = pure diff of desired vs current IAM state. Re-running with everything in place gives no
 * steps (`hasChanges: false`). Steps come out in dependency order: provider, policy, role, then
 * boundary/attachments, then the ownership record (a final TagRole/TagPolicy).
 *
 * Ownership (core/ownership.ts): the tool records what it wrote, so a re-run compares three states per
 * field, last written · current · desired:
 * - current = desired: no step (a stale or missing record is refreshed: an interrupted run converges);
 * - current as written (or no record on a role the tool made): converge to desired;
 * - current changed outside the tool: the change is drift and needs `overwrite-drift`.
 * Independently, a change that widens access needs `allow-widening`, and removing what the tool did
 * not attach or set needs `detach-unowned` (without it, it is kept: a note, no step). Each such change
 * is listed in `plan.consents` with its values; `init` refuses or asks before applying.
 *
 * Taking over existing resources: a role (or policy) with the requested name that is not tagged
 * `managed-by=gitlab-aws-oidc`, or is tagged for another GitLab project (another path, or the same path on
 * another GitLab instance), is refused (exit 2) unless `adoptExisting`. Refusing is the safe default:
 * the name may belong to another team or project, and replacing its trust policy would silently hand
 * its permissions to this project's CI jobs (or lock its users out). Even when adopting, what the tool
 * did not attach or set is kept; the resource is tagged so later runs treat it as managed.
 */
import { CliError, ExitCode, UsageError } from '../errors.js';
import { providerHost } from './issuer.js';
import {
  attachedByTool,
  NONE,
  policyProvenance,
  policyRecordTags,
  RECORD_TAGS,
  type RoleProvenance,
  type RoleRecord,
  readRoleRecord,
  roleProvenance,
  roleRecordTags,
} from './ownership.js';
import { policiesEqual } from './policy-json.js';
import { findTrustBroadening } from './trust-policy.js';
import {
  type Consent,
  type ConsentItem,
  type CurrentState,
  type DesiredState,
  type FieldChange,
  GITLAB_URL_TAG,
  isToolManaged,
  type ManagedPolicyState,
  type Plan,
  type PlanStep,
  PROJECT_TAG,
  type ResourcePlan,
  type RoleState,
  type Tags,
} from './types.js';

export { buildDesiredState, type DesiredStateInput, type DesiredStateResult } from './desired-state.js';

export interface PlanOptions {
  /** Take over a role/policy not tagged as managed by this tool, or tagged for another project. */
  adoptExisting?: boolean | undefined;
  /** `--role-path` was given: an existing role at another path is a usage error, not a note. */
  rolePathGiven?: boolean | undefined;
  /**
   * `--detach-unowned`: detach the policies (and remove the boundary) the tool did not attach or set.
   * Without it they are kept, with a note. The consent gate still lists what it removes.
   */
  detachUnowned?: boolean | undefined;
  /** Carried into the plan: warnings and broadening notes from building the desired state. */
  warnings?: readonly string[] | undefined;
  broadening?: readonly string[] | undefined;
}

const MAX_CLIENT_IDS = 100;
const MAX_POLICY_VERSIONS = 5;
const DEFAULT_ATTACHED_QUOTA = 10;

export { isToolManaged } from './types.js';

function checkOwnership(
  what: string,
  name: string,
  tags: Tags,
  desiredTags: Tags,
  opts: PlanOptions,
): boolean {
  const project = desiredTags[PROJECT_TAG];
  if (!isToolManaged(tags)) {
    if (opts.adoptExisting) return false;
    throw new CliError(
      'NOT_MANAGED',
      `${what} "${name}" already exists and was not created by gitlab-aws-oidc.`,
      {
        hint: `Choose another name, or pass --adopt-existing to take it over (its settings are replaced; what the tool did not attach is kept).`,
        exitCode: ExitCode.Usage,
      },
    );
  }
  const owner = tags[PROJECT_TAG];
  // A project is a path on one instance: grp/app on a private GitLab is not grp/app on gitlab.com.
  const ownerUrl = tags[GITLAB_URL_TAG];
  const url = desiredTags[GITLAB_URL_TAG];
  const otherUrl =
    ownerUrl !== undefined && url !== undefined && providerHost(ownerUrl) !== providerHost(url);
  if (otherUrl && !opts.adoptExisting) {
    throw new CliError(
      'OTHER_PROJECT',
      `${what} "${name}" is managed by gitlab-aws-oidc for ${owner ?? 'a project'} on ${ownerUrl}, not ${project ?? 'a project'} on ${url}.`,
      {
        hint: 'Check --gitlab-url. Choose another name (--role-name/--policy-name), or pass --adopt-existing to re-point it to this instance.',
        exitCode: ExitCode.Usage,
      },
    );
  }
  if (owner !== undefined && project !== undefined && owner !== project && !opts.adoptExisting) {
    throw new CliError(
      'OTHER_PROJECT',
      `${what} "${name}" is managed by gitlab-aws-oidc for project ${owner}, not ${project}.`,
      {
        hint: 'Choose another name (--role-name/--policy-name), or pass --adopt-existing to re-point it to this project.',
        exitCode: ExitCode.Usage,
      },
    );
  }
  return true;
}

const sameSet = (a: readonly string[], b: readonly string[]) => {
  const norm = (x: readonly string[]) => [...new Set(x.map((s) => s.toLowerCase()))].sort().join(',');
  return norm(a) === norm(b);
};

function versionNumber(id: string): number {
  return Number(/\d+/.exec(id)?.[0] ?? Number.MAX_SAFE_INTEGER);
}

/** The oldest non-default version, to delete before adding a sixth. */
export function pickVersionToPrune(policy: ManagedPolicyState): string | undefined {
  if (policy.versions.length < MAX_POLICY_VERSIONS) return undefined;
  const candidates = policy.versions.filter((v) => !v.isDefault && v.versionId !== policy.defaultVersionId);
  candidates.sort((a, b) => {
    const ta = a.createDate?.getTime();
    const tb = b.createDate?.getTime();
    if (ta !== undefined && tb !== undefined && ta !== tb) return ta - tb;
    return versionNumber(a.versionId) - versionNumber(b.versionId);
  });
  return candidates[0]?.versionId;
}

interface Acc {
  steps: PlanStep[];
  /** Steps that must run after everything else on the resource (the ownership record). */
  finalSteps: PlanStep[];
  resources: ResourcePlan[];
  warnings: string[];
  broadening: string[];
  consents: ConsentItem[];
}

/** Records that `change` needs `consent`, with a human line carrying the values. */
function requireConsent(
  acc: Acc,
  change: FieldChange,
  consent: Consent,
  resource: string,
  message: string,
): void {
  if (!change.needs?.includes(consent)) change.needs = [...(change.needs ?? []), consent];
  acc.consents.push({ consent, resource, field: change.field, message });
}

const show = (value: unknown) => (value === undefined ? 'none' : JSON.stringify(value));

/** Whether the plan would replace the provider's thumbprints (then the run reads who else uses it). */
export function plansThumbprintChange(desired: DesiredState, current: CurrentState): boolean {
  const want = desired.provider.thumbprints;
  return current.provider !== undefined && want.length > 0 && !sameSet(want, current.provider.thumbprints);
}

function planProvider(desired: DesiredState, current: CurrentState, acc: Acc): void {
  const want = desired.provider;
  const have = current.provider;
  if (!have) {
    acc.steps.push({
      kind: 'createProvider',
      url: want.url,
      clientIds: want.clientIds,
      thumbprints: want.thumbprints,
      tags: want.tags,
    });
    const changes = [
      { field: 'clientIds', to: want.clientIds },
      { field: 'thumbprints', to: want.thumbprints },
    ];
    acc.resources.push({ kind: 'oidc-provider', id: want.url, arn: want.arn, action: 'create', changes });
    return;
  }
  const changes: FieldChange[] = [];
  const added = want.clientIds.filter((id) => !have.clientIds.includes(id));
  if (have.clientIds.length + added.length > MAX_CLIENT_IDS) {
    throw new CliError(
      'QUOTA',
      `The OIDC provider ${have.url} already has ${have.clientIds.length} audiences; IAM allows ${MAX_CLIENT_IDS}.`,
      {
        hint: 'Reuse one of its existing audiences with --audience.',
      },
    );
  }
  for (const clientId of added) acc.steps.push({ kind: 'addClientId', providerArn: have.arn, clientId });
  if (added.length) {
    const change: FieldChange = {
      field: 'clientIds',
      from: have.clientIds,
      to: [...have.clientIds, ...added],
      broadening: true,
    };
    changes.push(change);
    // Every role that trusts this provider without pinning aud accepts the new audience too.
    for (const clientId of added)
      requireConsent(
        acc,
        change,
        'allow-widening',
        want.url,
        `OIDC provider ${have.url}: adds audience (client ID) ${JSON.stringify(clientId)} to ${show(have.clientIds)}`,
      );
  }
  const usedBy = current.providerUsedBy;
  // Only when thumbprints were given or computed: an empty desired list means "let AWS validate the certificate".
  if (plansThumbprintChange(desired, current)) {
    acc.steps.push({ kind: 'updateThumbprints', providerArn: have.arn, thumbprints: want.thumbprints });
    const change: FieldChange = { field: 'thumbprints', from: have.thumbprints, to: want.thumbprints };
    changes.push(change);
    if (usedBy?.length) {
      change.broadening = true;
      requireConsent(
        acc,
        change,
        'allow-widening',
        want.url,
        `OIDC provider ${have.url}: thumbprints ${show(have.thumbprints)} → ${show(want.thumbprints)}, also used by role(s) ${usedBy.join(', ')}`,
      );
    }
  }
  // The provider is shared by every project on this GitLab instance: we tag only providers we create.
  const action = changes.length ? 'update' : 'no-op';
  acc.resources.push({
    kind: 'oidc-provider',
    id: want.url,
    arn: have.arn,
    action,
    changes,
    ...(usedBy ? { usedBy } : {}),
  });
}

/** The tags to add so `have` carries `want` (IAM merges: only new or changed keys are sent). */
function missingTags(have: Tags, want: Tags): Tags {
  return Object.fromEntries(Object.entries(want).filter(([k, v]) => have[k] !== v));
}

/** One `tags` change, the record's tags included (the plan shows those as a count, not one by one). */
function tagChanges(have: Tags, added: Tags): FieldChange[] {
  return [{ field: 'tags', from: have, to: { ...have, ...added } }];
}

function planPolicy(desired: DesiredState, current: CurrentState, opts: PlanOptions, acc: Acc): void {
  const want = desired.policy;
  if (!want) return;
  const have = current.policy;
  const tags = { ...want.tags, ...policyRecordTags(want.document) };
  if (!have) {
    acc.steps.push({ kind: 'createPolicy', name: want.name, path: want.path, document: want.document, tags });
    acc.resources.push({
      kind: 'policy',
      id: want.name,
      arn: want.arn,
      action: 'create',
      changes: [{ field: 'document', to: want.document }],
    });
    return;
  }
  const managed = checkOwnership('Policy', want.name, have.tags, want.tags, opts);
  const changes: FieldChange[] = [];
  if (!policiesEqual(have.document, want.document)) {
    const pruneVersionId = pickVersionToPrune(have);
    acc.steps.push({
      kind: 'createPolicyVersion',
      policyArn: have.arn,
      document: want.document,
      pruneVersionId,
    });
    const change: FieldChange = { field: 'document', from: have.document, to: want.document };
    changes.push(change);
    if (managed && policyProvenance(have.tags, have.document) === 'drifted') {
      change.drift = true;
      requireConsent(
        acc,
        change,
        'overwrite-drift',
        want.name,
        `Policy ${want.name}: the document (default version ${have.defaultVersionId}) was changed outside gitlab-aws-oidc; this run replaces it`,
      );
    }
    if (pruneVersionId)
      changes.push({ field: 'versions', from: pruneVersionId, to: 'deleted (IAM keeps at most 5)' });
  }
  // After the new version: the record says what the tool wrote only once it is written. Adopted
  // policies get the tool's tags too, so later runs do not need --adopt-existing again.
  const added = missingTags(have.tags, tags);
  if (Object.keys(added).length) {
    acc.finalSteps.push({ kind: 'tagPolicy', policyArn: have.arn, tags: added });
    changes.push(...tagChanges(have.tags, added));
  }
  acc.resources.push({
    kind: 'policy',
    id: want.name,
    arn: have.arn,
    action: changes.length ? 'update' : 'no-op',
    changes,
  });
}

function warnAttachedQuota(count: number, acc: Acc): void {
  if (count > DEFAULT_ATTACHED_QUOTA) {
    acc.warnings.push(
      `The role would have ${count} managed policies; IAM's default quota is ${DEFAULT_ATTACHED_QUOTA} (raisable to 20).`,
    );
  }
}

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
function isToolPolicyOfProject(policy: ManagedPolicyState, roleTags: Tags): boolean {
  return (
    isToolManaged(policy.tags) &&
    policy.tags[PROJECT_TAG] === roleTags[PROJECT_TAG] &&
    (policy.tags[GITLAB_URL_TAG] === undefined ||
      roleTags[GITLAB_URL_TAG] === undefined ||
      providerHost(policy.tags[GITLAB_URL_TAG]) === providerHost(roleTags[GITLAB_URL_TAG]))
  );
}

function planNewRole(want: DesiredState['role'], acc: Acc): void {
  const record = roleRecordTags({ ...want, attachedByTool: want.managedPolicyArns });
  // The attachments are recorded only once they are made: by a final TagRole after them.
  const { [RECORD_TAGS.attached]: attached = NONE, ...createRecord } = record;
  const attaching = want.managedPolicyArns.length > 0;
  acc.steps.push({
    kind: 'createRole',
    name: want.name,
    path: want.path,
    description: want.description,
    trustPolicy: want.trustPolicy,
    maxSessionDuration: want.maxSessionDuration,
    permissionsBoundaryArn: want.permissionsBoundaryArn,
    tags: { ...want.tags, ...(attaching ? createRecord : record) },
  });
  for (const policyArn of want.managedPolicyArns)
    acc.steps.push({ kind: 'attachPolicy', roleName: want.name, policyArn });
  if (attaching)
    acc.finalSteps.push({ kind: 'tagRole', roleName: want.name, tags: { [RECORD_TAGS.attached]: attached } });
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

function planTrust({ name, have, want, prov, changes }: RoleContext, acc: Acc): void {
  if (policiesEqual(have.trustPolicy, want.trustPolicy)) return;
  const reasons = findTrustBroadening(have.trustPolicy, want.trustPolicy);
  acc.steps.push({ kind: 'updateTrustPolicy', roleName: name, trustPolicy: want.trustPolicy });
  const change: FieldChange = {
    field: 'trustPolicy',
    from: have.trustPolicy,
    to: want.trustPolicy,
    broadening: reasons.length > 0,
  };
  changes.push(change);
  if (prov.trust === 'drifted') {
    change.drift = true;
    requireConsent(
      acc,
      change,
      'overwrite-drift',
      name,
      `Role ${name}: trust policy was changed outside gitlab-aws-oidc since its last run; this run replaces it (diff above)`,
    );
  }
  for (const reason of reasons) {
    acc.broadening.push(`Role ${name}: the new trust policy ${reason}.`);
    requireConsent(acc, change, 'allow-widening', name, `Role ${name}: trust policy ${reason}`);
  }
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
    if (provenance === 'drifted') {
      change.drift = true;
      requireConsent(
        acc,
        change,
        'overwrite-drift',
        name,
        `Role ${name}: ${label} was changed outside gitlab-aws-oidc to ${show(from)}; this run sets ${show(to)}`,
      );
    }
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
  if (prov.boundary === 'drifted') {
    change.drift = true;
    requireConsent(
      acc,
      change,
      'overwrite-drift',
      name,
      `Role ${name}: permissions boundary was changed outside gitlab-aws-oidc to ${show(existing)}; this run sets ${show(wanted)}`,
    );
  }
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
  // Created by this version, stopped before its final TagRole: the attachments finish that creation.
  const finishingCreate = managed && record.trust.known && !record.attached.known;
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
    if (!finishingCreate) {
      change.broadening = true;
      requireConsent(acc, change, 'allow-widening', name, `Role ${name}: attaches policy ${policyArn}`);
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

function planRole(desired: DesiredState, current: CurrentState, opts: PlanOptions, acc: Acc): void {
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
  planTrust(ctx, acc);
  planSettings(ctx, acc);
  planBoundary(ctx, opts, acc);
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

/** Diffs desired against current state into the IAM calls that make them equal. */
export function buildPlan(desired: DesiredState, current: CurrentState, opts: PlanOptions = {}): Plan {
  const acc: Acc = {
    steps: [],
    finalSteps: [],
    resources: [],
    warnings: [...(opts.warnings ?? [])],
    broadening: [...(opts.broadening ?? [])],
    consents: [],
  };
  planProvider(desired, current, acc);
  planPolicy(desired, current, opts, acc);
  planRole(desired, current, opts, acc);
  const steps = [...acc.steps, ...acc.finalSteps];
  return {
    resources: acc.resources,
    steps,
    trustPolicy: { before: current.role?.trustPolicy, after: desired.role.trustPolicy },
    broadening: acc.broadening,
    consents: acc.consents,
    warnings: acc.warnings,
    hasChanges: steps.length > 0,
  };
}
