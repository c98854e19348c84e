/**
 * The account read in bulk, and the per-role and per-project state built from it: what `audit`,
 * `status` and the fleet planner use instead of a GetRole + ListAttachedRolePolicies per role and a
 * GetPolicy + GetPolicyVersion + ListPolicyVersions per policy.
 *
 * Where each field comes from (none of IAM's bulk reads carries everything):
 * - GetAccountAuthorizationDetails (Filter Role, LocalManagedPolicy; up to 1,000 entities a page): each role's
 *   trust policy, boundary, tags and attachments; each customer managed policy with every version.
 * - ListRoles (up to 1,000 a page): MaxSessionDuration and Description, which the bulk read lacks.
 * - ListOpenIDConnectProviders + one GetOpenIDConnectProvider per provider: no bulk read returns a
 *   provider's URL, client IDs, thumbprints or tags (an account has a handful).
 * - GetPolicy per customer managed policy whose tags matter (the bulk read and ListPolicies carry no
 *   policy tags, and the tags say whether the tool made it and what it last wrote): `readPolicyTags`,
 *   only for the ARNs a caller names.
 *
 * Only `readAccountDetails`, `readAccountSnapshot` and `readPolicyTags` call IAM; the rest is pure.
 */
import { mapWithConcurrency } from '../core/concurrency.js';
import type { CurrentState, ManagedPolicyState, OidcProviderState, RoleState, Tags } from '../core/types.js';
import { AbortError, CliError } from '../errors.js';
import type {
  AccountAuthorizationDetails,
  IamPort,
  LocalPolicyDetail,
  RoleDetail,
  RoleSummary,
} from './ports.js';
import { type StateTargets, statePolicyArns } from './read-state.js';

const describeError = (error: unknown): string =>
  error instanceof CliError || error instanceof Error ? error.message : String(error);

/**
 * GetAccountAuthorizationDetails, all pages; undefined, with a progress line saying so, when it cannot be
 * read (e.g. a policy that grants only the per-role reads): the caller then reads role by role.
 */
export async function readAccountDetails(
  iam: Pick<IamPort, 'getAccountAuthorizationDetails'>,
  progress: (message: string) => void,
): Promise<AccountAuthorizationDetails | undefined> {
  try {
    return await iam.getAccountAuthorizationDetails();
  } catch (error) {
    // Ctrl-C/SIGTERM ends the run (exit 130).
    if (error instanceof AbortError) throw error;
    progress(`Reading the account in bulk failed (${describeError(error)}): reading role by role instead.`);
    return undefined;
  }
}

/** A role as GetRole + ListAttachedRolePolicies give it, from ListRoles' entry and the bulk read's. */
export function roleStateOf(summary: RoleSummary, detail: RoleDetail): RoleState {
  return {
    name: detail.name,
    path: detail.path,
    arn: detail.arn,
    trustPolicy: detail.trustPolicy,
    maxSessionDuration: summary.maxSessionDuration,
    permissionsBoundaryArn: detail.permissionsBoundaryArn,
    description: summary.description,
    tags: detail.tags,
    attachedPolicyArns: detail.attachedPolicyArns,
  };
}

/** A customer managed policy as `getPolicy` gives it, from the bulk read and the policy's tags. */
export function policyStateOf(detail: LocalPolicyDetail, tags: Tags): ManagedPolicyState {
  return {
    arn: detail.arn,
    name: detail.name,
    path: detail.path,
    defaultVersionId: detail.defaultVersionId,
    document: detail.document,
    versions: detail.versions,
    tags,
    attachmentCount: detail.attachmentCount,
  };
}

export interface AccountSnapshot {
  /** Every OIDC provider of the account. */
  providers: OidcProviderState[];
  /** Every role in both ListRoles and the bulk read, by lower-cased name (IAM role names are case-insensitive). */
  roles: Map<string, RoleState>;
  /** The bulk read's entry of each of `roles` (inline policy names, instance profiles), by lower-cased name. */
  roleDetails: Map<string, RoleDetail>;
  /** Every customer managed policy, by ARN. */
  policies: Map<string, LocalPolicyDetail>;
  /** Tags of the customer managed policies read so far (`readPolicyTags`), by ARN. */
  policyTags: Map<string, Tags>;
}

/**
 * Joins the reads into a snapshot. A role in only one of ListRoles and the bulk read (created or deleted
 * between the two) is left out: read it with GetRole.
 */
export function buildAccountSnapshot(input: {
  providers: OidcProviderState[];
  roleSummaries: RoleSummary[];
  details: AccountAuthorizationDetails;
}): AccountSnapshot {
  const summaryOf = new Map(input.roleSummaries.map((r) => [r.arn, r]));
  const roles = new Map<string, RoleState>();
  const roleDetails = new Map<string, RoleDetail>();
  for (const detail of input.details.roles) {
    const summary = summaryOf.get(detail.arn);
    if (!summary) continue;
    roles.set(detail.name.toLowerCase(), roleStateOf(summary, detail));
    roleDetails.set(detail.name.toLowerCase(), detail);
  }
  return {
    providers: input.providers,
    roles,
    roleDetails,
    policies: new Map(input.details.policies.map((p) => [p.arn, p])),
    policyTags: new Map(),
  };
}

export interface AccountReads {
  providers: OidcProviderState[];
  roleSummaries: RoleSummary[];
  /** Undefined when the bulk read was refused (said on `progress`). */
  snapshot: AccountSnapshot | undefined;
}

/**
 * The providers, ListRoles and the bulk read, concurrently; the snapshot joins them. About
 * 2 + providers + 2 × (roles + customer policies) / 1,000 calls (pages of MaxItems 1,000). No policy tags yet: `readPolicyTags`.
 */
/** Every OIDC provider of the account: one listing, then GetOpenIDConnectProvider each (`concurrency` in flight). */
export async function readOidcProviders(
  iam: Pick<IamPort, 'listOidcProviderArns' | 'getOidcProvider'>,
  concurrency: number,
): Promise<OidcProviderState[]> {
  const arns = await iam.listOidcProviderArns();
  const providers = await mapWithConcurrency(arns, concurrency, (arn) => iam.getOidcProvider(arn));
  return providers.filter((p): p is OidcProviderState => p !== undefined);
}

export async function readAccountSnapshot(
  iam: Pick<
    IamPort,
    'listOidcProviderArns' | 'getOidcProvider' | 'listRoles' | 'getAccountAuthorizationDetails'
  >,
  { concurrency, progress = () => {} }: { concurrency: number; progress?: (message: string) => void },
): Promise<AccountReads> {
  const [providers, roleSummaries, details] = await Promise.all([
    readOidcProviders(iam, concurrency),
    iam.listRoles(),
    readAccountDetails(iam, progress),
  ]);
  return {
    providers,
    roleSummaries,
    snapshot: details ? buildAccountSnapshot({ providers, roleSummaries, details }) : undefined,
  };
}

/**
 * Reads the tags of the named customer managed policies that exist in the snapshot and are not read yet
 * (one GetPolicy each, `concurrency` in flight), into `snapshot.policyTags`. A policy deleted since the
 * bulk read is dropped from the snapshot.
 */
export async function readPolicyTags(
  iam: Pick<IamPort, 'getPolicySummary'>,
  snapshot: AccountSnapshot,
  arns: Iterable<string>,
  concurrency: number,
): Promise<void> {
  const todo = [...new Set(arns)].filter((a) => snapshot.policies.has(a) && !snapshot.policyTags.has(a));
  const read = await mapWithConcurrency(todo, concurrency, (arn) => iam.getPolicySummary(arn));
  todo.forEach((arn, i) => {
    const got = read[i];
    if (got) snapshot.policyTags.set(arn, got.tags);
    else snapshot.policies.delete(arn);
  });
}

/** The role by name, as GetRole gives it (IAM role names are case-insensitive); undefined when absent. */
export function snapshotRole(snapshot: AccountSnapshot, name: string): RoleState | undefined {
  return snapshot.roles.get(name.toLowerCase());
}

/**
 * The customer managed policy as `getPolicy` gives it; undefined when absent. Its tags must have been
 * read (`readPolicyTags`): a programming error otherwise, since guessing them would misjudge ownership.
 */
export function snapshotPolicy(snapshot: AccountSnapshot, arn: string): ManagedPolicyState | undefined {
  const detail = snapshot.policies.get(arn);
  if (!detail) return undefined;
  const tags = snapshot.policyTags.get(arn);
  if (!tags) throw new Error(`snapshotPolicy: the tags of ${arn} were not read (call readPolicyTags first)`);
  return policyStateOf(detail, tags);
}

/** The policies whose tags `currentStateFromSnapshot` needs for these targets: pass them to `readPolicyTags`. */
export function policyArnsNeeded(snapshot: AccountSnapshot, targets: StateTargets): string[] {
  const { policy, unwanted } = statePolicyArns(snapshotRole(snapshot, targets.roleName), targets);
  return [...(policy ? [policy] : []), ...unwanted].filter((arn) => snapshot.policies.has(arn));
}

/**
 * The CurrentState `readCurrentState` (aws/read-state) reads for one project, built from the snapshot
 * instead, without a call: so N projects are planned from one bulk read. Pure. The tags of
 * `policyArnsNeeded(snapshot, targets)` must have been read.
 */
export function currentStateFromSnapshot(snapshot: AccountSnapshot, targets: StateTargets): CurrentState {
  const provider = snapshot.providers.find((p) => p.arn === targets.providerArn);
  const role = snapshotRole(snapshot, targets.roleName);
  const { policy: policyArn, unwanted } = statePolicyArns(role, targets);
  const policy = policyArn ? snapshotPolicy(snapshot, policyArn) : undefined;
  const unwantedPolicies = unwanted
    .map((arn) => snapshotPolicy(snapshot, arn))
    .filter((p): p is ManagedPolicyState => p !== undefined);
  return { provider, role, policy, ...(unwantedPolicies.length ? { unwantedPolicies } : {}) };
}
