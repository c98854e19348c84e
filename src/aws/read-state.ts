/** Reads what exists today. The reads are independent, so they run concurrently. */
import type { CurrentState, ManagedPolicyState } from '../core/types.js';
import { federatedArns } from '../destroy/plan.js';
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

const isCustomerPolicy = (arn: string) => /^arn:[^:]+:iam::\d{12}:policy\//.test(arn);

export async function readCurrentState(
  iam: Pick<IamPort, 'getOidcProvider' | 'getRole' | 'getPolicy'>,
  { providerArn, roleName, policyArn, managedPolicyArns = [], formerPolicyArn }: StateTargets,
): Promise<CurrentState> {
  const [provider, role, policy] = await Promise.all([
    iam.getOidcProvider(providerArn),
    iam.getRole(roleName),
    policyArn ? iam.getPolicy(policyArn) : Promise.resolve(undefined),
  ]);
  const unwanted = (role?.attachedPolicyArns ?? []).filter(
    (arn) => isCustomerPolicy(arn) && arn !== policyArn && !managedPolicyArns.includes(arn),
  );
  if (role && formerPolicyArn && !policyArn && !unwanted.includes(formerPolicyArn))
    unwanted.push(formerPolicyArn);
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
