/**
 * Executes one plan step against the IamPort, with the eventual-consistency retries that step
 * needs. Used by `apply.ts`; no SDK import.
 */
import type { Plan, PlanStep } from '../core/types.js';
import { adoptConcurrentProvider, isEntityAlreadyExists } from './adopt-provider.js';
import type { IamPort } from './ports.js';
import {
  anyOf,
  except,
  isConcurrentModification,
  isInvalidPrincipal,
  isMissingAwsManagedPolicy,
  isNoSuchEntity,
  type RetryOptions,
  type RetryPredicate,
  retryWithBackoff,
} from './retry.js';

/** What this run created so far: later steps on those entities may meet IAM's propagation delay. */
export interface RunContext {
  createdRoleNames: Set<string>;
  createdPolicyArns: Set<string>;
  providerArn?: string;
  roleArn?: string;
  policyArn?: string;
  /** The provider ARN the plan expects (to adopt one created concurrently by another run). */
  plannedProviderArn?: string | undefined;
  /** Steps that ended differently from their plan line (the line to report instead). */
  outcomes: Map<PlanStep, string>;
}

export function createRunContext(plan?: Pick<Plan, 'resources'>): RunContext {
  return {
    createdRoleNames: new Set(),
    createdPolicyArns: new Set(),
    plannedProviderArn: plan?.resources.find((r) => r.kind === 'oidc-provider')?.arn,
    outcomes: new Map(),
  };
}

export async function runStep(
  step: PlanStep,
  iam: IamPort,
  ctx: RunContext,
  retry: RetryOptions,
): Promise<void> {
  const withRetry = <T>(fn: () => Promise<T>, retryIf: RetryPredicate = isConcurrentModification) =>
    retryWithBackoff(fn, retryIf, retry);
  // NoSuchEntity on a role or policy this run created is propagation, not absence.
  const justCreated = (roleName: string, policyArn?: string) =>
    ctx.createdRoleNames.has(roleName) || (policyArn !== undefined && ctx.createdPolicyArns.has(policyArn));
  const onRole = (roleName: string, policyArn?: string) =>
    justCreated(roleName, policyArn)
      ? anyOf(isConcurrentModification, isNoSuchEntity)
      : isConcurrentModification;

  switch (step.kind) {
    case 'createProvider': {
      const { url, clientIds, thumbprints, tags } = step;
      try {
        ctx.providerArn = await withRetry(() =>
          iam.createOidcProvider({ url, clientIds, thumbprints, tags }),
        );
      } catch (error) {
        // Another run (another project's init) created it since this run read IAM: continue with it.
        if (!isEntityAlreadyExists(error) || !ctx.plannedProviderArn) throw error;
        const adopted = await adoptConcurrentProvider(iam, ctx.plannedProviderArn, step, error, withRetry);
        ctx.providerArn = adopted.arn;
        ctx.outcomes.set(step, adopted.description);
      }
      return;
    }
    case 'addClientId':
      return withRetry(() => iam.addOidcClientId(step.providerArn, step.clientId));
    case 'updateThumbprints':
      return withRetry(() => iam.updateOidcThumbprints(step.providerArn, step.thumbprints));
    case 'tagProvider':
      return withRetry(() => iam.tagOidcProvider(step.providerArn, step.tags));
    case 'createPolicy': {
      const { name, path, document, tags } = step;
      const arn = await withRetry(() => iam.createPolicy({ name, path, document, tags }));
      ctx.createdPolicyArns.add(arn);
      ctx.policyArn = arn;
      return;
    }
    case 'createPolicyVersion': {
      const { pruneVersionId } = step;
      if (pruneVersionId) {
        // Already gone (an earlier, interrupted run) is fine.
        await withRetry(() => iam.deletePolicyVersion(step.policyArn, pruneVersionId)).catch(
          (error: unknown) => {
            if (!isNoSuchEntity(error)) throw error;
          },
        );
      }
      return withRetry(() => iam.createPolicyVersion(step.policyArn, step.document));
    }
    case 'createRole': {
      const { kind: _kind, ...input } = step;
      ctx.roleArn = await withRetry(
        () => iam.createRole(input),
        anyOf(isInvalidPrincipal, isConcurrentModification),
      );
      ctx.createdRoleNames.add(step.name);
      return;
    }
    case 'updateTrustPolicy':
      return withRetry(
        () => iam.updateTrustPolicy(step.roleName, step.trustPolicy),
        anyOf(isInvalidPrincipal, isConcurrentModification),
      );
    case 'updateRole': {
      const { maxSessionDuration, description } = step;
      return withRetry(() => iam.updateRole(step.roleName, { maxSessionDuration, description }));
    }
    case 'putPermissionsBoundary':
      return withRetry(() => iam.putPermissionsBoundary(step.roleName, step.boundaryArn));
    case 'deletePermissionsBoundary':
      return withRetry(() => iam.deletePermissionsBoundary(step.roleName));
    case 'attachPolicy':
      return withRetry(
        () => iam.attachRolePolicy(step.roleName, step.policyArn),
        except(onRole(step.roleName, step.policyArn), isMissingAwsManagedPolicy(step.policyArn)),
      );
    case 'detachPolicy':
      return withRetry(() => iam.detachRolePolicy(step.roleName, step.policyArn));
    case 'tagRole':
      return withRetry(() => iam.tagRole(step.roleName, step.tags), onRole(step.roleName));
    case 'untagRole':
      return withRetry(() => iam.untagRole(step.roleName, step.tagKeys), onRole(step.roleName));
    case 'tagPolicy':
      return withRetry(
        () => iam.tagPolicy(step.policyArn, step.tags),
        ctx.createdPolicyArns.has(step.policyArn)
          ? anyOf(isConcurrentModification, isNoSuchEntity)
          : isConcurrentModification,
      );
    case 'deletePolicyVersion':
      // Already gone (an earlier, interrupted run) is fine.
      return withRetry(() => iam.deletePolicyVersion(step.policyArn, step.versionId)).catch(
        (error: unknown) => {
          if (!isNoSuchEntity(error)) throw error;
        },
      );
    case 'deletePolicy':
      return withRetry(() => iam.deletePolicy(step.policyArn));
  }
}
