/**
 * `destroy`: read, plan, confirm, apply. `runDestroy(options, deps)` is the programmatic entry;
 * `command.ts` wires the real AWS ports, prompts and output.
 */
import type { AwsPorts } from '../aws/ports.js';
import { GITLAB_URL_TAG, PROJECT_TAG } from '../core/types.js';
import { AbortError, CliError, PartialApplyError, UsageError } from '../errors.js';
import { GITLAB_COM } from '../init/resolve.js';
import { applyDestroyPlan, type DestroyApplyResult, type DestroyEvent } from './apply.js';
import {
  applyCiCleanup,
  type CiCleanupCheck,
  type CiCleanupPlan,
  decideCiCleanup,
  prepareCiCleanup,
} from './ci-file.js';
import {
  applyVariableSteps,
  type DestroyCiVariables,
  type DestroyGitlab,
  readDestroyVariables,
} from './gitlab-variables.js';
import type { DestroyOptions } from './options.js';
import {
  buildDestroyPlan,
  type DestroyCurrent,
  type DestroyPlan,
  describeDestroyStep,
  describeDestroyTarget,
  type ProjectInstance,
  projectInstances,
} from './plan.js';
import { readDestroyState } from './read.js';

export interface DestroyDeps {
  aws: () => Promise<AwsPorts> | AwsPorts;
  /** Asks the user; absent when nobody can be asked (no TTY, CI, --json). */
  confirm?: ((message: string, plan: DestroyPlan) => Promise<boolean>) | undefined;
  /** Shown before confirming (and for --dry-run), with what happens to the pipeline file. */
  showPlan?:
    | ((plan: DestroyPlan, ciFile: DestroyCiFile | undefined, ciVariables: DestroyCiVariables) => void)
    | undefined;
  onEvent?: ((event: DestroyEvent) => void) | undefined;
  /** Progress of the pipeline file write (after IAM). */
  onCiFile?: ((ciFile: DestroyCiFile) => void) | undefined;
  /**
   * The GitLab API of an instance, for the CI/CD variables `init --ci-variables` set (read, then deleted
   * after IAM); undefined (or a port without a token): they are not checked, and the plan says so.
   */
  gitlab?: DestroyGitlab | undefined;
  /** Progress of each CI/CD variable deleted (after IAM and the pipeline file). */
  onVariable?: ((step: string) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface DestroyResult {
  ok: true;
  command: 'destroy';
  account: string;
  target: DestroyPlan['target'];
  dryRun: boolean;
  /** True when something was (or, with --dry-run, would be) deleted or detached. */
  changed: boolean;
  plan: Pick<DestroyPlan, 'resources' | 'hasChanges'> & { steps: string[] };
  /** Steps carried out (empty for --dry-run). */
  done: string[];
  skipped: DestroyApplyResult['skipped'];
  /** The pipeline file: cleaned (or, with --dry-run, to be cleaned), or left alone and why. */
  ciFile?: DestroyCiFile | undefined;
  /** The project's CI/CD variables init --ci-variables set: deleted (or to be), kept, or not checked and why. */
  ciVariables: DestroyCiVariables;
  summary: string;
}

export interface DestroyCiFile {
  path: string;
  /** `delete`: nothing but the generated jobs is in it (init created it), so the file goes. */
  action: 'update' | 'delete' | 'no-op' | 'skipped';
  /** Generated jobs removed (or to be removed). */
  jobs: string[];
  /** Jobs still using .aws-oidc that were left dangling (--force). */
  dependents: string[];
  /** Why a file found on its own was left alone. */
  reason?: string | undefined;
  diff: string;
  added: number;
  removed: number;
  warnings: string[];
  written: boolean;
  backupPath?: string | undefined;
}

function describeCiFile(check: CiCleanupCheck): DestroyCiFile | undefined {
  if (check.kind === 'none') return undefined;
  if (check.kind === 'skipped') {
    return {
      path: check.shownPath,
      action: 'skipped',
      jobs: [],
      dependents: [],
      reason: check.reason,
      diff: '',
      added: 0,
      removed: 0,
      warnings: [],
      written: false,
    };
  }
  const { plan } = check;
  return {
    path: plan.shownPath,
    action: plan.unmerge.deleteFile ? 'delete' : plan.unmerge.action,
    jobs: plan.unmerge.removed.map((j) => j.name),
    dependents: plan.unmerge.dependents.map((d) => d.name),
    diff: plan.diff.text,
    added: plan.diff.added,
    removed: plan.diff.removed,
    warnings: plan.warnings,
    written: false,
  };
}

function ciDone(ci: DestroyCiFile): string {
  return ci.action === 'delete'
    ? `deleted ${ci.path} (it only held the generated jobs)`
    : `removed the generated jobs from ${ci.path}`;
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

function describeInstance(i: ProjectInstance): string {
  const what = [
    i.roles.length ? `role${i.roles.length === 1 ? '' : 's'} ${i.roles.join(', ')}` : undefined,
    i.policies.length ? `polic${i.policies.length === 1 ? 'y' : 'ies'} ${i.policies.join(', ')}` : undefined,
  ]
    .filter(Boolean)
    .join('; ');
  return `${i.gitlabUrl ?? 'no gitlab-aws-oidc:gitlab-url tag'} (${what})`;
}

/**
 * A project path is only unique per GitLab instance: `grp/app` on gitlab.com and on a private
 * instance are different projects. Without --gitlab-url, a path found on several is refused (exit 2)
 * before anything is planned, shown or deleted.
 */
function checkOneInstance(current: DestroyCurrent): void {
  if (current.target.project === undefined || current.target.gitlabUrl !== undefined) return;
  const instances = projectInstances(current);
  if (instances.length < 2) return;
  const urls = instances.flatMap((i) => (i.gitlabUrl === undefined ? [] : [i.gitlabUrl]));
  const untagged = instances.some((i) => i.gitlabUrl === undefined);
  throw new UsageError(
    `--project ${current.target.project} matches resources of ${instances.length} GitLab instances: ${instances.map(describeInstance).join(', ')}. Nothing was deleted.`,
    [
      {
        field: '--gitlab-url',
        message: `required: project ${current.target.project} exists on ${instances.length} GitLab instances`,
      },
    ],
    {
      hint: [
        `Say which one: ${urls.map((u) => `--gitlab-url ${u}`).join(' or ')}.`,
        untagged ? 'A role without the gitlab-url tag can be removed with --role <name>.' : undefined,
      ]
        .filter(Boolean)
        .join(' '),
    },
  );
}

/** A role in an instance profile, and no consent to take it out: refused before any change (exit 2). */
function needsProfileConsent(plan: DestroyPlan): UsageError {
  const list = plan.instanceProfileRemovals
    .map(
      (r) =>
        `Role ${r.roleName} is in instance profile ${r.profile.path}${r.profile.name} (${r.profile.arn})`,
    )
    .join('; ');
  return new UsageError(
    `${list}: IAM cannot delete a role that is in an instance profile. Nothing was changed.`,
    [
      {
        field: '--remove-from-instance-profiles',
        message:
          'required to take the role out of its instance profiles (EC2 instances using them lose the role)',
      },
    ],
    {
      hint: 'Pass --remove-from-instance-profiles to remove the role from them (the profiles are kept), or remove it yourself first.',
    },
  );
}

/** Without --yes, someone has to confirm: known before any AWS call. */
function needsYes(): UsageError {
  return UsageError.field(
    '--yes',
    'destroy deletes IAM resources and there is no terminal to confirm on',
    'Review the plan with --dry-run, then run again with --yes.',
  );
}

/** The GitLab project whose CI/CD variables go: --project, or the --role's project tag. */
function projectOf(
  current: DestroyCurrent,
  role: string | undefined,
): { project: string | undefined; unknown?: string } {
  if (current.target.project !== undefined) return { project: current.target.project };
  const found = current.roles[0];
  if (!found) {
    return {
      project: undefined,
      unknown: `role ${role} no longer exists, so its GitLab project (its ${PROJECT_TAG} tag) is not known`,
    };
  }
  const project = found.tags[PROJECT_TAG];
  return project === undefined
    ? {
        project: undefined,
        unknown: `role ${found.name} has no ${PROJECT_TAG} tag naming its GitLab project`,
      }
    : { project };
}

/** How to finish after a GitLab failure: IAM (and the file) are done. */
function resumeVariablesHint(options: DestroyOptions, vars: DestroyCiVariables): string {
  const where = `Settings > CI/CD > Variables of ${vars.project}`;
  if (options.role !== undefined) {
    return `IAM is done and role ${options.role} is gone, so a re-run cannot tell its GitLab project any more: fix the cause, then delete the variables listed as not done in ${where}.`;
  }
  const url =
    options.gitlabUrl === undefined && vars.gitlabUrl !== undefined && vars.gitlabUrl !== GITLAB_COM
      ? ` --gitlab-url ${vars.gitlabUrl}`
      : '';
  return `IAM is done. Fix the cause and run \`destroy --project ${vars.project}${url}\` again: it deletes only what is left in GitLab.`;
}

export async function runDestroy(options: DestroyOptions, deps: DestroyDeps): Promise<DestroyResult> {
  if (!options.yes && !options.dryRun && !deps.confirm) throw needsYes();
  // The pipeline file is read and checked before any AWS call: a bad --ci-file is a usage error.
  const ciCheck = await prepareCiCleanup({
    ciFile: options.ciFile,
    cwd: options.cwd,
    repoRoot: options.repoRoot,
    force: options.force,
    role: options.role,
  });
  const { iam, sts } = await deps.aws();
  const identity = await sts.getCallerIdentity();
  const target =
    options.role !== undefined
      ? { role: options.role }
      : {
          project: options.project as string,
          ...(options.gitlabUrl !== undefined ? { gitlabUrl: options.gitlabUrl } : {}),
        };
  const current = await readDestroyState(iam, identity, target, { concurrency: options.concurrency });
  checkOneInstance(current);
  const plan = buildDestroyPlan(current, { force: options.force, keepProvider: options.keepProvider });
  if (plan.blockers.length > 0) throw new DestroyBlockedError(plan.blockers);
  const deletedArns = plan.steps.flatMap((s) => (s.kind === 'deleteRole' ? [s.roleArn] : []));
  const gitlabProject = projectOf(current, options.role);
  const gitlabUrl =
    options.gitlabUrl ??
    current.roles.map((r) => r.tags[GITLAB_URL_TAG]).find((u) => u !== undefined) ??
    GITLAB_COM;
  const vars = await readDestroyVariables({
    gitlab: deps.gitlab,
    offline: options.offline,
    project: gitlabProject.project,
    unknownProject: gitlabProject.unknown,
    gitlabUrl,
    targets: {
      roleArns: current.roles.map((r) => r.arn),
      roleName: options.role,
      account: identity.account,
    },
    findGone:
      options.role === undefined
        ? {
            roleExists: async (name) => (await iam.getRole(name)) !== undefined,
            concurrency: options.concurrency,
          }
        : undefined,
  });
  const ciVariables = vars.view;
  const ci = decideCiCleanup(ciCheck, [...deletedArns, ...vars.goneRoleArns], {
    role: options.role,
    account: identity.account,
    variables: vars.values,
    variablesUnchecked: ciVariables.checked ? undefined : ciVariables.reason,
  });
  const ciPlan: CiCleanupPlan | undefined =
    ci.kind === 'planned' && ci.plan.unmerge.action === 'update' ? ci.plan : undefined;
  const ciFile = describeCiFile(ci);

  const result = (
    changed: boolean,
    done: string[],
    skipped: DestroyApplyResult['skipped'],
    summary: string,
  ): DestroyResult => ({
    ok: true,
    command: 'destroy',
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
    ...(ciFile ? { ciFile } : {}),
    ciVariables,
    summary,
  });

  if (!plan.hasChanges && !ciPlan && vars.steps.length === 0) {
    const what =
      target.role !== undefined && current.roles.length === 0
        ? `Role ${target.role} does not exist in account ${identity.account}: nothing to destroy.`
        : `Nothing of ${describeDestroyTarget(plan.target)} left to destroy in account ${identity.account}.`;
    return result(false, [], [], what);
  }
  const profileConsent = options.removeFromInstanceProfiles || options.dryRun;
  const askProfiles = !profileConsent && plan.instanceProfileRemovals.length > 0;
  if (askProfiles && (options.yes || !deps.confirm)) throw needsProfileConsent(plan);
  deps.showPlan?.(plan, ciFile, ciVariables);
  if (askProfiles && deps.confirm) {
    const ok = await deps.confirm(
      `EC2 instances launched with an instance profile lose its role's permissions. ${plan.instanceProfileRemovals
        .map((r) => `Remove role ${r.roleName} from instance profile ${r.profile.path}${r.profile.name}?`)
        .join(' ')}`,
      plan,
    );
    if (!ok) throw new AbortError('Aborted: nothing was deleted.');
  }
  const changes = plan.steps.length + (ciPlan ? 1 : 0) + vars.steps.length;
  if (options.dryRun) {
    return result(
      true,
      [],
      [],
      `Dry run: ${changes} change${changes === 1 ? '' : 's'} would be made; nothing was changed.`,
    );
  }
  if (!options.yes) {
    if (!deps.confirm) throw needsYes();
    const ok = await deps.confirm(
      `Delete what is listed above for ${describeDestroyTarget(plan.target)} in account ${identity.account}${ciPlan ? (ciPlan.unmerge.deleteFile ? ` and delete ${ciPlan.shownPath}` : ` and remove the generated jobs from ${ciPlan.shownPath}`) : ''}${vars.steps.length ? ` and ${vars.steps.length} CI/CD variable${vars.steps.length === 1 ? '' : 's'} of ${ciVariables.project}` : ''}?`,
      plan,
    );
    if (!ok) throw new AbortError('Aborted: nothing was deleted.');
  }
  const ciStep = ciPlan
    ? ciPlan.unmerge.deleteFile
      ? `delete ${ciPlan.shownPath}`
      : `remove the generated jobs from ${ciPlan.shownPath}`
    : undefined;
  let applied: DestroyApplyResult = { done: [], skipped: [] };
  try {
    // IAM first: the file is only changed once the role is gone (a re-run finishes either part).
    applied = await applyDestroyPlan(plan.steps, iam, { signal: deps.signal, onEvent: deps.onEvent });
  } catch (error) {
    if (error instanceof PartialApplyError && (ciStep || vars.steps.length)) {
      throw new PartialApplyError(error.cause, error.done, [
        ...error.notDone,
        ...(ciStep ? [ciStep] : []),
        ...ciVariables.steps,
      ]);
    }
    throw error;
  }
  if (ciPlan && ciFile && ciStep) {
    if (deps.signal?.aborted) {
      throw new PartialApplyError(
        new AbortError('Interrupted before the pipeline file was changed.'),
        applied.done,
        [ciStep, ...ciVariables.steps],
      );
    }
    try {
      const written = await applyCiCleanup(ciPlan);
      ciFile.written = written.changed;
      ciFile.backupPath = written.backupPath;
    } catch (error) {
      throw new PartialApplyError(error, applied.done, [ciStep, ...ciVariables.steps]);
    }
    applied.done.push(ciStep);
    deps.onCiFile?.(ciFile);
  }
  // GitLab last: the role is gone, so no pipeline can use the variables any more.
  if (vars.port && vars.steps.length > 0) {
    const deleted = await applyVariableSteps(vars.port, vars.steps, {
      signal: deps.signal,
      onDone: deps.onVariable,
    });
    ciVariables.done = deleted.done;
    applied.done.push(...deleted.done);
    if (deleted.failed) {
      throw new PartialApplyError(
        deleted.failed.error,
        applied.done,
        deleted.failed.notDone,
        resumeVariablesHint(options, ciVariables),
      );
    }
  }
  const iamDone = applied.done.length - (ciStep ? 1 : 0) - ciVariables.done.length;
  const variablesDone = ciVariables.done.length
    ? `deleted ${ciVariables.done.length} CI/CD variable${ciVariables.done.length === 1 ? '' : 's'} of ${ciVariables.project}`
    : undefined;
  const others = [ciFile?.written ? ciDone(ciFile) : undefined, variablesDone].filter(Boolean).join('; ');
  const summary = plan.hasChanges
    ? `Destroyed ${describeDestroyTarget(plan.target)}: ${iamDone} change${iamDone === 1 ? '' : 's'}${applied.skipped.length ? `, ${applied.skipped.length} kept` : ''}${others ? `; ${others}` : ''}.`
    : `Nothing of ${describeDestroyTarget(plan.target)} left in IAM${others ? `; ${others}` : ''}.`;
  return result(true, applied.done, applied.skipped, summary);
}
