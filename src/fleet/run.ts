/**
 * `init` for a fleet: N already validated InitOptions (one per project) → one plan, one consent gate,
 * one confirmation, one apply. It is init's own code path (planInit / executeInit), not a second copy:
 * a single-project `init` is the fleet of one.
 *   0. `role: per-group` members are packed into roles first (packs.ts, from the account's roles as
 *      the bulk read has them): each is given its packed role, which all the role's members desire;
 *   1. plan every member with bounded concurrency, sharing the reads they have in common (the caller's
 *      identity once per port, thumbprints once per issuer, GetPolicy once per managed-policy ARN, the
 *      provider once per ARN); a member whose inputs are refused is reported, not fatal to the others;
 *   2. show the plans, ask for every missing consent at once (consent.ts), confirm once;
 *   3. per shared OIDC provider, and per packed role, the plans would create or change: one member
 *      applies first, the others are re-planned against what it left (no second
 *      CreateOpenIDConnectProvider or CreateRole; a packed role's other members then change nothing);
 *   4. apply the rest with bounded concurrency; a member's failure does not stop the others; on abort
 *      (deps.signal) no new member starts and those in flight settle.
 */

import {
  type AccountReads,
  currentStateFromSnapshot,
  policyArnsNeeded,
  readAccountSnapshot,
  readPolicyTags,
} from '../aws/account-snapshot.js';
import type { AwsPorts, IamPort } from '../aws/ports.js';
import {
  type ConcurrencyProgress,
  DEFAULT_CONCURRENCY,
  memoizeAsync,
  promiseCache,
  settleWithConcurrency,
} from '../core/concurrency.js';
import { checkFleetQuotas, type QuotaCheck } from '../core/quotas.js';
import { CONSENT_FLAGS, type ConsentItem, type OidcProviderState, type PlanStep } from '../core/types.js';
import { planGitlabDelivery } from '../delivery/plan.js';
import { AbortError, CliError, ConsentRequiredError, UsageError } from '../errors.js';
import type { GitlabPort } from '../gitlab/api/ports.js';
import { gateConsents, missingConsents } from '../init/consent.js';
import type { InitOptions } from '../init/options.js';
import {
  applyQuestion,
  executeInit,
  type InitDeps,
  type InitResult,
  type PlannedInit,
  planInit,
  readIdentity,
  requireYesOrDryRun,
} from '../init/run.js';
import type { Logger } from '../io/logger.js';
import type { ProgressReporter } from '../io/progress.js';
import { TOOL_NAME } from '../version.js';
import { keepReads } from './gitlab-reads.js';
import { type AccountRole, type PackSummary, packFleet } from './packs.js';
import { fleetQuotaPlan } from './quotas.js';

export { DEFAULT_CONCURRENCY } from '../core/concurrency.js';

export type MemberStatus =
  /** Planning ended it: nothing to change. */
  | 'no-changes'
  /** Planned (--dry-run, or a refused gate left it unapplied). */
  | 'planned'
  | 'applied'
  /** Its inputs or its reads were refused while planning: nothing was changed for it. */
  | 'refused'
  /** Applying it failed part-way (or before its first change). */
  | 'failed'
  /** Ctrl-C while it was being applied. */
  | 'interrupted'
  /** Ctrl-C before it started: nothing was changed for it. */
  | 'not-started';

export interface MemberOutcome {
  project: string;
  options: InitOptions;
  status: MemberStatus;
  /** The member's init result (the plan; after applying, what was applied). */
  result?: InitResult | undefined;
  /** Why it was refused or failed. */
  error?: unknown;
  /** Consents its plan needs that its flags do not give. */
  consents: ConsentItem[];
  /** The command that finishes it (failed, interrupted, not started). */
  resume?: string | undefined;
}

export type FleetStatus = 'no-changes' | 'planned' | 'applied' | 'failed' | 'interrupted';

export interface FleetResult {
  status: FleetStatus;
  dryRun: boolean;
  members: MemberOutcome[];
  /** The IAM quotas checked against the fleet's plans (several members, read from AWS); a refusal stops the run. */
  quotas?: QuotaCheck | undefined;
  /** `role: per-group`: how the members were packed into roles (fleet/packs.ts), moves and emptied roles. */
  packs?: PackSummary[] | undefined;
  /** 0 every member ok, 1 a member was refused or failed, 130 interrupted. */
  exitCode: 0 | 1 | 130;
}

export interface FleetDeps extends InitDeps {
  /** Members planned (and applied) at once. Default 8. */
  concurrency?: number | undefined;
  /** Called once all members are planned, before the consent gate and the confirmation (human mode). */
  showFleetPlan?: ((fleet: FleetResult) => void) | undefined;
  /** A progress reporter per phase (`Planning`, `Applying`), ticked as each member finishes (stderr). */
  progress?: ((label: string, total: number) => ProgressReporter) | undefined;
  /** The command that finishes one member (default: none; the summary says to re-run the same command). */
  resumeCommand?: ((member: InitOptions) => string) | undefined;
  /** The GitLab port of a member's instance (one per instance for the fleet); instead of `gitlab`. */
  gitlabFor?: ((gitlabUrl: string) => Promise<GitlabPort | undefined>) | undefined;
}

const PROVIDER_STEPS = new Set<PlanStep['kind']>([
  'createProvider',
  'addClientId',
  'updateThumbprints',
  'tagProvider',
]);

/** One shared set of ports: identity once (the STS port caches it), GetPolicy once per managed-policy ARN. */
function sharedPorts(aws: InitDeps['aws']): InitDeps['aws'] {
  let shared: Promise<AwsPorts> | undefined;
  return () => {
    shared ??= aws().then((ports) => ({
      ...ports,
      iam: { ...ports.iam, getPolicySummary: memoizeAsync((arn) => ports.iam.getPolicySummary(arn)) },
    }));
    return shared;
  };
}

/** Thumbprints once per issuer and override (a failure is not kept: the next member asks again). */
function sharedThumbprints(resolve: InitDeps['resolveThumbprints']): InitDeps['resolveThumbprints'] {
  const cache = promiseCache<Awaited<ReturnType<InitDeps['resolveThumbprints']>>>({ forgetFailures: true });
  return (issuer, override) =>
    cache.get(`${issuer.url}\n${override.join(',')}`, () => resolve(issuer, override));
}

/** The provider read once per ARN (every member of one GitLab instance names the same one); `reset` forgets. */
function providerCache() {
  const cache = promiseCache<OidcProviderState | undefined>({ forgetFailures: true });
  return {
    reset: () => cache.clear(),
    read: (iam: Pick<IamPort, 'getOidcProvider'>, arn: string) =>
      cache.get(arn, () => iam.getOidcProvider(arn)),
  };
}

/**
 * With more than one member, the per-step lines are left to the progress bar and the summary; what is
 * still printed (warnings, a failed step) says which project it is about.
 */
function memberLogger(logger: Logger, project: string, many: boolean): Logger {
  if (!many) return logger;
  return {
    palette: logger.palette,
    info: () => {},
    warn: (m) => logger.warn(`${project}: ${m}`),
    step: (state, m) => {
      if (state === 'fail') logger.step(state, `${project}: ${m}`);
    },
    debug: (m) => logger.debug(`${project}: ${m}`),
  };
}

/** Runs a phase over members with the shared runner, ticking its progress reporter. */
async function phase<T>(
  label: string,
  items: readonly T[],
  limit: number,
  deps: Pick<FleetDeps, 'progress'>,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  if (items.length === 0) return;
  const reporter = deps.progress?.(label, items.length);
  try {
    await settleWithConcurrency(
      items,
      {
        limit,
        onProgress: reporter ? (p: ConcurrencyProgress<T>) => reporter.tick({ failed: !p.ok }) : undefined,
      },
      fn,
    );
  } finally {
    reporter?.stop();
  }
}

function fleetStatus(
  members: MemberOutcome[],
  dryRun: boolean,
  quotas?: QuotaCheck,
  packs: PackSummary[] = [],
): FleetResult {
  const has = (...s: MemberStatus[]) => members.some((m) => s.includes(m.status));
  const status: FleetStatus = has('interrupted', 'not-started')
    ? 'interrupted'
    : has('refused', 'failed')
      ? 'failed'
      : has('applied')
        ? 'applied'
        : has('planned')
          ? 'planned'
          : 'no-changes';
  const packed = packs.length ? { packs } : {};
  if (quotas?.refusals.length && !dryRun)
    return { status: 'failed', dryRun, members, quotas, ...packed, exitCode: 1 };
  const exitCode = status === 'interrupted' ? 130 : status === 'failed' ? 1 : 0;
  return { status, dryRun, members, ...(quotas ? { quotas } : {}), ...packed, exitCode };
}

/** Plans, asks once, applies. Throws only what stops the whole fleet before any change (consent, "no"). */
export async function runFleet(given: readonly InitOptions[], deps: FleetDeps): Promise<FleetResult> {
  for (const m of given) requireYesOrDryRun(m, deps.interactive);
  const many = given.length > 1;
  const packing = given.some((m) => m.perGroup);
  const limit = Math.max(1, deps.concurrency ?? DEFAULT_CONCURRENCY);
  const providers = providerCache();
  // With several members the account is read once in bulk (about 1 + N/100 calls for N members) and
  // each member's state is built from it; when the bulk read is refused, each member reads its own.
  let bulk: Promise<AccountReads> | undefined;
  const readState: NonNullable<InitDeps['readState']> = async (iam, targets) => {
    const shared = { ...iam, getOidcProvider: (arn: string) => providers.read(iam, arn) };
    if (deps.readState) return deps.readState(shared, targets);
    if (many || packing) {
      bulk ??= readAccountSnapshot(shared, {
        concurrency: limit,
        progress: (m) => deps.logger.warn(m),
      });
      // A failed read (throttling past the retries) is not kept: the next member tries again.
      bulk.catch(() => {
        bulk = undefined;
      });
      const { snapshot } = await bulk;
      if (snapshot) {
        await readPolicyTags(shared, snapshot, policyArnsNeeded(snapshot, targets), limit);
        return currentStateFromSnapshot(snapshot, targets);
      }
    }
    const { readCurrentState } = await import('../aws/read-state.js');
    return readCurrentState(shared, targets);
  };
  const base: InitDeps = {
    ...deps,
    aws: sharedPorts(deps.aws),
    resolveThumbprints: sharedThumbprints(deps.resolveThumbprints),
    // The fleet shows the plans itself once all are made, in member order.
    showPlan: undefined,
    readState,
  };
  // Each member's GitLab port (its instance's, shared by the fleet), its reads kept for the re-plan.
  const memberGitlab = new WeakMap<InitOptions, InitDeps['gitlab']>();
  const gitlabOf = (options: InitOptions): InitDeps['gitlab'] => {
    const { gitlabFor } = deps;
    const source = gitlabFor ? () => gitlabFor(options.gitlabUrl) : deps.gitlab;
    if (!source || !many) return source;
    let kept = memberGitlab.get(options);
    if (!kept) {
      let port: Promise<GitlabPort | undefined> | undefined;
      kept = () => {
        port ??= source().then((p) => p && keepReads(p));
        return port;
      };
      memberGitlab.set(options, kept);
    }
    return kept;
  };
  // A member re-planned against the shared provider plans the same merge request and variables (same
  // role, same GitLab answers): the first plan's is kept instead of parsing and merging its file again.
  const memberDelivery = new WeakMap<InitOptions, NonNullable<InitDeps['planDelivery']>>();
  const deliveryOf = (options: InitOptions): InitDeps['planDelivery'] => {
    if (!many || !(options.mergeRequest || options.ciVariables)) return deps.planDelivery;
    let kept = memberDelivery.get(options);
    if (!kept) {
      const plans = promiseCache<Awaited<ReturnType<NonNullable<InitDeps['planDelivery']>>>>({
        forgetFailures: true,
      });
      kept = (o, port, project, role, local) => {
        // Only without a local pipeline file (a fleet member has none): its callback plans that file.
        if (local) return (deps.planDelivery ?? planGitlabDelivery)(o, port, project, role, local);
        return plans.get(JSON.stringify([o.protectedOnly, project, role]), () =>
          (deps.planDelivery ?? planGitlabDelivery)(o, port, project, role),
        );
      };
      memberDelivery.set(options, kept);
    }
    return kept;
  };
  // 0. `role: per-group`: the members are packed into roles first (one read of the account's roles).
  let packs: PackSummary[] = [];
  let members = given;
  if (packing) {
    const first = given.find((m) => m.perGroup) as InitOptions;
    const { identity, ports } = await readIdentity(first, {
      logger: memberLogger(deps.logger, first.project, true),
      aws: base.aws,
    });
    let roles: AccountRole[] = [];
    if (ports) {
      const shared = { ...ports.iam, getOidcProvider: (arn: string) => providers.read(ports.iam, arn) };
      bulk ??= readAccountSnapshot(shared, { concurrency: limit, progress: (m) => deps.logger.warn(m) });
      const reads = await bulk;
      // Without the bulk read (refused), ListRoles still has every trust policy (no tags).
      roles = reads.snapshot ? [...reads.snapshot.roles.values()] : reads.roleSummaries;
    }
    ({ members, packs } = packFleet(given, { identity, roles }));
  }
  const depsFor = (options: InitOptions, readState = base.readState): InitDeps => ({
    ...base,
    logger: memberLogger(deps.logger, options.project, many),
    readState,
    gitlab: gitlabOf(options),
    planDelivery: deliveryOf(options),
  });
  const label = (project: string, item: ConsentItem): ConsentItem =>
    many ? { ...item, message: `${project}: ${item.message}` } : item;
  const resume = (options: InitOptions) => deps.resumeCommand?.(options);

  // 1. Plan.
  const planned = new Map<MemberOutcome, PlannedInit>();
  const fleet = members.map(
    (options): MemberOutcome => ({ project: options.project, options, status: 'planned', consents: [] }),
  );
  await phase('Planning', fleet, limit, deps, async (member) => {
    const { options } = member;
    try {
      const p = await planInit(options, depsFor(options));
      planned.set(member, p);
      member.result = p.result;
      member.status = p.result.status === 'no-changes' ? 'no-changes' : 'planned';
      if (!p.final)
        member.consents = missingConsents(p.result.plan, options).map((i) => label(member.project, i));
    } catch (error) {
      member.status = 'refused';
      member.error = error;
      // A read that failed (GitLab or AWS throttling past the retries, an outage) is not bad input: the
      // same command for this member finishes it once the service answers.
      if (!(error instanceof UsageError)) member.resume = resume(options);
    }
  });
  const dryRun = members.every((m) => m.dryRun);
  // Quotas before any change (and with --dry-run): one GetAccountSummary for what every plan adds.
  const changing = fleet.flatMap((m) => {
    const p = planned.get(m);
    return p && p.result.status !== 'no-changes' && p.ports ? [p] : [];
  });
  let quotas: QuotaCheck | undefined;
  const iam = changing[0]?.ports?.iam;
  if (many && iam) {
    const quotaPlan = fleetQuotaPlan(changing, {
      existingProviders: await countProviders(iam, bulk, changing),
    });
    try {
      const { summaryMap } = await iam.getAccountSummary();
      quotas = checkFleetQuotas(summaryMap, quotaPlan);
    } catch (error) {
      if (error instanceof AbortError) throw error;
      // Without iam:GetAccountSummary the run goes on, saying what was not checked; the quotas that
      // need no summary (per role, per provider, providers, trust policy size) still are.
      const rest = checkFleetQuotas(undefined, quotaPlan);
      quotas = {
        refusals: rest.refusals,
        warnings: [`Not checked: roles and policies per account (${errorLine(error)}).`, ...rest.warnings],
      };
    }
  }
  for (const m of fleet) if (m.result && m.result.status !== 'no-changes') deps.showPlan?.(m.result);
  deps.showFleetPlan?.(fleetStatus(fleet, dryRun, quotas, packs));
  // A refusal stops the run here, before the gate and any change.
  if (quotas?.refusals.length) return fleetStatus(fleet, dryRun, quotas, packs);

  const toApply = fleet.filter((m) => planned.get(m)?.final === false);
  if (toApply.length === 0) return fleetStatus(fleet, dryRun, quotas, packs);

  // 2. One consent gate and one confirmation for all.
  const yes = toApply.every((m) => m.options.yes);
  await gateConsents(
    { consents: toApply.flatMap((m) => m.consents) },
    { overwriteDrift: false, allowWidening: false, detachUnowned: false, subClaimGiven: false },
    yes || !deps.interactive ? undefined : deps.prompter,
    deps.logger,
  );
  if (!yes) {
    const ask = await deps.prompter!();
    const only = toApply.length === 1 ? planned.get(toApply[0] as MemberOutcome) : undefined;
    const account = toApply[0]?.result?.identity.account;
    const message = only
      ? applyQuestion(only)
      : `Apply these changes for ${toApply.length} projects to AWS account ${account}?`;
    const ok = await ask.confirm('--yes', { message, default: false });
    if (!ok) throw new AbortError('Aborted: nothing was changed.');
  }
  if (deps.signal?.aborted) throw new AbortError('Aborted before applying: nothing was changed.');

  const apply = async (member: MemberOutcome, p: PlannedInit) => {
    if (deps.signal?.aborted) {
      member.status = 'not-started';
      member.resume = resume(member.options);
      return;
    }
    try {
      member.result = await executeInit(p, depsFor(member.options));
      member.status = 'applied';
    } catch (error) {
      member.status = error instanceof AbortError ? 'interrupted' : 'failed';
      member.error = error;
      member.resume = resume(member.options);
    }
  };

  // 3. A resource several plans create or change (the OIDC provider of an instance; a packed role and its
  // policy): one member per resource first, the others re-planned against what it left; repeated while
  // plans still change one (another audience, the next role of a pack: one more round each).
  const sharedKeys = (m: MemberOutcome): string[] => {
    const steps = m.result?.plan.steps ?? [];
    return [
      ...(steps.some((s) => PROVIDER_STEPS.has(s.kind)) ? [`provider\n${m.result?.providerArn}`] : []),
      ...(m.options.pack && steps.some((s) => !PROVIDER_STEPS.has(s.kind))
        ? [`role\n${m.options.pack.roleName.toLowerCase()}`]
        : []),
    ];
  };
  // What this run creates was approved as part of the fleet's plan: a client ID another member adds to
  // it is not a widening of anything that existed (one that did exist still needs --allow-widening).
  const createdHere = new Set(
    toApply
      .filter((m) => m.result?.plan.steps.some((s) => s.kind === 'createProvider'))
      .map((m) => m.result?.providerArn),
  );
  // A packed role's members read it again, once per role and round (GetRole and GetPolicy shared).
  const roundReads = promiseCache<unknown>();
  const once = <T>(key: string, read: () => Promise<T>): Promise<T> =>
    roundReads.get(key, read) as Promise<T>;
  const replan = async (m: MemberOutcome): Promise<void> => {
    const known = (planned.get(m) as PlannedInit).current;
    let p: PlannedInit;
    try {
      p = await planInit(
        m.options,
        depsFor(m.options, async (iam, targets) => {
          const provider = await providers.read(iam, targets.providerArn);
          if (!m.options.pack) return { ...known, provider };
          const { readCurrentState } = await import('../aws/read-state.js');
          return readCurrentState(
            {
              getOidcProvider: async () => provider,
              getRole: (name) => once(`role\n${name.toLowerCase()}`, () => iam.getRole(name)),
              getPolicy: (arn) => once(`policy\n${arn}`, () => iam.getPolicy(arn)),
            },
            targets,
          );
        }),
      );
    } catch (error) {
      m.status = 'failed';
      m.error = error;
      m.resume = resume(m.options);
      return;
    }
    planned.set(m, p);
    m.result = p.result;
    if (p.final) {
      m.status = 'no-changes';
      return;
    }
    const provider = p.result.plan.resources.find((r) => r.kind === 'oidc-provider');
    const missing = missingConsents(p.result.plan, m.options).filter(
      (i) => !(createdHere.has(p.result.providerArn) && i.resource === provider?.id),
    );
    if (missing.length) {
      m.status = 'failed';
      m.consents = missing.map((i) => label(m.project, i));
      m.error = new ConsentRequiredError(m.consents.map((i) => ({ ...i, flag: CONSENT_FLAGS[i.consent] })));
      m.resume = resume(m.options);
    }
  };
  let pending = toApply;
  while (!deps.signal?.aborted) {
    const byKey = new Map<string, MemberOutcome[]>();
    for (const m of pending) for (const k of sharedKeys(m)) byKey.set(k, [...(byKey.get(k) ?? []), m]);
    const shared = new Set([...byKey].filter(([, g]) => g.length > 1).map(([k]) => k));
    if (shared.size === 0) break;
    // One leader per shared resource, none two of whose resources another leader changes.
    const claimed = new Set<string>();
    const leaders: MemberOutcome[] = [];
    for (const m of pending) {
      const keys = sharedKeys(m);
      if (!keys.some((k) => shared.has(k)) || keys.some((k) => claimed.has(k))) continue;
      leaders.push(m);
      for (const k of keys) claimed.add(k);
    }
    const label = leaders.some((m) => sharedKeys(m).some((k) => k.startsWith('provider')))
      ? 'Creating the shared OIDC provider'
      : 'Creating the shared roles';
    await phase(label, leaders, limit, deps, (m) => apply(m, planned.get(m) as PlannedInit));
    // The others see the provider and roles as the leaders left them (one read each).
    providers.reset();
    roundReads.clear();
    const others = pending.filter((m) => !leaders.includes(m) && sharedKeys(m).some((k) => claimed.has(k)));
    if (deps.signal?.aborted) break;
    await phase('Re-planning against them', others, limit, deps, replan);
    pending = pending.filter((m) => !leaders.includes(m) && m.status === 'planned');
  }

  // 4. Apply the rest.
  await phase('Applying', pending, limit, deps, (m) => apply(m, planned.get(m) as PlannedInit));
  return fleetStatus(fleet, dryRun, quotas, packs);
}

/**
 * The account's OIDC providers (for OpenIdConnectProvidersPerAccount), only when a plan creates one:
 * from the bulk read's ListOpenIDConnectProviders, else one listing; undefined when it cannot be read.
 */
async function countProviders(
  iam: IamPort,
  bulk: Promise<AccountReads> | undefined,
  plans: readonly PlannedInit[],
): Promise<number | undefined> {
  if (!plans.some((p) => p.result.plan.steps.some((s) => s.kind === 'createProvider'))) return undefined;
  const read = await bulk?.catch(() => undefined);
  if (read) return read.providers.length;
  try {
    return (await iam.listOidcProviderArns()).length;
  } catch (error) {
    if (error instanceof AbortError) throw error;
    return undefined;
  }
}

/** `argv` as one shell line (single-quoted where needed), after the tool's name. */
export function commandLine(argv: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`);
  return [TOOL_NAME, ...argv.map(quote)].join(' ');
}

/** The one-line reason of a member's error. */
export function errorLine(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}

/** The JSON form of a member's error (a CliError's own document, else name and message). */
export function errorDocument(error: unknown): Record<string, unknown> {
  if (error instanceof CliError) return error.toJSON();
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { message: String(error) };
}
