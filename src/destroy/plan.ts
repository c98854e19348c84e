/**
 * The destroy plan: a pure function from what exists (read by `read.ts`) to the ordered list of
 * deleting calls, what is kept and why, and what blocks the run.
 *
 * Order, chosen so that an interrupted run can always be finished by running it again:
 *   1. tag each role with the tool policies about to be deleted (a journal, so a policy detached by
 *      an interrupted run is still found through the role);
 *   2. remove each role from the EC2 instance profiles it is in (IAM refuses DeleteRole otherwise;
 *      only with consent, see `instanceProfileRemovals`; the profiles themselves are kept). First,
 *      so that a refusal there (a missing permission) stops the run before anything is deleted;
 *   3. delete the OIDC provider (only if the tool created it and no other role trusts it);
 *   4. detach every policy from the roles (tool policies first; the others are kept);
 *   5. per tool policy: delete its non-default versions, then the policy;
 *   6. delete the roles, last: while a role exists, everything else is reachable from it.
 * Never touches a resource without the tool's tag unless `--force` and the role was named explicitly;
 * then that role is deleted and its policies are detached, never deleted. The provider rule is the
 * same in every case: deleted only when tagged by the tool and trusted by no remaining role.
 *
 * A project path is only unique per GitLab instance: with `--gitlab-url`, only resources tagged for
 * that instance (`gitlab-aws-oidc:gitlab-url`) are the project's; without it, a project found on more
 * than one instance is refused (run.ts, via `projectInstances`) before anything is planned.
 */
import type { InstanceProfileRef } from '../aws/ports.js';
import {
  federatedArns,
  instanceKey,
  isToolPolicyFor,
  sameGitlabUrl,
  sameInstance,
  sameProject,
} from '../core/tool-resources.js';
import {
  GITLAB_URL_TAG,
  isToolManaged,
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  type ManagedPolicyState,
  type OidcProviderState,
  PACK_TAG,
  PROJECT_TAG,
  type RoleState,
  type Tags,
} from '../core/types.js';
import { summarizeTrust } from '../status/drift.js';

/** Role tag listing the tool policies a destroy run is deleting (`<path><name>` separated by spaces). */
export const DESTROY_JOURNAL_TAG = 'gitlab-aws-oidc:destroying-policies';
const MAX_TAG_VALUE = 256;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export type DestroyTarget =
  | {
      project: string;
      /** Only the project's resources tagged for this GitLab instance (normalised https URL). */
      gitlabUrl?: string | undefined;
      role?: undefined;
    }
  | { role: string; project?: undefined; gitlabUrl?: undefined };

export interface DestroyCurrent {
  target: DestroyTarget;
  /** Roles to delete: the tool's roles of the project, or the named role. */
  roles: RoleState[];
  /** Inline policy names per role (the tool never creates any). */
  inlinePolicies: Record<string, string[]>;
  /** EC2 instance profiles per role (the tool never puts a role in one). Missing: none. */
  instanceProfiles?: Record<string, InstanceProfileRef[]> | undefined;
  /** Customer managed policies of this account attached to the roles, or found via the journal/default name. */
  policies: ManagedPolicyState[];
  /** Providers the roles federate to (missing ones are already gone). */
  providers: OidcProviderState[];
  /** Every role of the account outside `roles`, with the provider ARNs it federates to. */
  otherRoles: { name: string; providerArns: string[] }[];
}

export interface DestroyOptions {
  /** Allow deleting a role without the tool's tag, when named explicitly with --role. */
  force?: boolean | undefined;
  /** Keep the OIDC provider even if nothing else uses it. */
  keepProvider?: boolean | undefined;
}

export type DestroyStep =
  | { kind: 'tagRole'; roleName: string; tags: Tags }
  | { kind: 'removeRoleFromInstanceProfile'; roleName: string; profileName: string; profilePath: string }
  | { kind: 'deleteOidcProvider'; arn: string; url: string }
  | { kind: 'detachRolePolicy'; roleName: string; policyArn: string }
  | { kind: 'deletePolicyVersion'; policyArn: string; versionId: string }
  | { kind: 'deletePolicy'; policyArn: string }
  | { kind: 'deleteRole'; roleName: string; roleArn: string };

export interface DestroyResource {
  kind: 'role' | 'policy' | 'oidc-provider' | 'instance-profile';
  /** Role name, policy ARN, provider URL, instance profile path + name. */
  id: string;
  arn: string;
  action: 'delete' | 'detach' | 'keep';
  /** Why it is kept or only detached. */
  reason?: string | undefined;
}

export interface DestroyPlan {
  target: DestroyTarget;
  resources: DestroyResource[];
  steps: DestroyStep[];
  /** Reasons the run must not start (nothing is changed when there is one). */
  blockers: { message: string; hint: string }[];
  /**
   * Roles to take out of instance profiles (EC2 instances launched with them lose the role's
   * permissions). The steps are planned; running them needs consent (--remove-from-instance-profiles).
   */
  instanceProfileRemovals: { roleName: string; profile: InstanceProfileRef }[];
  hasChanges: boolean;
}

export { federatedArns, isToolManaged, sameGitlabUrl, sameInstance };

/** Matches the target's `--gitlab-url`, if it has one: then the resource must carry that tag. */
export function inTargetInstance(tags: Tags, target: DestroyTarget): boolean {
  return target.gitlabUrl === undefined || sameGitlabUrl(tags[GITLAB_URL_TAG], target.gitlabUrl);
}

export interface ProjectInstance {
  /** The `gitlab-aws-oidc:gitlab-url` tag; undefined for resources without it. */
  gitlabUrl: string | undefined;
  roles: string[];
  /** Tool policies of the project found without a role of that instance (left by an interrupted run). */
  policies: string[];
}

/**
 * The GitLab instances the `--project` target's resources were made for: its roles, and the
 * tool-managed policies tagged with the project that no role holds. Sorted by URL, untagged last.
 */
export function projectInstances(current: DestroyCurrent): ProjectInstance[] {
  const target = current.target;
  if (target.project === undefined) return [];
  const byKey = new Map<string, ProjectInstance>();
  const entry = (url: string | undefined) => {
    const key = url === undefined ? '' : instanceKey(url);
    let found = byKey.get(key);
    if (!found) {
      found = { gitlabUrl: url, roles: [], policies: [] };
      byKey.set(key, found);
    }
    return found;
  };
  for (const role of current.roles) entry(role.tags[GITLAB_URL_TAG]).roles.push(role.name);
  for (const policy of current.policies) {
    if (!isToolManaged(policy.tags) || !sameProject(policy.tags[PROJECT_TAG], target.project)) continue;
    if (!inTargetInstance(policy.tags, target)) continue;
    // Attached: it goes with its role, whatever its tag says.
    if (current.roles.some((r) => r.attachedPolicyArns.includes(policy.arn))) continue;
    const url = policy.tags[GITLAB_URL_TAG];
    // Untagged: made before the tag existed, it goes with its role. Tagged: listed if no role is.
    if (url === undefined) continue;
    const instance = entry(url);
    if (instance.roles.length === 0) instance.policies.push(policy.name);
  }
  return [...byKey.values()].sort((a, b) =>
    a.gitlabUrl === undefined ? 1 : b.gitlabUrl === undefined ? -1 : a.gitlabUrl.localeCompare(b.gitlabUrl),
  );
}

/** The journal value for these policies, or undefined when it does not fit in a tag. */
export function encodeJournal(policies: ManagedPolicyState[]): string | undefined {
  const value = policies
    .map((p) => `${p.path}${p.name}`)
    .sort()
    .join(' ');
  return value.length <= MAX_TAG_VALUE && TAG_VALUE.test(value) ? value : undefined;
}

/** Policy ARNs recorded in a role's journal tag. */
export function decodeJournal(role: Pick<RoleState, 'arn' | 'tags'>): string[] {
  const value = role.tags[DESTROY_JOURNAL_TAG];
  if (!value) return [];
  const m = /^arn:([^:]+):iam::(\d+):role\//.exec(role.arn);
  if (!m) return [];
  return value
    .split(' ')
    .filter(Boolean)
    .map((suffix) => `arn:${m[1]}:iam::${m[2]}:policy${suffix.startsWith('/') ? '' : '/'}${suffix}`);
}

/**
 * A per-group role (PACK_TAG) serves several projects: the plan line names them, since deleting it takes
 * every one's access away (`destroy --role` of a packed role; a fleet destroy deletes one only with all of them).
 */
function packedRoleReason(role: Pick<RoleState, 'tags' | 'trustPolicy'>): string | undefined {
  const group = role.tags[PACK_TAG];
  if (group === undefined) return undefined;
  const served = [...new Set(summarizeTrust(role.trustPolicy).subjects.map((s) => s.project))];
  const listed = served.slice(0, 5).join(', ');
  const more = served.length > 5 ? ` and ${served.length - 5} more` : '';
  return `per-group role of ${group}: the ${served.length} project${served.length === 1 ? '' : 's'} it trusts lose access: ${listed}${more}`;
}

export function buildDestroyPlan(current: DestroyCurrent, options: DestroyOptions = {}): DestroyPlan {
  const resources: DestroyResource[] = [];
  const blockers: DestroyPlan['blockers'] = [];
  const journalSteps: DestroyStep[] = [];
  const profileSteps: DestroyStep[] = [];
  const instanceProfileRemovals: DestroyPlan['instanceProfileRemovals'] = [];
  const providerSteps: DestroyStep[] = [];
  const detachSteps: DestroyStep[] = [];
  const policySteps: DestroyStep[] = [];
  const roleSteps: DestroyStep[] = [];
  const policyByArn = new Map(current.policies.map((p) => [p.arn, p]));
  const deletedPolicies = new Set<string>();
  /** Deletes a tool policy once: its non-default versions, then the policy. */
  const deletePolicy = (policy: ManagedPolicyState) => {
    deletedPolicies.add(policy.arn);
    for (const v of policy.versions.filter((v) => !v.isDefault)) {
      policySteps.push({ kind: 'deletePolicyVersion', policyArn: policy.arn, versionId: v.versionId });
    }
    policySteps.push({ kind: 'deletePolicy', policyArn: policy.arn });
  };

  for (const role of current.roles) {
    const managed = isToolManaged(role.tags);
    if (!managed) {
      if (
        !(
          options.force &&
          current.target.role !== undefined &&
          current.target.role.toLowerCase() === role.name.toLowerCase()
        )
      ) {
        blockers.push({
          message: `Role ${role.name} was not created by gitlab-aws-oidc (no ${MANAGED_BY_TAG}=${MANAGED_BY_VALUE} tag).`,
          hint: `Leave it alone, or pass --role ${role.name} --force to delete it anyway (its policies are detached, not deleted).`,
        });
        continue;
      }
    }
    const inline = current.inlinePolicies[role.name] ?? [];
    if (inline.length > 0) {
      blockers.push({
        message: `Role ${role.name} has inline policies (${inline.join(', ')}) that gitlab-aws-oidc did not create; IAM cannot delete the role while they exist.`,
        hint: inline
          .map((p) => `aws iam delete-role-policy --role-name ${role.name} --policy-name ${p}`)
          .join('\n'),
      });
      continue;
    }
    const project = role.tags[PROJECT_TAG];
    const isOurs = (p: ManagedPolicyState | undefined): p is ManagedPolicyState =>
      p !== undefined && managed && isToolPolicyFor(p.tags, role.tags, { untaggedProject: true });

    // Tool policies: attached ones, plus ones a previous interrupted run detached (journal) or
    // that carry the default name for the project (found by read.ts).
    const journal = new Set(decodeJournal(role));
    const attachedOurs = role.attachedPolicyArns.map((a) => policyByArn.get(a)).filter(isOurs);
    const detachedOurs = current.policies.filter(
      (p) =>
        !role.attachedPolicyArns.includes(p.arn) &&
        isOurs(p) &&
        (journal.has(p.arn) || sameProject(p.tags[PROJECT_TAG], project)),
    );
    const ours = [...attachedOurs, ...detachedOurs];
    const journalValue = encodeJournal(ours);
    if (ours.length > 0 && journalValue !== undefined && role.tags[DESTROY_JOURNAL_TAG] !== journalValue) {
      journalSteps.push({
        kind: 'tagRole',
        roleName: role.name,
        tags: { [DESTROY_JOURNAL_TAG]: journalValue },
      });
    }
    for (const policy of ours) {
      if (role.attachedPolicyArns.includes(policy.arn)) {
        detachSteps.push({ kind: 'detachRolePolicy', roleName: role.name, policyArn: policy.arn });
      }
      if (deletedPolicies.has(policy.arn)) continue;
      deletePolicy(policy);
      resources.push({ kind: 'policy', id: policy.name, arn: policy.arn, action: 'delete' });
    }
    for (const arn of role.attachedPolicyArns) {
      if (ours.some((p) => p.arn === arn)) continue;
      detachSteps.push({ kind: 'detachRolePolicy', roleName: role.name, policyArn: arn });
      const p = policyByArn.get(arn);
      resources.push({
        kind: 'policy',
        id: p?.name ?? arn.split('/').pop() ?? arn,
        arn,
        action: 'detach',
        reason: arn.includes(':iam::aws:policy/')
          ? 'AWS managed policy'
          : p && isToolManaged(p.tags)
            ? `managed for another project (${p.tags[PROJECT_TAG] ?? 'unknown'}${sameInstance(p.tags[GITLAB_URL_TAG], role.tags[GITLAB_URL_TAG]) ? '' : ` on ${p.tags[GITLAB_URL_TAG]}`})`
            : 'not created by gitlab-aws-oidc',
      });
    }
    for (const profile of current.instanceProfiles?.[role.name] ?? []) {
      instanceProfileRemovals.push({ roleName: role.name, profile });
      profileSteps.push({
        kind: 'removeRoleFromInstanceProfile',
        roleName: role.name,
        profileName: profile.name,
        profilePath: profile.path,
      });
      resources.push({
        kind: 'instance-profile',
        id: `${profile.path}${profile.name}`,
        arn: profile.arn,
        action: 'detach',
        reason: `role ${role.name} is removed from it; the profile is kept, and EC2 instances using it lose the role`,
      });
    }
    roleSteps.push({ kind: 'deleteRole', roleName: role.name, roleArn: role.arn });
    resources.push({
      kind: 'role',
      id: role.name,
      arn: role.arn,
      action: 'delete',
      reason: managed ? packedRoleReason(role) : 'not created by gitlab-aws-oidc; deleted because of --force',
    });
  }

  // Tool policies of the project that no target role holds any more (their role is gone).
  if (current.target.project !== undefined) {
    for (const policy of current.policies) {
      if (deletedPolicies.has(policy.arn) || !isToolManaged(policy.tags)) continue;
      if (!sameProject(policy.tags[PROJECT_TAG], current.target.project)) continue;
      if (!inTargetInstance(policy.tags, current.target)) continue;
      if (current.roles.some((r) => r.attachedPolicyArns.includes(policy.arn))) continue;
      deletePolicy(policy);
      resources.push({
        kind: 'policy',
        id: policy.name,
        arn: policy.arn,
        action: 'delete',
        reason: 'no longer attached to a role',
      });
    }
  }

  const deletedRoles = new Set(
    roleSteps
      .filter((s): s is Extract<DestroyStep, { kind: 'deleteRole' }> => s.kind === 'deleteRole')
      .map((s) => s.roleName),
  );
  for (const provider of current.providers) {
    const users = current.otherRoles.filter((r) => r.providerArns.includes(provider.arn)).map((r) => r.name);
    const blockedRoleUses = current.roles
      .filter((r) => !deletedRoles.has(r.name) && federatedArns(r).includes(provider.arn))
      .map((r) => r.name);
    const stillUsed = [...users, ...blockedRoleUses];
    let reason: string | undefined;
    if (!isToolManaged(provider.tags)) reason = 'not created by gitlab-aws-oidc';
    else if (options.keepProvider) reason = 'kept (--keep-provider)';
    else if (stillUsed.length > 0)
      reason = `still trusted by ${stillUsed.length === 1 ? 'role' : 'roles'} ${stillUsed.slice(0, 5).join(', ')}${stillUsed.length > 5 ? ', …' : ''}`;
    if (reason) {
      resources.push({ kind: 'oidc-provider', id: provider.url, arn: provider.arn, action: 'keep', reason });
    } else {
      providerSteps.push({ kind: 'deleteOidcProvider', arn: provider.arn, url: provider.url });
      resources.push({ kind: 'oidc-provider', id: provider.url, arn: provider.arn, action: 'delete' });
    }
  }

  const steps =
    blockers.length > 0
      ? []
      : [...journalSteps, ...profileSteps, ...providerSteps, ...detachSteps, ...policySteps, ...roleSteps];
  return {
    target: current.target,
    resources,
    steps,
    blockers,
    instanceProfileRemovals: blockers.length > 0 ? [] : instanceProfileRemovals,
    hasChanges: steps.length > 0,
  };
}

/** `project grp/app`, `project grp/app on https://gitlab.example.com`, `role gitlab-grp-app`. */
export function describeDestroyTarget(target: DestroyTarget): string {
  if (target.project === undefined) return `role ${target.role}`;
  return `project ${target.project}${target.gitlabUrl !== undefined ? ` on ${target.gitlabUrl}` : ''}`;
}

/** One line per step, for progress, dry runs and the done/not-done lists of a partial failure. */
export function describeDestroyStep(step: DestroyStep): string {
  switch (step.kind) {
    case 'tagRole':
      return `tag role ${step.roleName} with the policies being deleted`;
    case 'removeRoleFromInstanceProfile':
      return `remove role ${step.roleName} from instance profile ${step.profilePath}${step.profileName}`;
    case 'deleteOidcProvider':
      return `delete OIDC provider ${step.url}`;
    case 'detachRolePolicy':
      return `detach ${step.policyArn} from role ${step.roleName}`;
    case 'deletePolicyVersion':
      return `delete version ${step.versionId} of ${step.policyArn}`;
    case 'deletePolicy':
      return `delete policy ${step.policyArn}`;
    case 'deleteRole':
      return `delete role ${step.roleName}`;
  }
}
