/**
 * Reads what `destroy` needs through the IAM port: the target roles (by the tool's project tag and,
 * with --gitlab-url, its GitLab URL tag, or by name), their inline and attached policies, the tool policies a previous interrupted run
 * detached (journal tag, default policy name), the providers they trust, and which other roles
 * trust those providers. Reads only.
 */

import {
  type AccountSnapshot,
  readPolicyTags,
  snapshotPolicy,
  snapshotRole,
} from '../aws/account-snapshot.js';
import type { IamPort } from '../aws/ports.js';
import { DEFAULT_CONCURRENCY, mapWithConcurrency } from '../core/concurrency.js';
import { DEFAULT_POLICY_PATH, DEFAULT_ROLE_PATH, defaultPolicyName, policyArnFor } from '../core/naming.js';
import { sameProject } from '../core/tool-resources.js';
import {
  type Identity,
  type ManagedPolicyState,
  type OidcProviderState,
  PROJECT_TAG,
  type RoleState,
} from '../core/types.js';
import {
  type DestroyCurrent,
  type DestroyTarget,
  decodeJournal,
  federatedArns,
  inTargetInstance,
  isToolManaged,
} from './plan.js';

export interface ReadDestroyOptions {
  concurrency?: number | undefined;
  /**
   * The account read in bulk (aws/account-snapshot), e.g. by a fleet run planning many projects: then
   * roles, inline policy names, instance profiles, policy documents and providers come from it, and only
   * the tags of the candidate policies are read (GetPolicy each, once per snapshot).
   */
  snapshot?: AccountSnapshot | undefined;
}

export async function readDestroyState(
  iam: IamPort,
  identity: Pick<Identity, 'account' | 'partition'>,
  target: DestroyTarget,
  options: ReadDestroyOptions = {},
): Promise<DestroyCurrent> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const snapshot = options.snapshot;
  const allRoles: Pick<RoleState, 'name' | 'path' | 'trustPolicy'>[] = snapshot
    ? [...snapshot.roles.values()]
    : await iam.listRoles();
  const getRole = async (name: string) => (snapshot ? snapshotRole(snapshot, name) : iam.getRole(name));

  let roles: RoleState[];
  if (target.role !== undefined) {
    const role = await getRole(target.role);
    roles = role ? [role] : [];
  } else {
    const project = target.project;
    // ListRoles carries no tags: read the candidates (federated, or under the tool's default path).
    const candidates = allRoles.filter((r) => federatedArns(r).length > 0 || r.path === DEFAULT_ROLE_PATH);
    const states = await mapWithConcurrency(candidates, concurrency, (r) => getRole(r.name));
    roles = states.filter(
      (r): r is RoleState =>
        r !== undefined &&
        isToolManaged(r.tags) &&
        sameProject(r.tags[PROJECT_TAG], project) &&
        inTargetInstance(r.tags, target),
    );
  }

  const detailOf = (r: RoleState) => snapshot?.roleDetails.get(r.name.toLowerCase());
  const inline = await mapWithConcurrency(roles, concurrency, async (r) =>
    snapshot ? (detailOf(r)?.inlinePolicyNames ?? []) : iam.listInlineRolePolicies(r.name),
  );
  const inlinePolicies = Object.fromEntries(roles.map((r, i) => [r.name, inline[i] ?? []]));
  // IAM refuses DeleteRole while the role is in an instance profile: plan it, never meet it at the end.
  const profiles = await mapWithConcurrency(roles, concurrency, async (r) =>
    snapshot ? (detailOf(r)?.instanceProfiles ?? []) : iam.listInstanceProfilesForRole(r.name),
  );
  const instanceProfiles = Object.fromEntries(roles.map((r, i) => [r.name, profiles[i] ?? []]));

  const policyArns = toolPolicyCandidates(roles, identity, target.project);
  if (snapshot) await readPolicyTags(iam, snapshot, policyArns, concurrency);
  const policies = (
    await mapWithConcurrency([...policyArns], concurrency, async (arn) =>
      snapshot ? snapshotPolicy(snapshot, arn) : iam.getPolicy(arn),
    )
  ).filter((p): p is ManagedPolicyState => p !== undefined);

  const providerArns = [...new Set(roles.flatMap((r) => federatedArns(r)))];
  const providers = (
    await mapWithConcurrency(providerArns, concurrency, async (arn) =>
      snapshot ? snapshot.providers.find((p) => p.arn === arn) : iam.getOidcProvider(arn),
    )
  ).filter((p): p is OidcProviderState => p !== undefined);

  const targetNames = new Set(roles.map((r) => r.name.toLowerCase()));
  const otherRoles = allRoles
    .filter((r) => !targetNames.has(r.name.toLowerCase()))
    .map((r) => ({ name: r.name, providerArns: federatedArns(r) }))
    .filter((r) => r.providerArns.length > 0);

  return { target, roles, inlinePolicies, instanceProfiles, policies, providers, otherRoles };
}

/**
 * Customer managed policies of this account that may be the tool's for these roles: those attached,
 * those a previous interrupted run detached (journal tag), and the default-named policy of each
 * project involved (the target's and the roles' project tags).
 */
export function toolPolicyCandidates(
  roles: RoleState[],
  identity: Pick<Identity, 'account' | 'partition'>,
  targetProject: string | undefined,
): Set<string> {
  const local = `:iam::${identity.account}:policy/`;
  const policyArns = new Set<string>();
  const projects = new Set<string>();
  if (targetProject !== undefined) projects.add(targetProject);
  for (const role of roles) {
    for (const arn of role.attachedPolicyArns) if (arn.includes(local)) policyArns.add(arn);
    for (const arn of decodeJournal(role)) policyArns.add(arn);
    const project = role.tags[PROJECT_TAG];
    if (project) projects.add(project);
  }
  for (const project of projects) {
    policyArns.add(
      policyArnFor(identity.partition, identity.account, DEFAULT_POLICY_PATH, defaultPolicyName(project)),
    );
  }
  return policyArns;
}
