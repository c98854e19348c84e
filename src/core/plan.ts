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
import { CliError } from '../errors.js';
import { policyProvenance, policyRecordTags } from './ownership.js';
import { planRole } from './plan-role.js';
import {
  type Acc,
  checkOwnership,
  missingTags,
  type PlanOptions,
  requireConsent,
  requireDriftConsent,
  show,
  tagChanges,
} from './plan-shared.js';
import { policiesEqual } from './policy-json.js';
import type { CurrentState, DesiredState, FieldChange, ManagedPolicyState, Plan } from './types.js';

export { buildDesiredState, type DesiredStateInput, type DesiredStateResult } from './desired-state.js';
export { alignRolePath } from './plan-role.js';
export type { PlanOptions } from './plan-shared.js';

const MAX_CLIENT_IDS = 100;
const MAX_POLICY_VERSIONS = 5;

export { isToolManaged } from './types.js';

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
    if (managed && policyProvenance(have.tags, have.document) === 'drifted')
      requireDriftConsent(
        acc,
        change,
        want.name,
        `Policy ${want.name}: the document (default version ${have.defaultVersionId}) was changed outside gitlab-aws-oidc; this run replaces it`,
      );
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
