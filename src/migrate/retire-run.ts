/**
 * `migrate --retire`: read (scan.ts, the tool's roles, with --delete-keys the users' records), plan
 * (retire-plan.ts, retire-delete.ts), show the plan, confirm once (--yes; --dry-run stops after the
 * plan), apply step by step. Refusals are part of the result, each with its reason; only a failed
 * step fails the run (PartialApplyError: what was done and not, and a re-run picks up from there).
 *
 * A group's variables reach every project of the group: a group is "covered" when this run read
 * every project GitLab lists in it (archived ones aside: their pipelines do not run), checked with
 * one listing per group that holds a variable of a key to retire (none for a whole --group).
 */
import { AbortError, UsageError } from '../errors.js';
import type { MigrateFindOptions } from './options.js';
import type { KeyInventory } from './resolve-keys.js';
import { type DeleteKeyDecision, planDeleteKeys } from './retire-delete.js';
import { planRetire, type RetireDecision } from './retire-plan.js';
import { coveredGroups, keepSharedVariables, keyGroups, readRecords } from './retire-read.js';
import { buildRetireInputs, readToolRoles } from './retire-readiness.js';
import {
  type AnyStep,
  describeRetireStep,
  type RetireKeyReport,
  RetirePartialError,
  type RetireReport,
  stepReport,
} from './retire-report.js';
import { type MigrateDeps, type MigrateScan, scanMigrate } from './scan.js';

export type { RetireReport } from './retire-report.js';

export interface RetireDeps extends MigrateDeps {
  /** Asks once before any change; undefined: no terminal (then --yes or --dry-run is needed). */
  confirm?: ((message: string) => Promise<boolean>) | undefined;
  /** Shown before confirming (and for --dry-run). */
  showPlan?: ((report: RetireReport) => void) | undefined;
  onEvent?: ((event: { state: 'start' | 'done'; step: string }) => void) | undefined;
  signal?: AbortSignal | undefined;
}

function needsYes(): UsageError {
  return UsageError.field(
    '--yes',
    'migrate --retire deletes CI/CD variables and deactivates access keys, and there is no terminal to confirm on',
    'Review the plan with --dry-run, then run again with --yes.',
  );
}

async function applyStep(scan: MigrateScan, step: AnyStep): Promise<void> {
  const iam = scan.aws?.iam;
  if (!iam) throw new Error('migrate --retire needs AWS');
  switch (step.kind) {
    case 'tagUser':
      return iam.tagUser(step.userName, { [step.tagKey]: step.tagValue });
    case 'deactivateKey':
      return iam.updateAccessKey(step.userName, step.accessKeyId, 'Inactive');
    case 'deleteVariable': {
      const v = step.variable;
      return v.source === 'project'
        ? scan.gitlab.deleteProjectVariable(v.path, v.key, v.environmentScope)
        : scan.gitlab.deleteGroupVariable(v.path, v.key, v.environmentScope);
    }
    case 'deleteKey':
      return iam.deleteAccessKey(step.userName, step.accessKeyId);
    case 'untagUser':
      return iam.untagUser(step.userName, [step.tagKey]);
  }
}

export async function runMigrateRetire(options: MigrateFindOptions, deps: RetireDeps): Promise<RetireReport> {
  if (!options.yes && !options.dryRun && !deps.confirm) throw needsYes();
  const now = deps.now?.() ?? new Date();
  const inventory: KeyInventory | undefined = options.deleteKeys
    ? { keys: new Map(), users: [], complete: true }
    : undefined;
  const scan = await scanMigrate(options, deps, inventory);
  const { refOf, resolved, found } = scan;
  const incomplete = [...scan.incomplete];
  const keyIds = [...refOf.keys()];
  const iam = scan.aws?.iam;

  const roles = iam && keyIds.length ? await readToolRoles(iam, options.gitlabUrl, incomplete) : [];
  const scanned = found.map((f) => ({ path: f.project.pathWithNamespace, variables: f.variables }));
  const inputs = buildRetireInputs(keyIds, scanned, resolved);
  const covered = await coveredGroups(scan, options, keyGroups(found), incomplete);
  const decisions: RetireDecision[] = roles
    ? planRetire(inputs, roles, { now, coveredGroups: covered })
    : inputs.map((k) => ({
        masked: k.masked,
        retire: false,
        reasons: [
          "the tool's roles could not be read (iam:GetAccountAuthorizationDetails): the switch cannot be proven",
        ],
        steps: [],
      }));

  keepSharedVariables(decisions, keyIds, found, refOf);

  const deleteDecisions: DeleteKeyDecision[] | undefined =
    inventory && iam
      ? inventory.complete
        ? planDeleteKeys(await readRecords(scan, inventory, options.concurrency, incomplete), new Set(keyIds))
        : []
      : undefined;
  if (inventory && !inventory.complete) {
    incomplete.push({
      resource: '--delete-keys',
      error: 'not every IAM user could be read: no key is deleted',
    });
  }

  const keys: RetireKeyReport[] = keyIds.map((id, i) => {
    const d = decisions[i] as RetireDecision;
    const owner = resolved.get(id)?.owner;
    return {
      ref: refOf.get(id) as string,
      keyId: d.masked,
      ...(owner?.kind === 'user' ? { userName: owner.userName } : {}),
      projects: inputs[i]?.projects ?? [],
      retire: d.retire,
      reasons: d.reasons,
      ...(d.proof ? { proof: d.proof } : {}),
      steps: d.steps.map(stepReport),
    };
  });
  const plannedSteps: AnyStep[] = [
    ...decisions.flatMap((d) => d.steps),
    ...(deleteDecisions ?? []).flatMap((d) => d.steps),
  ];
  const report: RetireReport = {
    gitlabUrl: options.gitlabUrl,
    ...(scan.identity ? { account: scan.identity.account } : {}),
    dryRun: options.dryRun,
    changes: plannedSteps.length,
    keys,
    ...(deleteDecisions
      ? {
          deleteKeys: deleteDecisions.map((d) => ({
            keyId: d.masked,
            userName: d.userName,
            ...(d.deactivatedAt ? { deactivatedAt: d.deactivatedAt } : {}),
            delete: d.delete,
            reasons: d.reasons,
            steps: d.steps.map(stepReport),
          })),
        }
      : {}),
    done: [],
    projects: found.map((f) => f.project.pathWithNamespace),
    notSeen: found.flatMap((f) => [
      ...f.variables
        .filter((v) => v.inEffect && v.value === 'hidden' && v.kind === 'access-key-id')
        .map(
          (v) =>
            `${f.project.pathWithNamespace}: ${v.key} (${v.source === 'project' ? 'project' : `group ${v.path}`}) is hidden: its key cannot be read, so it is not retired here`,
        ),
      ...f.unreadable.map(
        (u) =>
          `${f.project.pathWithNamespace}: ${u.source === 'project' ? 'project' : `group ${u.path}`} variables ${u.reason}: keys there are not seen`,
      ),
    ]),
    skipped: scan.skipped,
    incomplete,
  };

  deps.showPlan?.(report);
  if (plannedSteps.length === 0 || options.dryRun) return report;
  if (!options.yes) {
    if (!deps.confirm) throw needsYes();
    const ok = await deps.confirm(
      `Apply ${plannedSteps.length} change${plannedSteps.length === 1 ? '' : 's'} (GitLab variables deleted, access keys deactivated${options.deleteKeys ? ' or deleted' : ''})?`,
    );
    if (!ok) throw new AbortError('Aborted: nothing was changed.');
  }
  for (const [index, step] of plannedSteps.entries()) {
    const what = describeRetireStep(step);
    const notDone = () => plannedSteps.slice(index).map(describeRetireStep);
    if (deps.signal?.aborted) {
      throw new RetirePartialError(new AbortError('Interrupted before the next change.'), report, notDone());
    }
    deps.onEvent?.({ state: 'start', step: what });
    try {
      await applyStep(scan, step);
    } catch (error) {
      throw new RetirePartialError(error, report, notDone());
    }
    report.done.push(what);
    deps.onEvent?.({ state: 'done', step: what });
  }
  return report;
}
