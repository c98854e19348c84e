/** Reads what exists today. The reads are independent, so they run concurrently. */
import { DEFAULT_POLICY_PATH, policyArnFor } from '../core/naming.js';
import { federatedArns } from '../core/tool-resources.js';
import type { CurrentState, DesiredState, Identity, ManagedPolicyState, RoleState } from '../core/types.js';
import type { IamPort } from './ports.js';

export interface StateTargets {
  providerArn: string;
  roleName: string;
  /** Only when the tool manages a permission policy. */
  policyArn?: string | undefined;
  /**
   * The managed policy ARNs the run wants attached. The role's other customer managed policies are
   * read too, so the plan can tell the tool's own policy of an earlier run from one attached by hand.
   */
  managedPolicyArns?: readonly string[] | undefined;
  /** When the run wants no tool policy: the ARN its policy name would have, to find one left detached. */
  formerPolicyArn?: string | undefined;
}

/**
 * What a run reads for its desired state: the provider, the role, the tool policy (or, when the run
 * wants none, the ARN `policyName` would have, to find one an earlier run left detached).
 */
export function stateTargetsFor(
  desired: DesiredState,
  identity: Pick<Identity, 'account' | 'partition'>,
  policyName: string,
): StateTargets {
  return {
    providerArn: desired.provider.arn,
    roleName: desired.role.name,
    policyArn: desired.policy?.arn,
    managedPolicyArns: desired.role.managedPolicyArns,
    formerPolicyArn: desired.policy
      ? undefined
      : policyArnFor(identity.partition, identity.account, DEFAULT_POLICY_PATH, policyName),
  };
}

const isCustomerPolicy = (arn: string) => /^arn:[^:]+:iam::\d{12}:policy\//.test(arn);

/**
 * The customer policy ARNs the state reads besides the role and provider: the tool's policy, and the
 * ones the run does not want (attached to the role, or the former policy name). Shared with
 * `currentStateFromSnapshot` (aws/account-snapshot), so both read the same policies.
 */
export function statePolicyArns(
  role: Pick<RoleState, 'attachedPolicyArns'> | undefined,
  { policyArn, managedPolicyArns = [], formerPolicyArn }: StateTargets,
): { policy?: string | undefined; unwanted: string[] } {
  const unwanted = (role?.attachedPolicyArns ?? []).filter(
    (arn) => isCustomerPolicy(arn) && arn !== policyArn && !managedPolicyArns.includes(arn),
  );
  if (role && formerPolicyArn && !policyArn && !unwanted.includes(formerPolicyArn))
    unwanted.push(formerPolicyArn);
  return { policy: policyArn, unwanted };
}

export async function readCurrentState(
  iam: Pick<IamPort, 'getOidcProvider' | 'getRole' | 'getPolicy'>,
  targets: StateTargets,
): Promise<CurrentState> {
  const { providerArn, roleName, policyArn } = targets;
  const [provider, role, policy] = await Promise.all([
    iam.getOidcProvider(providerArn),
    iam.getRole(roleName),
    policyArn ? iam.getPolicy(policyArn) : Promise.resolve(undefined),
  ]);
  const { unwanted } = statePolicyArns(role, targets);
  const unwantedPolicies = (await Promise.all(unwanted.map((arn) => iam.getPolicy(arn)))).filter(
    (p): p is ManagedPolicyState => p !== undefined,
  );
  return { provider, role, policy, ...(unwantedPolicies.length ? { unwantedPolicies } : {}) };
}

/**
 * The other roles whose trust policy names the provider (one paginated ListRoles, which returns the
 * trust documents): read only when the plan would change something every one of them relies on.
 */
export async function readProviderUsers(
  iam: Pick<IamPort, 'listRoles'>,
  providerArn: string,
  exceptRoleName: string,
): Promise<string[]> {
  const roles = await iam.listRoles();
  return roles
    .filter((r) => r.name.toLowerCase() !== exceptRoleName.toLowerCase())
    .filter((r) => federatedArns(r).includes(providerArn))
    .map((r) => r.name)
    .sort();
}

export interface ExistingRole {
  role: RoleState;
  /** The ARN the tool-managed permission policy of this run would have (in the role's account). */
  toolPolicyArn: string;
  /** That policy, when it exists and is attached to the role. */
  toolPolicy?: ManagedPolicyState | undefined;
}

/**
 * The role `init` is about to converge, as it is now, with the tool-managed permission policy it has
 * attached (iam:GetRole, iam:ListAttachedRolePolicies, and iam:GetPolicy/GetPolicyVersion when the
 * policy is attached); undefined when there is no such role. Read before the wizard asks anything, so a
 * re-run starts from the current state.
 */
export async function readExistingRole(
  iam: Pick<IamPort, 'getRole' | 'getPolicy'>,
  { roleName, policyName }: { roleName: string; policyName: string },
): Promise<ExistingRole | undefined> {
  const role = await iam.getRole(roleName);
  if (!role) return undefined;
  const [, partition = 'aws', , , account = ''] = role.arn.split(':');
  const toolPolicyArn = policyArnFor(partition, account, DEFAULT_POLICY_PATH, policyName);
  const toolPolicy = role.attachedPolicyArns.includes(toolPolicyArn)
    ? await iam.getPolicy(toolPolicyArn)
    : undefined;
  return { role, toolPolicyArn, toolPolicy };
}
