/** Reads what exists today. The reads are independent, so they run concurrently. */
import type { CurrentState } from '../core/types.js';
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
