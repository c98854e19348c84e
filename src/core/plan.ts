/**
 * Plan = pure diff of desired vs current IAM state. Re-running with everything in place gives no
 * steps (`hasChanges: false`). Steps come out in dependency order: provider, policy, role, then
 * boundary/tags/attachments.
 *
 * Taking over existing resources: a role (or policy) with the requested name that is not tagged
 * `managed-by=gitlab-aws-oidc`, or is tagged for another GitLab project (another path, or the same path on
 * another GitLab instance), is refused unless
 * `adoptExisting`. Refusing is the safe default: the name may belong to another team or project, and
 * replacing its trust policy would silently hand its permissions to this project's CI jobs (or lock
 * its users out). Even when adopting, the plan only adds: it never detaches policies nor removes a
 * boundary it did not set; those are warnings. The role is tagged so later runs treat it as managed.
 */
import { CliError } from '../errors.js';
import { providerHost } from './issuer.js';
import { policiesEqual } from './policy-json.js';
import { findTrustBroadening } from './trust-policy.js';
import {
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
  type Tags,
} from './types.js';

export { buildDesiredState, type DesiredStateInput, type DesiredStateResult } from './desired-state.js';

export interface PlanOptions {
  /** Take over a role/policy not tagged as managed by this tool, or tagged for another project. */
  adoptExisting?: boolean | undefined;
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
        hint: `Choose another name, or pass --adopt-existing to take it over (its settings will be replaced; nothing is detached).`,
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
      },
    );
  }
  if (owner !== undefined && project !== undefined && owner !== project && !opts.adoptExisting) {
    throw new CliError(
      'OTHER_PROJECT',
      `${what} "${name}" is managed by gitlab-aws-oidc for project ${owner}, not ${project}.`,
      {
        hint: 'Choose another name (--role-name/--policy-name), or pass --adopt-existing to re-point it to this project.',
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
  resources: ResourcePlan[];
  warnings: string[];
  broadening: string[];
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
  if (added.length)
    changes.push({ field: 'clientIds', from: have.clientIds, to: [...have.clientIds, ...added] });
  // Only when thumbprints were given or computed: an empty desired list means "let AWS validate the certificate".
  if (want.thumbprints.length > 0 && !sameSet(want.thumbprints, have.thumbprints)) {
    acc.steps.push({ kind: 'updateThumbprints', providerArn: have.arn, thumbprints: want.thumbprints });
    changes.push({ field: 'thumbprints', from: have.thumbprints, to: want.thumbprints });
  }
  // The provider is shared by every project on this GitLab instance: we tag only providers we create.
  const action = changes.length ? 'update' : 'no-op';
  acc.resources.push({ kind: 'oidc-provider', id: want.url, arn: have.arn, action, changes });
}

function planPolicy(desired: DesiredState, current: CurrentState, opts: PlanOptions, acc: Acc): void {
  const want = desired.policy;
  if (!want) return;
  const have = current.policy;
  if (!have) {
    acc.steps.push({
      kind: 'createPolicy',
      name: want.name,
      path: want.path,
      document: want.document,
      tags: want.tags,
    });
    acc.resources.push({
      kind: 'policy',
      id: want.name,
      arn: want.arn,
      action: 'create',
      changes: [{ field: 'document', to: want.document }],
    });
    return;
  }
  checkOwnership('Policy', want.name, have.tags, want.tags, opts);
  const changes: FieldChange[] = [];
  if (!policiesEqual(have.document, want.document)) {
    const pruneVersionId = pickVersionToPrune(have);
    acc.steps.push({
      kind: 'createPolicyVersion',
      policyArn: have.arn,
      document: want.document,
      pruneVersionId,
    });
    changes.push({ field: 'document', from: have.document, to: want.document });
    if (pruneVersionId)
      changes.push({ field: 'versions', from: pruneVersionId, to: 'deleted (IAM keeps at most 5)' });
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

function planRole(desired: DesiredState, current: CurrentState, opts: PlanOptions, acc: Acc): void {
  const want = desired.role;
  const have = current.role;
  if (!have) {
    acc.steps.push({
      kind: 'createRole',
      name: want.name,
      path: want.path,
      description: want.description,
      trustPolicy: want.trustPolicy,
      maxSessionDuration: want.maxSessionDuration,
      permissionsBoundaryArn: want.permissionsBoundaryArn,
      tags: want.tags,
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
    return;
  }
  const managed = checkOwnership('Role', want.name, have.tags, want.tags, opts);
  const name = have.name;
  const changes: FieldChange[] = [];
  if (have.path !== want.path) {
    acc.warnings.push(
      `Role ${name} exists at path ${have.path}, not ${want.path}; IAM cannot move a role, so it stays there.`,
    );
  }
  if (!policiesEqual(have.trustPolicy, want.trustPolicy)) {
    const reasons = findTrustBroadening(have.trustPolicy, want.trustPolicy);
    acc.steps.push({ kind: 'updateTrustPolicy', roleName: name, trustPolicy: want.trustPolicy });
    changes.push({
      field: 'trustPolicy',
      from: have.trustPolicy,
      to: want.trustPolicy,
      broadening: reasons.length > 0,
    });
    for (const reason of reasons) acc.broadening.push(`Role ${name}: the new trust policy ${reason}.`);
  }
  const description = have.description ?? '';
  if (have.maxSessionDuration !== want.maxSessionDuration || description !== want.description) {
    acc.steps.push({
      kind: 'updateRole',
      roleName: name,
      maxSessionDuration: want.maxSessionDuration,
      description: want.description,
    });
    if (have.maxSessionDuration !== want.maxSessionDuration) {
      changes.push({
        field: 'maxSessionDuration',
        from: have.maxSessionDuration,
        to: want.maxSessionDuration,
      });
    }
    if (description !== want.description)
      changes.push({ field: 'description', from: description, to: want.description });
  }
  const boundary = want.permissionsBoundaryArn;
  if (boundary && boundary !== have.permissionsBoundaryArn) {
    acc.steps.push({ kind: 'putPermissionsBoundary', roleName: name, boundaryArn: boundary });
    changes.push({ field: 'permissionsBoundaryArn', from: have.permissionsBoundaryArn, to: boundary });
  } else if (!boundary && have.permissionsBoundaryArn) {
    if (managed) {
      acc.steps.push({ kind: 'deletePermissionsBoundary', roleName: name });
      changes.push({ field: 'permissionsBoundaryArn', from: have.permissionsBoundaryArn, to: undefined });
      acc.warnings.push(
        `Removing permissions boundary ${have.permissionsBoundaryArn} from role ${name} widens what it can do.`,
      );
    } else {
      acc.warnings.push(
        `Role ${name} keeps its permissions boundary ${have.permissionsBoundaryArn} (not set by this tool).`,
      );
    }
  }
  const tags = Object.fromEntries(Object.entries(want.tags).filter(([k, v]) => have.tags[k] !== v));
  if (Object.keys(tags).length) {
    acc.steps.push({ kind: 'tagRole', roleName: name, tags });
    changes.push({ field: 'tags', from: have.tags, to: { ...have.tags, ...tags } });
  }
  const attach = want.managedPolicyArns.filter((arn) => !have.attachedPolicyArns.includes(arn));
  const extra = have.attachedPolicyArns.filter((arn) => !want.managedPolicyArns.includes(arn));
  for (const policyArn of attach) acc.steps.push({ kind: 'attachPolicy', roleName: name, policyArn });
  if (extra.length && managed) {
    for (const policyArn of extra) acc.steps.push({ kind: 'detachPolicy', roleName: name, policyArn });
  } else if (extra.length) {
    acc.warnings.push(
      `Role ${name} has other managed policies attached, left as they are: ${extra.join(', ')}. ` +
        'Once adopted, later runs detach policies not given with --managed-policy.',
    );
  }
  if (attach.length || (extra.length && managed)) {
    const after = managed ? want.managedPolicyArns : [...have.attachedPolicyArns, ...attach];
    changes.push({ field: 'managedPolicyArns', from: have.attachedPolicyArns, to: after });
  }
  warnAttachedQuota(
    managed ? want.managedPolicyArns.length : have.attachedPolicyArns.length + attach.length,
    acc,
  );
  const action = changes.length ? 'update' : 'no-op';
  acc.resources.push({ kind: 'role', id: name, arn: have.arn, action, changes });
}

/** Diffs desired against current state into the IAM calls that make them equal. */
export function buildPlan(desired: DesiredState, current: CurrentState, opts: PlanOptions = {}): Plan {
  const acc: Acc = {
    steps: [],
    resources: [],
    warnings: [...(opts.warnings ?? [])],
    broadening: [...(opts.broadening ?? [])],
  };
  planProvider(desired, current, acc);
  planPolicy(desired, current, opts, acc);
  planRole(desired, current, opts, acc);
  return {
    resources: acc.resources,
    steps: acc.steps,
    trustPolicy: { before: current.role?.trustPolicy, after: desired.role.trustPolicy },
    broadening: acc.broadening,
    consents: [],
    warnings: acc.warnings,
    hasChanges: acc.steps.length > 0,
  };
}
