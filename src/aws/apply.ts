/**
 * Executes a plan's steps in dependency order, independent steps concurrently:
 *   1. provider and policy steps (the role's trust policy and attachments need them);
 *   2. role create/updates (CreateRole retried while the new provider propagates);
 *   3. detach/untag, then 4. attach (detaching first keeps the role under its managed-policy quota
 *      and never grants more than planned in between) and the old versions of a policy no longer used;
 *   5. deleting that policy (detached and down to its default version by now);
 *   6. tagging the role and the policy: the ownership record says what the tool wrote, so it is
 *      written only after the writes it describes (an interrupted run never records what did not happen).
 * A new role carries its whole record (attachments included) in CreateRole's tags, so a fresh role is
 * CreateRole + AttachRolePolicy only.
 * On failure the in-flight steps of the phase settle, then PartialApplyError lists done/not done.
 * On abort no new step starts; in-flight calls are cancelled (the SDK's abortSignal) or settle;
 * InterruptedError says what was done and what is left.
 * Either way, a role this run created with attachments still to make gets one best-effort TagRole
 * recording what was really attached (`recordUnfinishedCreations`), even after Ctrl-C.
 */
import { settleWithConcurrency } from '../core/concurrency.js';
import { RECORD_TAGS, unfinishedCreationTags } from '../core/ownership.js';
import type { Plan, PlanStep } from '../core/types.js';
import { InterruptedError, PartialApplyError } from '../errors.js';
import { describeStep } from './describe-step.js';
import { runUncancellable } from './guard-client.js';
import type { IamPort } from './ports.js';
import type { RetryOptions } from './retry.js';
import { createRunContext, runStep } from './run-step.js';

export interface ApplyEvent {
  type: 'start' | 'done' | 'failed';
  step: PlanStep;
  description: string;
  /** Only on `failed`. */
  error?: unknown;
}

export interface ApplyOptions {
  onEvent?: (event: ApplyEvent) => void;
  /** Backoff for IAM eventual consistency (inject `sleep`/`now` in tests). */
  retry?: RetryOptions;
  signal?: AbortSignal;
  /** Steps in flight at once within a phase. Default 4. */
  concurrency?: number;
}

export interface ApplyResult {
  /** Descriptions of the steps applied, in completion order. */
  done: string[];
  /** ARNs of what this run created. */
  providerArn?: string | undefined;
  roleArn?: string | undefined;
  policyArn?: string | undefined;
}

const PHASE: Record<PlanStep['kind'], number> = {
  createProvider: 0,
  addClientId: 0,
  updateThumbprints: 0,
  tagProvider: 0,
  createPolicy: 0,
  createPolicyVersion: 0,
  createRole: 1,
  updateTrustPolicy: 1,
  updateRole: 1,
  putPermissionsBoundary: 1,
  deletePermissionsBoundary: 1,
  detachPolicy: 2,
  untagRole: 2,
  attachPolicy: 3,
  deletePolicyVersion: 3,
  deletePolicy: 4,
  tagRole: 5,
  tagPolicy: 5,
};

/** The plan's steps grouped into phases, in run order (empty phases dropped, plan order kept within). */
export function groupStepsByPhase(steps: PlanStep[]): PlanStep[][] {
  const phases: PlanStep[][] = [[], [], [], [], [], []];
  for (const step of steps) phases[PHASE[step.kind]]?.push(step);
  return phases.filter((phase) => phase.length > 0);
}

export async function applyPlan(plan: Plan, iam: IamPort, options: ApplyOptions = {}): Promise<ApplyResult> {
  const { onEvent, signal, concurrency = 4 } = options;
  const retry: RetryOptions = { ...options.retry, signal: options.retry?.signal ?? signal };
  const ctx = createRunContext(plan);
  const phases = groupStepsByPhase(plan.steps);
  const ordered = phases.flat();
  const doneSteps = new Set<PlanStep>();
  const done: string[] = [];
  const notDone = () => ordered.filter((s) => !doneSteps.has(s)).map(describeStep);

  const stopped = async <E>(error: E): Promise<E> => {
    await recordUnfinishedCreations(plan.steps, doneSteps, iam, onEvent);
    return error;
  };
  for (const phase of phases) {
    if (signal?.aborted) throw await stopped(buildAbortError(done, notDone()));
    const failures = await runPhase(phase, concurrency, signal, async (step) => {
      const description = describeStep(step);
      onEvent?.({ type: 'start', step, description });
      try {
        await runStep(step, iam, ctx, retry);
      } catch (error) {
        onEvent?.({ type: 'failed', step, description, error });
        throw error;
      }
      const outcome = ctx.outcomes.get(step) ?? description;
      doneSteps.add(step);
      done.push(outcome);
      onEvent?.({ type: 'done', step, description: outcome });
    });
    if (signal?.aborted) throw await stopped(buildAbortError(done, notDone(), failures[0]));
    if (failures.length > 0) throw await stopped(new PartialApplyError(failures[0], done, notDone()));
  }
  return { done, providerArn: ctx.providerArn, roleArn: ctx.roleArn, policyArn: ctx.policyArn };
}

/**
 * For each role this run created whose attachments are not all made (the run failed or was interrupted
 * in between): one TagRole recording what was really attached and marking the rest as approved but
 * not attached yet (core/ownership `unfinishedCreationTags`), so the re-run finishes them without
 * asking again. Not cancelled by Ctrl-C; a failure of it is reported and left: the re-run then sees
 * CreateRole's record, which lists attachments that are not there, and asks before attaching them.
 */
async function recordUnfinishedCreations(
  steps: readonly PlanStep[],
  doneSteps: ReadonlySet<PlanStep>,
  iam: IamPort,
  onEvent: ApplyOptions['onEvent'],
): Promise<void> {
  for (const create of steps) {
    if (create.kind !== 'createRole' || !doneSteps.has(create)) continue;
    if (create.tags[RECORD_TAGS.attached] === undefined) continue;
    const attaches = steps.filter(
      (s): s is Extract<PlanStep, { kind: 'attachPolicy' }> =>
        s.kind === 'attachPolicy' && s.roleName === create.name,
    );
    const made = attaches.filter((s) => doneSteps.has(s)).map((s) => s.policyArn);
    if (made.length === attaches.length) continue;
    const step: PlanStep = {
      kind: 'tagRole',
      roleName: create.name,
      tags: unfinishedCreationTags(
        attaches.map((s) => s.policyArn),
        made,
      ),
    };
    const description = `record on role ${create.name} what was attached (${made.length} of ${attaches.length} policies; the re-run attaches the rest)`;
    onEvent?.({ type: 'start', step, description });
    try {
      await runUncancellable(() => iam.tagRole(create.name, step.tags));
      onEvent?.({ type: 'done', step, description });
    } catch (error) {
      onEvent?.({ type: 'failed', step, description, error });
    }
  }
}

/**
 * Runs steps with at most `limit` in flight. After the first failure (or an abort) no new step
 * starts; the in-flight ones settle. Resolves with the errors, in the order they happened.
 */
async function runPhase(
  steps: PlanStep[],
  limit: number,
  signal: AbortSignal | undefined,
  run: (step: PlanStep) => Promise<void>,
): Promise<unknown[]> {
  const settled = await settleWithConcurrency(steps, { limit, signal, stopOnFailure: true }, run);
  return settled.failures.map((f) => f.reason);
}

function buildAbortError(done: string[], notDone: string[], cause?: unknown): InterruptedError {
  return InterruptedError.after(done, notDone, cause);
}
