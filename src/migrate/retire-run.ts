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
import { maskAccessKeyId } from '../core/access-keys.js';
import { mapWithConcurrency } from '../core/concurrency.js';
import { AbortError, PartialApplyError, UsageError } from '../errors.js';
import type { MigrateFindOptions } from './options.js';
import { describeFailure, type KeyInventory } from './resolve-keys.js';
import {
  type DeleteKeyDecision,
  type DeleteKeyStep,
  planDeleteKeys,
  type TaggedUser,
} from './retire-delete.js';
import { DEACTIVATED_TAG_PREFIX, planRetire, type RetireDecision, type RetireStep } from './retire-plan.js';
import { buildRetireInputs, readToolRoles } from './retire-readiness.js';
import { type MigrateDeps, type MigrateScan, scanMigrate, wholeGroups } from './scan.js';

export interface RetireDeps extends MigrateDeps {
  /** Asks once before any change; undefined: no terminal (then --yes or --dry-run is needed). */
  confirm?: ((message: string) => Promise<boolean>) | undefined;
  /** Shown before confirming (and for --dry-run). */
  showPlan?: ((report: RetireReport) => void) | undefined;
  onEvent?: ((event: { state: 'start' | 'done'; step: string }) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface RetireStepReport {
  kind: RetireStep['kind'] | DeleteKeyStep['kind'];
  /** Human, key IDs masked. */
  description: string;
}

export interface RetireKeyReport {
  ref: string;
  /** Masked. */
  keyId: string;
  userName?: string | undefined;
  /** Projects whose jobs get it. */
  projects: string[];
  retire: boolean;
  reasons: string[];
  /** Why the switch counts as proven (when retired). */
  proof?: string | undefined;
  steps: RetireStepReport[];
}

export interface DeleteKeyReport {
  keyId: string;
  userName: string;
  deactivatedAt?: string | undefined;
  delete: boolean;
  reasons: string[];
  steps: RetireStepReport[];
}

export interface RetireReport {
  gitlabUrl: string;
  account?: string | undefined;
  dryRun: boolean;
  /** Steps planned (all of them done unless dryRun). */
  changes: number;
  keys: RetireKeyReport[];
  /** With --delete-keys. */
  deleteKeys?: DeleteKeyReport[] | undefined;
  /** Steps done, in order (empty with --dry-run). */
  done: string[];
  projects: string[];
  /** What this run could not see, per project: hidden key ID variables, lists it may not read. */
  notSeen: string[];
  skipped: { path: string; reason: string }[];
  incomplete: { resource: string; error: string }[];
}

type AnyStep = RetireStep | DeleteKeyStep;

export function describeRetireStep(step: AnyStep): string {
  switch (step.kind) {
    case 'tagUser':
      return `record on IAM user ${step.userName} that gitlab-aws-oidc deactivates its key …${step.tagKey.slice(-4)} (tag ${step.tagKey})`;
    case 'deactivateKey':
      return `deactivate access key ${maskAccessKeyId(step.accessKeyId)} of IAM user ${step.userName}`;
    case 'deleteVariable': {
      const v = step.variable;
      return `delete GitLab variable ${v.key} (scope ${v.environmentScope}) of ${v.source} ${v.path}`;
    }
    case 'deleteKey':
      return `delete access key ${maskAccessKeyId(step.accessKeyId)} of IAM user ${step.userName}`;
    case 'untagUser':
      return `remove the record ${step.tagKey} from IAM user ${step.userName}`;
  }
}

const stepReport = (step: AnyStep): RetireStepReport => ({
  kind: step.kind,
  description: describeRetireStep(step),
});

/** A step failed or the run was interrupted: PARTIAL_APPLY, whose --json document is the report plus `error`. */
export class RetirePartialError extends PartialApplyError {
  readonly report: RetireReport;

  constructor(cause: unknown, report: RetireReport, notDone: string[]) {
    super(cause, [...report.done], notDone);
    this.report = { ...report, done: [...report.done] };
  }

  override resultDocument(): Record<string, unknown> {
    return { mode: 'retire', ...this.report };
  }
}

function needsYes(): UsageError {
  return UsageError.field(
    '--yes',
    'migrate --retire deletes CI/CD variables and deactivates access keys, and there is no terminal to confirm on',
    'Review the plan with --dry-run, then run again with --yes.',
  );
}

/** The groups (holding a variable of a key) whose every unarchived project this run read. */
async function coveredGroups(
  scan: MigrateScan,
  options: MigrateFindOptions,
  groups: readonly string[],
  incomplete: RetireReport['incomplete'],
): Promise<string[]> {
  const whole = wholeGroups(options);
  const read = new Set(scan.found.map((f) => f.project.id));
  const covered: string[] = [...whole];
  for (const group of groups) {
    if (whole.some((g) => group === g || group.startsWith(`${g}/`))) continue;
    try {
      const projects = await scan.gitlab.listGroupProjects(group, { includeSubgroups: true });
      if (projects.every((p) => p.archived || read.has(p.id))) covered.push(group);
    } catch (error) {
      if (error instanceof AbortError) throw error;
      incomplete.push({ resource: `projects of group ${group}`, error: describeFailure(error) });
    }
  }
  return covered;
}

/** The users with a --retire record, their keys and (for recorded keys) their last use. */
async function readRecords(
  scan: MigrateScan,
  inventory: KeyInventory,
  concurrency: number,
  incomplete: RetireReport['incomplete'],
): Promise<TaggedUser[]> {
  const iam = scan.aws?.iam;
  if (!iam) return [];
  const tagged = await mapWithConcurrency(inventory.users, concurrency, async (userName) => {
    try {
      const tags = await iam.listUserTags(userName);
      return Object.keys(tags).some((k) => k.startsWith(DEACTIVATED_TAG_PREFIX))
        ? { userName, tags }
        : undefined;
    } catch (error) {
      if (error instanceof AbortError) throw error;
      incomplete.push({ resource: `tags of IAM user ${userName}`, error: describeFailure(error) });
      return undefined;
    }
  });
  const users: TaggedUser[] = [];
  for (const t of tagged) {
    if (!t) continue;
    const keys = [...inventory.keys.values()].filter((k) => k.userName === t.userName);
    const withUse = await mapWithConcurrency(keys, concurrency, async (k) => {
      if (k.status !== 'Inactive') return { accessKeyId: k.accessKeyId, status: k.status };
      try {
        const used = await iam.getAccessKeyLastUsed(k.accessKeyId);
        return { accessKeyId: k.accessKeyId, status: k.status, lastUsed: used?.date };
      } catch (error) {
        if (error instanceof AbortError) throw error;
        incomplete.push({ resource: `last use of a key of ${k.userName}`, error: describeFailure(error) });
        return { accessKeyId: k.accessKeyId, status: k.status, lastUsed: 'unknown' as const };
      }
    });
    users.push({ ...t, keys: withUse });
  }
  return users;
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

/**
 * A variable that names several keys (a credentials file) is deleted only when every key it names is
 * retired in this run: otherwise its step is dropped, with the reason.
 */
function keepSharedVariables(
  decisions: RetireDecision[],
  keyIds: readonly string[],
  found: MigrateScan['found'],
  refOf: ReadonlyMap<string, string>,
): void {
  const retiring = new Set(keyIds.filter((_, i) => decisions[i]?.retire));
  decisions.forEach((d) => {
    d.steps = d.steps.filter((step) => {
      if (step.kind !== 'deleteVariable') return true;
      const v = step.variable;
      const others = new Set(
        found.flatMap((f) =>
          f.variables
            .filter(
              (x) =>
                x.key === v.key &&
                x.source === v.source &&
                x.path === v.path &&
                x.environmentScope === v.environmentScope,
            )
            .flatMap((x) => x.keyIds.filter((id) => !retiring.has(id))),
        ),
      );
      if (others.size === 0) return true;
      const refs = [...others].map((id) => refOf.get(id)).join(', ');
      d.reasons.push(
        `variable ${v.key} of ${v.source} ${v.path} also holds ${refs}, which is kept: the variable is not deleted`,
      );
      return false;
    });
  });
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
  const groups = [
    ...new Set(
      inputs.flatMap((k) =>
        [...k.idVariables, ...k.secretVariables].filter((v) => v.source === 'group').map((v) => v.path),
      ),
    ),
  ];
  const covered = groups.length
    ? await coveredGroups(scan, options, groups, incomplete)
    : wholeGroups(options);
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
      throw new PartialApplyError(
        new AbortError('Interrupted before the next change.'),
        report.done,
        notDone(),
      );
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
