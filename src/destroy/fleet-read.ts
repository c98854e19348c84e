/**
 * What `destroy --group/--config` reads: the account once in bulk (GetAccountAuthorizationDetails:
 * every role with its tags, attachments, inline policy names and instance profiles; every customer
 * managed policy), the OIDC providers, and per member only the tool policies it would delete
 * (GetPolicy, for their tags; only policies the bulk read shows exist). Each member's state is then
 * the `DestroyCurrent` a single `destroy --project` plans from (`buildDestroyPlan`); the providers
 * are decided once for the whole fleet (see fleet.ts).
 */

import { readOidcProviders } from '../aws/account-snapshot.js';
import type { IamPort, LocalPolicyDetail, RoleDetail } from '../aws/ports.js';
import { sameProject } from '../core/tool-resources.js';
import {
  type Identity,
  isToolManaged,
  type ManagedPolicyState,
  type OidcProviderState,
  PROJECT_TAG,
  type RoleState,
} from '../core/types.js';
import { type DestroyCurrent, inTargetInstance } from './plan.js';
import { toolPolicyCandidates } from './read.js';

export interface FleetSnapshot {
  roles: RoleDetail[];
  localPolicies: Map<string, LocalPolicyDetail>;
  providers: OidcProviderState[];
}

export async function readFleetSnapshot(iam: IamPort, concurrency: number): Promise<FleetSnapshot> {
  const [details, providers] = await Promise.all([
    iam.getAccountAuthorizationDetails(),
    readOidcProviders(iam, concurrency),
  ]);
  return { roles: details.roles, localPolicies: new Map(details.policies.map((p) => [p.arn, p])), providers };
}

/** A bulk-read role as the plan takes it (the bulk read has no MaxSessionDuration; destroy never uses it). */
const toRoleState = (r: RoleDetail): RoleState => ({
  name: r.name,
  path: r.path,
  arn: r.arn,
  trustPolicy: r.trustPolicy,
  maxSessionDuration: 0,
  permissionsBoundaryArn: r.permissionsBoundaryArn,
  tags: r.tags,
  attachedPolicyArns: r.attachedPolicyArns,
});

/** The tool's roles of one project (and instance, when the fleet names one), from the snapshot. */
export function memberRoles(
  snapshot: FleetSnapshot,
  target: { project: string; gitlabUrl?: string | undefined },
): RoleDetail[] {
  return snapshot.roles.filter(
    (r) =>
      isToolManaged(r.tags) &&
      sameProject(r.tags[PROJECT_TAG], target.project) &&
      inTargetInstance(r.tags, target),
  );
}

/** One member's `DestroyCurrent` (no providers: those are the fleet's). Reads only its tool policies. */
export async function readMemberState(
  iam: IamPort,
  identity: Pick<Identity, 'account' | 'partition'>,
  snapshot: FleetSnapshot,
  target: { project: string; gitlabUrl?: string | undefined },
  /** Per-group roles planned with this member (destroy/packed.ts). */
  packed: readonly RoleDetail[] = [],
): Promise<DestroyCurrent> {
  const details = [...memberRoles(snapshot, target), ...packed];
  const roles = details.map(toRoleState);
  const candidates = toolPolicyCandidates(roles, identity, target.project);
  const policies: ManagedPolicyState[] = [];
  for (const arn of candidates) {
    // The bulk read lists every customer managed policy: one it does not show does not exist.
    if (!snapshot.localPolicies.has(arn)) continue;
    const policy = await iam.getPolicy(arn);
    if (policy) policies.push(policy);
  }
  return {
    target: {
      project: target.project,
      ...(target.gitlabUrl !== undefined ? { gitlabUrl: target.gitlabUrl } : {}),
    },
    roles,
    inlinePolicies: Object.fromEntries(details.map((r) => [r.name, r.inlinePolicyNames])),
    instanceProfiles: Object.fromEntries(details.map((r) => [r.name, r.instanceProfiles ?? []])),
    policies,
    providers: [],
    otherRoles: [],
  };
}
