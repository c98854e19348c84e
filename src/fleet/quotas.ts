/**
 * What a fleet's plans would add, in the form core/quotas.ts checks (pure): roles and policies to
 * create, the managed policies each role will have attached, each provider's client IDs after the
 * run, the OIDC providers created against those the account has, and the size of every trust policy
 * written.
 */
import type { FleetQuotaPlan } from '../core/quotas.js';
import { trustPolicySize } from '../core/trust-policy.js';
import type { PlannedInit } from '../init/run.js';

export function fleetQuotaPlan(
  plans: readonly PlannedInit[],
  account: {
    /** ListOpenIDConnectProviders' count; undefined when it was not read. */
    existingProviders?: number | undefined;
  } = {},
): FleetQuotaPlan {
  let rolesToCreate = 0;
  let policiesToCreate = 0;
  const managedPoliciesPerRole: { roleName: string; count: number }[] = [];
  const trustPolicies: { roleName: string; size: number }[] = [];
  const clientIds = new Map<string, { url: string; ids: Set<string> }>();
  // The members of a packed role (`role: per-group`) all plan the same role and policy: counted once.
  const seenRoles = new Set<string>();
  const seenPolicies = new Set<string>();
  // Every member of one GitLab instance plans the same provider: created once.
  const createdProviders = new Set<string>();
  for (const p of plans) {
    if (p.result.plan.steps.some((s) => s.kind === 'createProvider'))
      createdProviders.add(p.result.providerArn);
    const { steps, trustPolicy } = p.result.plan;
    const role = steps.find((s) => s.kind === 'createRole');
    const roleName = role?.kind === 'createRole' ? role.name : p.current.role?.name;
    const roleKey = roleName?.toLowerCase();
    const repeated = roleKey !== undefined && seenRoles.has(roleKey);
    if (roleKey !== undefined) seenRoles.add(roleKey);
    if (role && !repeated) rolesToCreate++;
    for (const s of steps) {
      if (s.kind !== 'createPolicy' || seenPolicies.has(s.name)) continue;
      seenPolicies.add(s.name);
      policiesToCreate++;
    }
    if (repeated) {
      // Its provider changes still count (below); the role's were counted with its first member.
      countClientIds(p, clientIds);
      continue;
    }
    const attached = new Set(p.current.role?.attachedPolicyArns ?? []);
    for (const s of steps) {
      if (s.kind === 'attachPolicy') attached.add(s.policyArn);
      if (s.kind === 'detachPolicy') attached.delete(s.policyArn);
    }
    const changesRole = steps.some((s) => 'roleName' in s || s.kind === 'createRole');
    if (roleName && changesRole) managedPoliciesPerRole.push({ roleName, count: attached.size });
    if (roleName && steps.some((s) => s.kind === 'createRole' || s.kind === 'updateTrustPolicy'))
      trustPolicies.push({ roleName, size: trustPolicySize(trustPolicy.after) });
    countClientIds(p, clientIds);
  }
  return {
    rolesToCreate,
    policiesToCreate,
    managedPoliciesPerRole,
    providers: [...clientIds.values()].map((e) => ({ url: e.url, clientIds: e.ids.size })),
    oidcProviders: { existing: account.existingProviders, toCreate: createdProviders.size },
    trustPolicies,
    trustPolicyMax: plans[0]?.options.trustPolicyMax,
  };
}

/** The client IDs `p` adds to its provider, into `clientIds` (per provider ARN). */
function countClientIds(p: PlannedInit, clientIds: Map<string, { url: string; ids: Set<string> }>): void {
  const arn = p.result.providerArn;
  for (const s of p.result.plan.steps) {
    if (s.kind !== 'createProvider' && s.kind !== 'addClientId') continue;
    const entry = clientIds.get(arn) ?? {
      url: p.result.gitlabUrl,
      ids: new Set(p.current.provider?.clientIds ?? []),
    };
    for (const id of s.kind === 'createProvider' ? s.clientIds : [s.clientId]) entry.ids.add(id);
    clientIds.set(arn, entry);
  }
}
