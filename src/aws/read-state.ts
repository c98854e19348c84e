/** Reads what exists today. The reads are independent, so they run concurrently. */
import { DEFAULT_POLICY_PATH, policyArnFor } from '../core/naming.js';
import type { CurrentState, ManagedPolicyState, RoleState } from '../core/types.js';
import type { IamPort } from './ports.js';

export interface StateTargets {
  providerArn: string;
  roleName: string;
  /** Only when the tool manages a permission policy. */
  policyArn?: string | undefined;
}

export async function readCurrentState(
  iam: Pick<IamPort, 'getOidcProvider' | 'getRole' | 'getPolicy'>,
  { providerArn, roleName, policyArn }: StateTargets,
): Promise<CurrentState> {
  const [provider, role, policy] = await Promise.all([
    iam.getOidcProvider(providerArn),
    iam.getRole(roleName),
    policyArn ? iam.getPolicy(policyArn) : Promise.resolve(undefined),
  ]);
  return { provider, role, policy };
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
