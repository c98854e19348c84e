/**
 * Two `init`s for two projects of one GitLab instance can both plan "create the OIDC provider" (an
 * account has one provider per issuer URL). The one that loses gets EntityAlreadyExists: instead of
 * failing, it re-reads the provider the other run just created and continues with it, adding its own
 * client IDs when they are missing. Thumbprints and tags are left as the winner set them (the same
 * issuer gives the same thumbprints; a difference is reported, not overwritten).
 */
import type { PlanStep } from '../core/types.js';
import { AwsError } from '../errors.js';
import type { IamPort } from './ports.js';

type CreateProviderStep = Extract<PlanStep, { kind: 'createProvider' }>;

export function isEntityAlreadyExists(error: unknown): boolean {
  return error instanceof AwsError && error.awsCode === 'EntityAlreadyExists';
}

export interface AdoptedProvider {
  arn: string;
  /** How the step ended, for the applied list: `adopted OIDC provider …: created concurrently …`. */
  description: string;
}

/**
 * After CreateOpenIDConnectProvider answered EntityAlreadyExists for `arn`: reads the provider and adds
 * the step's missing client IDs (each through `run`, the step's retry). Rethrows `conflict` when the
 * provider cannot be read back (it went away again, or the ARN is not the one planned).
 */
export async function adoptConcurrentProvider(
  iam: Pick<IamPort, 'getOidcProvider' | 'addOidcClientId'>,
  arn: string,
  step: CreateProviderStep,
  conflict: unknown,
  run: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn(),
): Promise<AdoptedProvider> {
  const provider = await iam.getOidcProvider(arn);
  if (!provider) throw conflict;
  const missing = step.clientIds.filter((id) => !provider.clientIds.includes(id));
  for (const clientId of missing) await run(() => iam.addOidcClientId(arn, clientId));
  const notes = [missing.length ? `client ID ${missing.join(', ')} added` : 'client ID already registered'];
  const extra = step.thumbprints.filter((t) => !provider.thumbprints.includes(t));
  if (extra.length) notes.push(`its thumbprints were kept (this run computed ${extra.join(', ')})`);
  return {
    arn,
    description: `adopted OIDC provider ${step.url}: created concurrently by another run; ${notes.join('; ')}`,
  };
}
