/**
 * Runs a destroy plan step by step. Deleting something already gone counts as done, so a re-run
 * after any failure picks up where the last one stopped. A role that IAM refuses to delete
 * (DeleteConflict: something was attached meanwhile) is re-read, detached and retried; one that was put
 * into an instance profile meanwhile stops the run, naming it (that removal needs its own consent). On failure
 * or Ctrl-C, a PartialApplyError lists what was done and what was not.
 */
import type { IamPort } from '../aws/ports.js';
import { AbortError, AwsError, CliError, PartialApplyError } from '../errors.js';
import { type DestroyStep, describeDestroyStep } from './plan.js';

export interface DestroyEvent {
  step: DestroyStep;
  state: 'start' | 'done' | 'skipped';
  note?: string | undefined;
}

export interface DestroyApplyOptions {
  signal?: AbortSignal | undefined;
  onEvent?: ((event: DestroyEvent) => void) | undefined;
  /** DeleteRole retries after a DeleteConflict (default 3). */
  conflictRetries?: number | undefined;
}

export interface DestroyApplyResult {
  done: string[];
  /** Steps that could not be done but leave nothing unsafe (a policy still attached elsewhere). */
  skipped: { step: string; reason: string }[];
}

const isCode = (error: unknown, code: string) => error instanceof AwsError && error.awsCode === code;

async function ignoreMissing(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!isCode(error, 'NoSuchEntity')) throw error;
  }
}

async function deleteRole(iam: IamPort, roleName: string, retries: number): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      await iam.deleteRole(roleName);
      return attempt > 0 ? `after ${attempt} retr${attempt === 1 ? 'y' : 'ies'} (DeleteConflict)` : undefined;
    } catch (error) {
      if (!isCode(error, 'DeleteConflict') || attempt >= retries) throw error;
      // Something is attached again (another process, a console user): detach and retry.
      const role = await iam.getRole(roleName);
      if (!role) return undefined;
      const inline = await iam.listInlineRolePolicies(roleName);
      if (inline.length > 0) {
        throw new CliError(
          'DESTROY_BLOCKED',
          `Role ${roleName} got inline policies (${inline.join(', ')}) during the run.`,
          {
            hint: inline
              .map((p) => `aws iam delete-role-policy --role-name ${roleName} --policy-name ${p}`)
              .join('\n'),
            cause: error,
          },
        );
      }
      const profiles = await iam.listInstanceProfilesForRole(roleName);
      if (profiles.length > 0) {
        // Consent was given (or not needed) for the profiles seen while planning, not for these.
        const names = profiles.map((p) => `${p.path}${p.name}`).join(', ');
        throw new CliError(
          'DESTROY_BLOCKED',
          `Role ${roleName} was put into instance profile${profiles.length === 1 ? '' : 's'} ${names} during the run.`,
          {
            hint: `Run the same command again to plan it (it then needs --remove-from-instance-profiles), or: ${profiles
              .map(
                (p) =>
                  `aws iam remove-role-from-instance-profile --instance-profile-name ${p.name} --role-name ${roleName}`,
              )
              .join('; ')}`,
            cause: error,
          },
        );
      }
      for (const arn of role.attachedPolicyArns) await iam.detachRolePolicy(roleName, arn);
    }
  }
}

async function deletePolicy(iam: IamPort, policyArn: string): Promise<string | undefined> {
  try {
    await iam.deletePolicy(policyArn);
    return undefined;
  } catch (error) {
    if (!isCode(error, 'DeleteConflict')) throw error;
  }
  // A version appeared meanwhile, or the policy is attached to something else.
  const versions = await iam.listPolicyVersions(policyArn);
  for (const v of versions.filter((x) => !x.isDefault))
    await ignoreMissing(() => iam.deletePolicyVersion(policyArn, v.versionId));
  try {
    await iam.deletePolicy(policyArn);
    return undefined;
  } catch (error) {
    if (isCode(error, 'DeleteConflict')) return 'kept: still attached to other users, groups or roles';
    throw error;
  }
}

async function runStep(
  iam: IamPort,
  step: DestroyStep,
  retries: number,
): Promise<{ skipped?: string; note?: string }> {
  switch (step.kind) {
    case 'tagRole':
      await ignoreMissing(() => iam.tagRole(step.roleName, step.tags));
      return {};
    case 'removeRoleFromInstanceProfile':
      await iam.removeRoleFromInstanceProfile(step.profileName, step.roleName);
      return {};
    case 'deleteOidcProvider':
      await iam.deleteOidcProvider(step.arn);
      return {};
    case 'detachRolePolicy':
      await iam.detachRolePolicy(step.roleName, step.policyArn);
      return {};
    case 'deletePolicyVersion':
      await ignoreMissing(() => iam.deletePolicyVersion(step.policyArn, step.versionId));
      return {};
    case 'deletePolicy': {
      const skipped = await deletePolicy(iam, step.policyArn);
      return skipped ? { skipped } : {};
    }
    case 'deleteRole': {
      const note = await deleteRole(iam, step.roleName, retries);
      return note ? { note } : {};
    }
  }
}

export async function applyDestroyPlan(
  steps: readonly DestroyStep[],
  iam: IamPort,
  options: DestroyApplyOptions = {},
): Promise<DestroyApplyResult> {
  const done: string[] = [];
  const skipped: DestroyApplyResult['skipped'] = [];
  const retries = options.conflictRetries ?? 3;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as DestroyStep;
    const notDone = () => steps.slice(i).map(describeDestroyStep);
    if (options.signal?.aborted) {
      throw new PartialApplyError(
        new AbortError('Interrupted before the next change; nothing is half-done.'),
        done,
        notDone(),
      );
    }
    options.onEvent?.({ step, state: 'start' });
    try {
      const outcome = await runStep(iam, step, retries);
      if (outcome.skipped) {
        skipped.push({ step: describeDestroyStep(step), reason: outcome.skipped });
        options.onEvent?.({ step, state: 'skipped', note: outcome.skipped });
      } else {
        done.push(describeDestroyStep(step));
        options.onEvent?.({ step, state: 'done', note: outcome.note });
      }
    } catch (error) {
      throw new PartialApplyError(error, done, notDone());
    }
  }
  return { done, skipped };
}
