/**
 * `destroy`: read, plan, confirm, apply. `runDestroy(options, deps)` is the programmatic entry;
 * `command.ts` wires the real AWS ports, prompts and output.
 */
import type { AwsPorts } from '../aws/ports.js';
import { AbortError, CliError, UsageError } from '../errors.js';
import { applyDestroyPlan, type DestroyApplyResult, type DestroyEvent } from './apply.js';
import type { DestroyOptions } from './options.js';
import { buildDestroyPlan, type DestroyPlan, describeDestroyStep } from './plan.js';
import { readDestroyState } from './read.js';

export interface DestroyDeps {
  aws: () => Promise<AwsPorts> | AwsPorts;
  /** Asks the user; absent when nobody can be asked (no TTY, CI, --json). */
  confirm?: ((message: string, plan: DestroyPlan) => Promise<boolean>) | undefined;
  /** Shown before confirming (and for --dry-run). */
  showPlan?: ((plan: DestroyPlan) => void) | undefined;
  onEvent?: ((event: DestroyEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface DestroyResult {
  ok: true;
  account: string;
  target: DestroyPlan['target'];
  dryRun: boolean;
  /** True when something was (or, with --dry-run, would be) deleted or detached. */
  changed: boolean;
  plan: Pick<DestroyPlan, 'resources' | 'hasChanges'> & { steps: string[] };
  /** Steps carried out (empty for --dry-run). */
  done: string[];
  skipped: DestroyApplyResult['skipped'];
  summary: string;
}

/** The run would delete things but cannot start (untagged role, inline policies). Exit 1. */
export class DestroyBlockedError extends CliError {
  readonly blockers: DestroyPlan['blockers'];

  constructor(blockers: DestroyPlan['blockers']) {
    super(
      'DESTROY_BLOCKED',
      blockers.length === 1
        ? (blockers[0]?.message ?? 'Blocked.')
        : `${blockers.length} problems block destroy; nothing was changed.`,
      { hint: blockers.map((b) => b.hint).join('\n') },
    );
    this.blockers = blockers;
  }

  override details(): string[] {
    return this.blockers.length > 1 ? this.blockers.map((b) => b.message) : [];
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), blockers: this.blockers };
  }
}

function describeTarget(plan: DestroyPlan): string {
  return plan.target.project !== undefined ? `project ${plan.target.project}` : `role ${plan.target.role}`;
}

export async function runDestroy(options: DestroyOptions, deps: DestroyDeps): Promise<DestroyResult> {
  const { iam, sts } = await deps.aws();
  const identity = await sts.getCallerIdentity();
  const target = options.role !== undefined ? { role: options.role } : { project: options.project as string };
  const current = await readDestroyState(iam, identity, target, { concurrency: options.concurrency });
  const plan = buildDestroyPlan(current, { force: options.force, keepProvider: options.keepProvider });
  if (plan.blockers.length > 0) throw new DestroyBlockedError(plan.blockers);

  const result = (
    changed: boolean,
    done: string[],
    skipped: DestroyApplyResult['skipped'],
    summary: string,
  ): DestroyResult => ({
    ok: true,
    account: identity.account,
    target: plan.target,
    dryRun: options.dryRun,
    changed,
    plan: {
      resources: plan.resources,
      hasChanges: plan.hasChanges,
      steps: plan.steps.map(describeDestroyStep),
    },
    done,
    skipped,
    summary,
  });

  if (!plan.hasChanges) {
    const what =
      target.role !== undefined && current.roles.length === 0
        ? `Role ${target.role} does not exist in account ${identity.account}: nothing to destroy.`
        : `Nothing of ${describeTarget(plan)} left to destroy in account ${identity.account}.`;
    return result(false, [], [], what);
  }
  deps.showPlan?.(plan);
  if (options.dryRun) {
    return result(
      true,
      [],
      [],
      `Dry run: ${plan.steps.length} change${plan.steps.length === 1 ? '' : 's'} would be made; nothing was changed.`,
    );
  }
  if (!options.yes) {
    if (!deps.confirm) {
      throw UsageError.field(
        '--yes',
        'destroy deletes IAM resources and there is no terminal to confirm on',
        'Review the plan with --dry-run, then run again with --yes.',
      );
    }
    const ok = await deps.confirm(
      `Delete what is listed above for ${describeTarget(plan)} in account ${identity.account}?`,
      plan,
    );
    if (!ok) throw new AbortError('Aborted: nothing was deleted.');
  }
  const applied = await applyDestroyPlan(plan.steps, iam, { signal: deps.signal, onEvent: deps.onEvent });
  return result(
    true,
    applied.done,
    applied.skipped,
    `Destroyed ${describeTarget(plan)}: ${applied.done.length} change${applied.done.length === 1 ? '' : 's'}${applied.skipped.length ? `, ${applied.skipped.length} kept` : ''}.`,
  );
}
