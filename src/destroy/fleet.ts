/**
 * `destroy --group/--config`: one plan for every selected project (each member planned by
 * `buildDestroyPlan`, exactly as `destroy --project` plans it), counts, one confirmation, then each
 * member applied with bounded concurrency; one member's failure does not stop the others. The OIDC
 * providers are the fleet's: one goes, last, only if the tool created it and no remaining role
 * (outside the fleet, or of a member that failed or is blocked) trusts it. The providers looked at are
 * the ones the members' roles trust and the tool's providers of the fleet's GitLab instance, so a run
 * interrupted after the roles went still finds the provider when run again.
 */

import type { AwsPorts } from '../aws/ports.js';
import { mapWithConcurrency } from '../core/concurrency.js';
import { isToolManaged } from '../core/types.js';
import { AbortError, CliError, ExitCode, PartialApplyError, UsageError } from '../errors.js';
import { type FleetSelection, type FleetTargets, fleetCommandLine } from '../fleet/command-selection.js';
import { GITLAB_COM } from '../init/resolve.js';
import { applyDestroyPlan, type DestroyEvent } from './apply.js';
import { memberRoles, readFleetSnapshot, readMemberState } from './fleet-read.js';
import {
  applyVariableSteps,
  type DestroyCiVariables,
  type DestroyGitlab,
  type DestroyVariablesRead,
  readDestroyVariables,
} from './gitlab-variables.js';
import type { DestroyOptions } from './options.js';
import { assignPackedRoles } from './packed.js';
import {
  buildDestroyPlan,
  type DestroyPlan,
  type DestroyResource,
  describeDestroyStep,
  federatedArns,
  projectInstances,
  sameGitlabUrl,
} from './plan.js';

export interface FleetDestroyMember {
  project: string;
  /** planned: has changes (dry run or not yet applied); blocked: the plan cannot start (nothing changed). */
  state: 'planned' | 'destroyed' | 'nothing' | 'blocked' | 'failed' | 'not-started';
  resources: DestroyResource[];
  steps: string[];
  done: string[];
  notDone?: string[] | undefined;
  error?: string | undefined;
  /** The CI/CD variables init --ci-variables set in the project: deleted (or to be) after IAM, kept, or not checked. */
  ciVariables?: DestroyCiVariables | undefined;
}

export interface FleetDestroyResult {
  ok: boolean;
  command: 'destroy';
  account: string;
  dryRun: boolean;
  changed: boolean;
  selection: Omit<FleetTargets, 'projects'> & { projects: number };
  counts: {
    projects: number;
    withChanges: number;
    nothingToDestroy: number;
    blocked: number;
    roles: number;
    policiesDeleted: number;
    policiesDetached: number;
    providersDeleted: number;
    /** CI/CD variables (of init --ci-variables) to delete. */
    variablesDeleted: number;
  };
  members: FleetDestroyMember[];
  /** The fleet's OIDC providers: deleted (or to be) or kept, and why. */
  providers: DestroyResource[];
  providerDone: string[];
  failures: { project: string; error: string; done: string[]; notDone: string[] }[];
  /** The command that finishes the job (a re-run converges). */
  resume?: string | undefined;
  summary: string;
}

export interface FleetDestroyDeps {
  aws: () => Promise<AwsPorts> | AwsPorts;
  confirm?: ((message: string) => Promise<boolean>) | undefined;
  showPlan?: ((result: FleetDestroyResult) => void) | undefined;
  onEvent?: ((project: string, event: DestroyEvent) => void) | undefined;
  /** The GitLab API per instance, for each member's CI/CD variables (none: not checked). */
  gitlab?: DestroyGitlab | undefined;
  onVariable?: ((project: string, step: string) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** Some members could not be destroyed (or the run was interrupted). Exit 1 (130 on Ctrl-C). */
export class FleetDestroyError extends CliError {
  readonly result: FleetDestroyResult;

  constructor(result: FleetDestroyResult, aborted: boolean) {
    super('DESTROY_INCOMPLETE', result.summary, {
      hint: result.resume ? `Fix what is listed above, then finish with: ${result.resume}` : undefined,
      ...(aborted ? { exitCode: ExitCode.Aborted } : {}),
    });
    this.result = result;
  }

  override details(): string[] {
    return this.result.failures.map((f) => `${f.project}: ${f.error}`);
  }

  override resultDocument(): Record<string, unknown> {
    return { ...this.result };
  }
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Plans the fleet's providers: delete those the tool made that no role outside `deleted` trusts. */
function planProviders(
  snapshot: Awaited<ReturnType<typeof readFleetSnapshot>>,
  candidates: string[],
  deleted: Set<string>,
  keepProvider: boolean,
) {
  const otherRoles = snapshot.roles
    .filter((r) => !deleted.has(r.name.toLowerCase()))
    .map((r) => ({ name: r.name, providerArns: federatedArns(r) }))
    .filter((r) => r.providerArns.length > 0);
  return buildDestroyPlan(
    {
      target: { project: 'fleet' },
      roles: [],
      inlinePolicies: {},
      policies: [],
      providers: snapshot.providers.filter((p) => candidates.includes(p.arn)),
      otherRoles,
    },
    { keepProvider },
  );
}

const deletedRoles = (plans: DestroyPlan[]) =>
  new Set(
    plans.flatMap((p) => p.steps.flatMap((s) => (s.kind === 'deleteRole' ? [s.roleName.toLowerCase()] : []))),
  );

export async function runDestroyFleet(
  options: DestroyOptions,
  selection: FleetSelection,
  targets: FleetTargets,
  deps: FleetDestroyDeps,
): Promise<FleetDestroyResult> {
  if (!options.yes && !options.dryRun && !deps.confirm) {
    throw UsageError.field(
      '--yes',
      'destroy deletes IAM resources and there is no terminal to confirm on',
      'Review the plan with --dry-run, then run again with --yes.',
    );
  }
  const { iam, sts } = await deps.aws();
  const identity = await sts.getCallerIdentity();
  const snapshot = await readFleetSnapshot(iam, options.concurrency);
  const gitlabUrl = targets.gitlabUrl;

  // Per-group roles go with the member they serve first, only when every project they serve is selected.
  const packed = assignPackedRoles(
    snapshot.roles,
    targets.projects.map((t) => t.project),
    gitlabUrl,
  );
  // Plan every member from the one snapshot (reads: only each member's own tool policies).
  const plans = await mapWithConcurrency(targets.projects, options.concurrency, async ({ project }) => {
    const key = project.toLowerCase();
    const current = await readMemberState(
      iam,
      identity,
      snapshot,
      { project, gitlabUrl },
      packed.owned.get(key),
    );
    const plan = buildDestroyPlan(current, { keepProvider: true });
    const kept = packed.blockers.get(key);
    if (kept) return { ...plan, steps: [], hasChanges: false, blockers: [...plan.blockers, ...kept] };
    const instances = gitlabUrl === undefined ? projectInstances(current) : [];
    if (instances.length > 1) {
      const urls = instances.map((i) => i.gitlabUrl ?? 'untagged').join(', ');
      return {
        ...plan,
        steps: [],
        hasChanges: false,
        blockers: [
          {
            message: `${project} has resources of ${instances.length} GitLab instances (${urls})`,
            hint: 'Say which one with --gitlab-url (with --group) or gitlabUrl in the config file.',
          },
        ],
      };
    }
    return plan;
  });
  // Each member's CI/CD variables (init --ci-variables): a member whose variables cannot be read is blocked.
  const instance = gitlabUrl ?? GITLAB_COM;
  const roleNames = new Set(snapshot.roles.map((r) => r.name.toLowerCase()));
  const variables = await mapWithConcurrency(
    targets.projects,
    options.concurrency,
    async ({ project }, i) => {
      const plan = plans[i] as DestroyPlan;
      if (plan.blockers.length) return undefined;
      try {
        return await readDestroyVariables({
          gitlab: deps.gitlab,
          offline: options.offline,
          project,
          gitlabUrl: instance,
          targets: {
            roleArns: plan.steps.flatMap((s) => (s.kind === 'deleteRole' ? [s.roleArn] : [])),
            account: identity.account,
          },
          findGone: { roleExists: (name) => roleNames.has(name.toLowerCase()), concurrency: 1 },
        });
      } catch (error) {
        plans[i] = {
          ...plan,
          steps: [],
          hasChanges: false,
          blockers: [{ message: describe(error), hint: error instanceof CliError ? (error.hint ?? '') : '' }],
        };
        return undefined;
      }
    },
  );
  const memberHasChanges = (i: number) =>
    (plans[i] as DestroyPlan).hasChanges || (variables[i]?.steps.length ?? 0) > 0;
  const profileRemovals = plans.flatMap((p) => p.instanceProfileRemovals);
  if (profileRemovals.length && !options.removeFromInstanceProfiles && !options.dryRun) {
    throw new UsageError(
      `${profileRemovals.map((r) => `Role ${r.roleName} is in instance profile ${r.profile.path}${r.profile.name}`).join('; ')}: IAM cannot delete a role that is in an instance profile. Nothing was changed.`,
      [
        {
          field: '--remove-from-instance-profiles',
          message:
            'required to take the fleet’s roles out of their instance profiles (the profiles are kept)',
        },
      ],
    );
  }

  const trusted = new Set(
    targets.projects.flatMap(({ project }) =>
      memberRoles(snapshot, { project, gitlabUrl }).flatMap((r) => federatedArns(r)),
    ),
  );
  const providerCandidates = snapshot.providers
    .filter(
      (p) => trusted.has(p.arn) || (isToolManaged(p.tags) && sameGitlabUrl(`https://${p.url}`, instance)),
    )
    .map((p) => p.arn);
  const runnable = plans.map((p) => p.blockers.length === 0 && p.hasChanges);
  const providerPlan = planProviders(
    snapshot,
    providerCandidates,
    deletedRoles(plans.filter((_, i) => runnable[i])),
    options.keepProvider,
  );

  const members: FleetDestroyMember[] = targets.projects.map(({ project }, i) => {
    const plan = plans[i] as DestroyPlan;
    const vars = variables[i];
    return {
      project,
      state: plan.blockers.length ? 'blocked' : memberHasChanges(i) ? 'planned' : 'nothing',
      resources: plan.resources,
      steps: [...plan.steps.map(describeDestroyStep), ...(vars?.view.steps ?? [])],
      done: [],
      ...(plan.blockers.length ? { error: plan.blockers.map((b) => b.message).join('; ') } : {}),
      ...(vars ? { ciVariables: vars.view } : {}),
    };
  });
  const resources = plans.flatMap((p) => p.resources);
  const counts: FleetDestroyResult['counts'] = {
    projects: members.length,
    withChanges: members.filter((m) => m.state === 'planned').length,
    nothingToDestroy: members.filter((m) => m.state === 'nothing').length,
    blocked: members.filter((m) => m.state === 'blocked').length,
    roles: resources.filter((r) => r.kind === 'role' && r.action === 'delete').length,
    policiesDeleted: resources.filter((r) => r.kind === 'policy' && r.action === 'delete').length,
    policiesDetached: resources.filter((r) => r.kind === 'policy' && r.action === 'detach').length,
    providersDeleted: providerPlan.steps.length,
    variablesDeleted: variables.reduce((n, v) => n + (v?.steps.length ?? 0), 0),
  };
  const result: FleetDestroyResult = {
    ok: true,
    command: 'destroy',
    account: identity.account,
    dryRun: options.dryRun,
    changed: counts.withChanges > 0 || counts.providersDeleted > 0,
    selection: { ...targets, projects: targets.projects.length },
    counts,
    members,
    providers: providerPlan.resources,
    providerDone: [],
    failures: [],
    summary: '',
  };
  const resume = fleetCommandLine('destroy', selection, [
    ...(gitlabUrl !== undefined && selection.kind === 'group' ? ['--gitlab-url', gitlabUrl] : []),
    ...(options.keepProvider ? ['--keep-provider'] : []),
    ...(options.removeFromInstanceProfiles ? ['--remove-from-instance-profiles'] : []),
    '--yes',
  ]);
  const blocked = () =>
    members
      .filter((m) => m.state === 'blocked')
      .map((m) => ({ project: m.project, error: m.error ?? 'blocked', done: [], notDone: [] }));

  if (!result.changed) {
    result.failures = blocked();
    result.summary = `Nothing of the ${counts.projects} selected projects left to destroy in account ${identity.account}${counts.blocked ? ` (${counts.blocked} blocked)` : ''}.`;
    return finish(result, resume, false);
  }
  deps.showPlan?.(result);
  if (options.dryRun) {
    result.summary = `Dry run: ${counts.withChanges} of ${counts.projects} projects would be destroyed${counts.providersDeleted ? ` and ${counts.providersDeleted} OIDC provider deleted` : ''}; nothing was changed.`;
    result.failures = blocked();
    return finish(result, resume, false, true);
  }
  if (!options.yes) {
    const ok = await deps.confirm?.(
      `Delete what is listed above for ${counts.withChanges} project${counts.withChanges === 1 ? '' : 's'} in account ${identity.account}?`,
    );
    if (!ok) throw new AbortError('Aborted: nothing was deleted.');
  }

  let aborted = false;
  const succeeded: DestroyPlan[] = [];
  await mapWithConcurrency(members, options.concurrency, async (member, i) => {
    if (member.state !== 'planned') return;
    const plan = plans[i] as DestroyPlan;
    if (deps.signal?.aborted) {
      aborted = true;
      member.state = 'not-started';
      member.notDone = member.steps;
      return;
    }
    try {
      const applied = await applyDestroyPlan(plan.steps, iam, {
        signal: deps.signal,
        onEvent: (e) => deps.onEvent?.(member.project, e),
      });
      member.done = applied.done;
      succeeded.push(plan);
      await deleteMemberVariables(member, variables[i], deps);
      member.state = 'destroyed';
    } catch (error) {
      const partial = error instanceof PartialApplyError ? error : undefined;
      const cause = partial?.cause ?? error;
      if (cause instanceof AbortError) aborted = true;
      member.state = 'failed';
      member.done = partial?.done ?? member.done;
      member.notDone = partial?.notDone ?? member.steps.filter((s) => !member.done.includes(s));
      member.error = describe(cause);
    }
  });

  // The providers last, with what is actually gone: a failed member's roles still trust theirs.
  if (!aborted) {
    const finalProviders = planProviders(
      snapshot,
      providerCandidates,
      deletedRoles(succeeded),
      options.keepProvider,
    );
    result.providers = finalProviders.resources;
    try {
      const applied = await applyDestroyPlan(finalProviders.steps, iam, { signal: deps.signal });
      result.providerDone = applied.done;
    } catch (error) {
      const partial = error instanceof PartialApplyError ? error : undefined;
      result.failures.push({
        project: 'OIDC provider',
        error: describe(partial?.cause ?? error),
        done: partial?.done ?? [],
        notDone: partial?.notDone ?? finalProviders.steps.map(describeDestroyStep),
      });
    }
  }
  result.failures = [
    ...members
      .filter((m) => m.state === 'failed' || m.state === 'not-started')
      .map((m) => ({
        project: m.project,
        error: m.error ?? 'not started (interrupted)',
        done: m.done,
        notDone: m.notDone ?? [],
      })),
    ...blocked(),
    ...result.failures,
  ];
  const destroyed = members.filter((m) => m.state === 'destroyed').length;
  result.summary = `Destroyed ${destroyed} of ${counts.withChanges} project${counts.withChanges === 1 ? '' : 's'}${result.providerDone.length ? `, ${result.providerDone.length} OIDC provider${result.providerDone.length === 1 ? '' : 's'}` : ''}${result.failures.length ? `; ${result.failures.length} failed` : ''}${aborted ? ' (interrupted)' : ''}.`;
  return finish(result, resume, aborted);
}

/** After the member's IAM: its CI/CD variables (PartialApplyError with the member's done/not done on failure). */
async function deleteMemberVariables(
  member: FleetDestroyMember,
  vars: DestroyVariablesRead | undefined,
  deps: FleetDestroyDeps,
): Promise<void> {
  if (!vars?.port || vars.steps.length === 0) return;
  const deleted = await applyVariableSteps(vars.port, vars.steps, {
    signal: deps.signal,
    onDone: (step) => deps.onVariable?.(member.project, step),
  });
  vars.view.done = deleted.done;
  member.done = [...member.done, ...deleted.done];
  if (deleted.failed) throw new PartialApplyError(deleted.failed.error, member.done, deleted.failed.notDone);
}

function finish(
  result: FleetDestroyResult,
  resume: string,
  aborted: boolean,
  dryRun = false,
): FleetDestroyResult {
  if (!result.failures.length) return result;
  result.ok = false;
  if (!dryRun) result.resume = resume;
  throw new FleetDestroyError(result, aborted);
}
