/**
 * `init` as a function: options (already validated) + dependencies → result. No argv, no process.exit.
 * Order: everything that can be checked offline first (permissions, pipeline conflicts, trust policy
 * safety), then identity → current state → plan → confirm → apply → pipeline file.
 */
import type { ApplyEvent } from '../aws/apply.js';
import { checkManagedPolicies } from '../aws/check-policies.js';
import { describeStep } from '../aws/describe-step.js';
import type { AwsPorts, IamPort } from '../aws/ports.js';
import type { StateTargets } from '../aws/read-state.js';
import type { RetryOptions } from '../aws/retry.js';
import { parseIssuerUrl, providerArnFor } from '../core/issuer.js';
import { lintTrustPolicy } from '../core/lint.js';
import { buildPackTrust, type PackProject } from '../core/packing.js';
import {
  alignRolePath,
  buildDesiredState,
  buildPlan,
  type DesiredStateResult,
  plansThumbprintChange,
} from '../core/plan.js';
import { policyDiff } from '../core/policy-json.js';
import { subClaimComponents } from '../core/subject.js';
import type { CurrentState, DesiredState, Identity, Issuer, PolicyDocument } from '../core/types.js';
import {
  type DeliveryPlan,
  deliveryFlag,
  deliveryProjectOf,
  deliveryReads,
  deliveryResult,
  planGitlabDelivery,
  requireDeliveryApi,
} from '../delivery/plan.js';
import { AbortError, type AwsError, PartialApplyError, UsageError } from '../errors.js';
import { applyGitlabSteps, describeGitlabStep, type GitlabApplyEvent } from '../gitlab/api/apply.js';
import type { GitlabPort } from '../gitlab/api/ports.js';
import type { GitlabStep } from '../gitlab/api/steps.js';
import type { ThumbprintResolution } from '../gitlab/thumbprint.js';
import type { Logger } from '../io/logger.js';
import type { Prompter } from '../prompts/prompter.js';
import { runExpectDenyChecks } from '../verify/expect-deny.js';
import { checkPackMember } from '../verify/pack-safety.js';
import { gateConsents } from './consent.js';
import { movedWarning } from './gitlab-project.js';
import { planRefProtection, type RefProtectionPlan } from './gitlab-refs.js';
import { nextSteps } from './next-steps.js';
import type { InitOptions } from './options.js';
import { loadPermissionSource, type PermissionSource } from './permissions.js';
import {
  type PipelinePlan,
  planPipeline,
  preflightPipeline,
  summarizePipeline,
  writePipeline,
} from './pipeline.js';
import type { InitResult } from './result.js';
import { checkSafety } from './safety.js';
import { withStepsAround } from './stopped.js';
import { planSubClaim, type SetSubClaimStep, subClaimRefusal } from './sub-claim.js';

export type { InitResult, InitStatus } from './result.js';

export const OFFLINE_ACCOUNT = '123456789012';

export interface InitDeps {
  logger: Logger;
  /** Builds the AWS ports (lazily: the SDK loads only when AWS is really called). */
  aws: () => Promise<AwsPorts>;
  /** For the confirmation; only used when `interactive`. */
  prompter?: (() => Promise<Prompter>) | undefined;
  interactive: boolean;
  resolveThumbprints: (issuer: Issuer, override: string[]) => Promise<ThumbprintResolution>;
  signal?: AbortSignal | undefined;
  retry?: RetryOptions | undefined;
  /** Printed between planning and confirmation (human mode only). */
  showPlan?: ((result: InitResult) => void) | undefined;
  /**
   * The GitLab API of `options.gitlabUrl`, built lazily (the client loads on the first call); undefined
   * when it cannot be used. Never called with --offline; only read from under --dry-run.
   */
  gitlab?: (() => Promise<GitlabPort | undefined>) | undefined;
  /** Reads the provider, role and policies the plan compares (default `readCurrentState`; a fleet shares reads). */
  readState?: ((iam: IamPort, targets: StateTargets) => Promise<CurrentState>) | undefined;
  /** Plans the merge request and variables (default `planGitlabDelivery`; a fleet keeps it for the re-plan). */
  planDelivery?: typeof planGitlabDelivery | undefined;
}

/**
 * The GitLab reads of a run (after every offline check, before AWS): the allowed refs against the
 * project's protection rules. Skipped offline, without the API, or when the project was not looked up.
 */
async function readGitlabSide(
  options: InitOptions,
  deps: InitDeps,
  gitlabCom: boolean,
): Promise<{ port?: GitlabPort; refs?: RefProtectionPlan }> {
  if (options.offline) return {};
  const facts = options.gitlabProject;
  const port = facts && deps.gitlab ? await deps.gitlab() : undefined;
  if (!facts || !port) {
    if (options.protectRefs) {
      throw UsageError.field(
        '--protect-refs',
        `needs the GitLab project, which was not looked up (no usable GitLab API for ${options.gitlabUrl}, or the token cannot see ${options.project})`,
        'Give a token with the api scope and the Maintainer role (GITLAB_TOKEN, or --gitlab-token-env NAME).',
      );
    }
    return {};
  }
  deps.logger.step('start', `Reading the protected branches and tags of ${facts.path} from GitLab`);
  const refs = await planRefProtection(port, {
    projectId: facts.id,
    projectPath: facts.path,
    refs: options.refs,
    gitlabCom,
    protectRefs: options.protectRefs,
    protectedOnly: options.protectedOnly,
    autoProtectedOnly: options.autoProtectedOnly,
  });
  const safe = refs.refs.filter((r) => r.protectedBy).length;
  deps.logger.step('done', `${safe} of ${refs.refs.length} allowed refs protected in GitLab`);
  return { port, refs };
}

/** The caller's account (STS), or with --offline the stand-in (`--account-id`, `--partition`). */
export async function readIdentity(
  options: Pick<InitOptions, 'offline' | 'accountId' | 'partition'>,
  deps: Pick<InitDeps, 'logger' | 'aws'>,
): Promise<{ identity: Identity; ports?: AwsPorts }> {
  if (options.offline) {
    const account = options.accountId ?? OFFLINE_ACCOUNT;
    const partition = options.partition ?? 'aws';
    return {
      identity: { account, partition, arn: `arn:${partition}:iam::${account}:root`, userId: 'offline' },
    };
  }
  deps.logger.step('start', 'Checking AWS identity (sts:GetCallerIdentity)');
  const ports = await deps.aws();
  const identity = await ports.sts.getCallerIdentity();
  deps.logger.step('done', `AWS account ${identity.account} (${identity.partition}) as ${identity.arn}`);
  return { identity, ports };
}

/** What the setup's inputs want in `identity`'s account: the one path from options to desired state (init, export). */
export function buildSetupDesiredState(
  options: InitOptions,
  permissionSource: PermissionSource | undefined,
  identity: Pick<Identity, 'account' | 'partition'>,
  thumbprints: readonly string[],
): DesiredStateResult {
  const issuer = parseIssuerUrl(options.gitlabUrl);
  const { pack } = options;
  return buildDesiredState({
    identity,
    issuer,
    audience: options.audience,
    projectPath: options.project,
    refs: options.refs,
    projectId: options.projectId,
    namespaceId: options.namespaceId,
    protectedOnly: options.protectedOnly,
    allowAnyRef: options.allowAnyRef,
    subClaim: options.subClaim,
    roleName: options.roleName,
    rolePath: options.rolePath,
    maxSessionDuration: options.maxSessionDuration,
    trustPolicyQuota: options.trustPolicyMax,
    permissionsBoundaryArn: options.permissionsBoundary,
    managedPolicyArns: options.managedPolicies,
    policy: permissionSource
      ? {
          name: options.policyName,
          document: permissionSource.render({ partition: identity.partition, account: identity.account }),
        }
      : undefined,
    tags: options.awsTags,
    thumbprints,
    packed: pack
      ? {
          trust: buildPackTrust(
            {
              issuer,
              providerArn: providerArnFor(identity.partition, identity.account, issuer),
              audience: options.audience,
            },
            pack.members,
          ),
          group: pack.group,
        }
      : undefined,
  });
}

/** Lints the trust policy and proves the tokens it must refuse are refused; an unsafe one stops here. */
export function checkSetupTrust(
  options: InitOptions,
  desired: DesiredState,
  identity: Pick<Identity, 'account' | 'partition'>,
  issuer: Issuer,
): InitResult['checks'] {
  const providerArn = providerArnFor(identity.partition, identity.account, issuer);
  const lint = lintTrustPolicy(desired.role.trustPolicy, {
    providers: [{ arn: providerArn, url: issuer.url, clientIds: desired.provider.clientIds, gitlab: true }],
    roleName: desired.role.name,
  });
  if (options.pack) {
    // The role is shared: this member's probes, less the jobs of the other members (meant to get in),
    // and each of its own refs must still get the role.
    const expectDeny = checkPackMember(
      { issuer, providerArn, audience: options.audience, clientIds: desired.provider.clientIds },
      { roleName: desired.role.name, trustPolicy: desired.role.trustPolicy, members: options.pack.members },
      options.project,
    );
    checkSafety(lint, expectDeny);
    return { lint, expectDeny };
  }
  const expectDeny = runExpectDenyChecks(desired.role.trustPolicy, {
    issuer,
    providerArn,
    clientIds: desired.provider.clientIds,
    audience: options.audience,
    projectPath: options.project,
    refs: options.refs,
    projectId: options.projectId,
    namespaceId: options.namespaceId,
    protectedOnly: options.protectedOnly && issuer.isGitlabCom,
    subComponents: subClaimComponents(options.subClaim),
    projectIdPinned: issuer.isGitlabCom && options.projectId !== undefined,
  });
  checkSafety(lint, expectDeny);
  return { lint, expectDeny };
}

/**
 * A packed role's trust without the members this run adds to it: what widening is judged against (the
 * added projects are the onboarding the fleet's plan shows). Undefined without a pack or when all are new.
 */
function packBaseline(
  options: InitOptions,
  identity: Pick<Identity, 'account' | 'partition'>,
  issuer: Issuer,
): PolicyDocument | undefined {
  const { pack } = options;
  if (!pack) return undefined;
  // The members of one role share its lists: the baseline is built once per role.
  const hit = stayingMembers.get(pack.members);
  let staying = hit?.added === pack.added ? hit.staying : undefined;
  if (!staying) {
    staying = pack.members.filter((m) => !pack.added.includes(m.projectPath));
    stayingMembers.set(pack.members, { added: pack.added, staying });
  }
  if (!staying.length) return undefined;
  const providerArn = providerArnFor(identity.partition, identity.account, issuer);
  return buildPackTrust({ issuer, providerArn, audience: options.audience }, staying).policy;
}
const stayingMembers = new WeakMap<
  readonly PackProject[],
  { added: readonly string[]; staying: PackProject[] }
>();

/**
 * The checks of one member's trust policy, kept for the run: the fleet re-plans its members against the
 * provider the first one created, with the same options and so the same trust policy; the lint and the
 * expect-deny probes (most of a plan's CPU) are not evaluated twice. Keyed by the options object.
 */
const trustChecks = new WeakMap<InitOptions, Map<string, InitResult['checks']>>();
function checkSetupTrustOnce(
  options: InitOptions,
  desired: DesiredState,
  identity: Pick<Identity, 'account' | 'partition'>,
  issuer: Issuer,
): InitResult['checks'] {
  // A packed member's probes depend on the other members too: not kept.
  if (options.pack) return checkSetupTrust(options, desired, identity, issuer);
  const key = JSON.stringify([
    desired.role.trustPolicy,
    desired.role.name,
    desired.provider.clientIds,
    identity.account,
    identity.partition,
    issuer.url,
  ]);
  let byKey = trustChecks.get(options);
  const hit = byKey?.get(key);
  if (hit) return hit;
  const checks = checkSetupTrust(options, desired, identity, issuer);
  if (!byKey) {
    byKey = new Map();
    trustChecks.set(options, byKey);
  }
  byKey.set(key, checks);
  return checks;
}

/** Applying without a terminal to confirm needs --yes (or --dry-run to only plan). */
export function requireYesOrDryRun(
  flags: { dryRun?: boolean | undefined; yes?: boolean | undefined },
  interactive: boolean,
): void {
  if (flags.dryRun || flags.yes || interactive) return;
  throw UsageError.field(
    '--yes',
    'is needed to apply changes without a terminal (or with CI set, or --json)',
    'Add --yes to apply, or --dry-run to only see the plan.',
  );
}

/**
 * A planned `init`: the result so far (`planned`, or final: `no-changes`, a dry run) and what applying
 * it needs. `runInit` is `applyInit(await planInit(…))`; a fleet plans every member first, asks once
 * (`gateConsents` over all, one confirmation), then runs `executeInit` per member.
 */
export interface PlannedInit {
  /** The effective options (GitLab may have pinned ref_protected). */
  options: InitOptions;
  result: InitResult;
  /** Planning ended the run: nothing to change, or --dry-run. */
  final: boolean;
  /** IAM as read for the plan (a fleet re-plans a member from it after the shared provider is created). */
  current: CurrentState;
  ports?: AwsPorts | undefined;
  gitlabPort?: GitlabPort | undefined;
  gitlabSteps: GitlabStep[];
  ciPlan?: PipelinePlan | undefined;
  ciChanges: boolean;
}

export async function runInit(given: InitOptions, deps: InitDeps): Promise<InitResult> {
  return applyInit(await planInit(given, deps), deps);
}

/** Everything up to the plan (shown with `deps.showPlan` when it changes something); reads only. */
export async function planInit(given: InitOptions, deps: InitDeps): Promise<PlannedInit> {
  const { logger } = deps;
  // What GitLab says may pin ref_protected (below): everything after that reads the effective options.
  let options = given;
  requireYesOrDryRun(options, deps.interactive);
  const issuer = parseIssuerUrl(options.gitlabUrl);
  const permissionSource = await loadPermissionSource(options);

  // Pipeline conflicts are found before AWS is touched: a refused merge must not leave IAM half-done.
  const placeholderArn = `arn:aws:iam::${OFFLINE_ACCOUNT}:role${options.rolePath}${options.roleName}`;
  // With --merge-request the file is the repository's, read from GitLab: no local file is read or written.
  const localPipeline = (o: InitOptions) =>
    o.ciFile && !o.mergeRequest ? { ...o, ciFile: o.ciFile } : undefined;
  let pipelineOptions = localPipeline(options);
  if (pipelineOptions) await preflightPipeline(pipelineOptions, placeholderArn);

  const desiredFor = (identity: Pick<Identity, 'account' | 'partition'>, thumbprints: string[]) =>
    buildSetupDesiredState(options, permissionSource, identity, thumbprints);
  // Preflight with a stand-in account: every input problem (unsafe refs, quotas, tags) fails before AWS.
  desiredFor({ account: OFFLINE_ACCOUNT, partition: options.partition ?? 'aws' }, options.thumbprints);

  // GitLab: which allowed refs are protected (and, on gitlab.com, whether the trust pins ref_protected).
  const gitlabSide = await readGitlabSide(options, deps, issuer.isGitlabCom);
  // A packed role's conditions are the pack's (fleet/packs.ts), the same for all its members.
  if (gitlabSide.refs && gitlabSide.refs.protectedOnly !== options.protectedOnly && !options.pack) {
    options = { ...options, protectedOnly: gitlabSide.refs.protectedOnly };
    pipelineOptions = localPipeline(options);
  }
  // --merge-request / --ci-variables change GitLab: without a token or the project, refused before AWS.
  if (deliveryFlag(options) && !options.offline) {
    const port = gitlabSide.port ?? (deps.gitlab ? await deps.gitlab() : undefined);
    requireDeliveryApi(options, port, options.gitlabProject !== undefined);
  }
  for (const n of gitlabSide.refs?.notes ?? []) logger.info(logger.palette.muted(n));
  // The project's sub claim components, set to the form the trust is written for (--sub-claim).
  const facts = options.gitlabProject;
  const subClaim = planSubClaim({
    form: options.subClaim,
    given: options.subClaimGiven,
    gitlabUrl: options.gitlabUrl,
    project: options.offline
      ? 'offline'
      : facts && gitlabSide.port
        ? { id: facts.id, pathWithNamespace: facts.path, subClaimComponents: facts.subClaimComponents }
        : 'no-token',
    authenticated: gitlabSide.port?.authenticated,
  });
  // The GitLab-side changes in apply order. Other GitLab planners (variables, commit + MR) append here.
  // The sub claim goes first, and is applied before IAM (see sub-claim.ts for why).
  const gitlabSteps: GitlabStep[] = [
    ...(subClaim.step ? [subClaim.step] : []),
    ...(gitlabSide.refs?.steps ?? []),
  ];

  const { identity, ports } = await readIdentity(options, deps);
  const thumbprints = options.offline
    ? await offlineThumbprints(issuer, options.thumbprints)
    : await deps.resolveThumbprints(issuer, options.thumbprints);
  const desiredResult = desiredFor(identity, thumbprints.thumbprints);
  let { desired } = desiredResult;

  const { lint, expectDeny } = checkSetupTrustOnce(options, desired, identity, issuer);

  // Before anything changes (and with --dry-run): a misspelt --managed-policy is exit 2, not a
  // two-minute AttachRolePolicy retry after the provider and role were created.
  const policyCheck = ports
    ? await checkManagedPolicies(ports.iam, options.managedPolicies, identity.account)
    : { warnings: [] };

  let current: CurrentState = {};
  if (ports) {
    logger.step('start', 'Reading the OIDC provider, role and policy from IAM');
    const { readCurrentState, readProviderUsers, stateTargetsFor } = await import('../aws/read-state.js');
    current = await (deps.readState ?? readCurrentState)(
      ports.iam,
      stateTargetsFor(desired, identity, options.policyName),
    );
    // A new thumbprint list applies to every role that trusts the provider: name them in the plan.
    if (plansThumbprintChange(desired, current) && current.provider) {
      current.providerUsedBy = await readProviderUsers(ports.iam, current.provider.arn, desired.role.name);
    }
    logger.step('done', 'Read current IAM state');
  }
  const planOptions = {
    adoptExisting: options.adoptExisting,
    rolePathGiven: options.rolePathGiven,
    detachUnowned: options.detachUnowned,
    warnings: desiredResult.warnings,
    broadening: desiredResult.broadening,
    // GitLab says which ID the path has: switching the sub between them is not a new subject.
    sameProject: facts ? { projectPath: facts.path, projectId: String(facts.id) } : undefined,
    trustBaseline: packBaseline(options, identity, issuer),
  };
  const plan = buildPlan(desired, current, planOptions);
  if (subClaim.consent) plan.consents.unshift(subClaim.consent);
  // An existing role keeps its path (IAM cannot move it): the pipeline and the result get its real ARN.
  desired = alignRolePath(desired, current, planOptions).desired;

  let ciPlan: PipelinePlan | undefined;
  // --ci-variables / --merge-request: read what GitLab has (variables; the file, branch and MR) and plan.
  let delivery: DeliveryPlan | undefined;
  if (deliveryFlag(options) && gitlabSide.port && options.gitlabProject) {
    logger.step('start', `Reading ${deliveryReads(options)} of ${options.gitlabProject.path} from GitLab`);
    const local = pipelineOptions;
    delivery = await (deps.planDelivery ?? planGitlabDelivery)(
      options,
      gitlabSide.port,
      deliveryProjectOf(options.gitlabProject, gitlabSide.refs?.refs),
      {
        roleArn: desired.role.arn,
        providerArn: desired.provider.arn,
        policyArn: desired.policy?.arn,
        permissionSource: permissionSource?.label,
        managedPolicyArns: desired.role.managedPolicyArns,
      },
      local
        ? {
            // A hidden job may name its role through a project variable: plan the file knowing them.
            jobNames: async (variables) => {
              ciPlan = await planPipeline(local, desired.role.arn, { variables });
              return ciPlan.jobNames;
            },
          }
        : undefined,
    );
    logger.step('done', `Read ${deliveryReads(options)} from GitLab`);
    for (const n of delivery.notes) logger.info(logger.palette.muted(n));
    gitlabSteps.push(...delivery.steps);
    // A variable the tool did not set is changed only with consent, like IAM drift.
    plan.consents.push(...delivery.consents);
  }
  ciPlan ??= pipelineOptions ? await planPipeline(pipelineOptions, desired.role.arn) : undefined;
  const shownPipeline = ciPlan ?? delivery?.pipeline;
  const result: InitResult = {
    ok: true,
    command: 'init',
    status: 'planned',
    dryRun: options.dryRun,
    offline: options.offline,
    identity,
    region: options.region,
    project: options.project,
    gitlabUrl: issuer.url,
    audience: options.audience,
    refs: options.refs,
    providerArn: desired.provider.arn,
    roleArn: desired.role.arn,
    policyArn: desired.policy?.arn,
    permissions: { source: permissionSource?.label, managedPolicyArns: desired.role.managedPolicyArns },
    plan,
    trustPolicyDiff: policyDiff(plan.trustPolicy.before, plan.trustPolicy.after),
    checks: { lint, expectDeny },
    thumbprints,
    ciFile: shownPipeline ? summarizePipeline(shownPipeline) : undefined,
    ...(delivery ? deliveryResult(delivery) : {}),
    gitlab: options.gitlabProject
      ? {
          project: options.gitlabProject,
          refs: gitlabSide.refs?.refs,
          protectedOnlyByDefault: gitlabSide.refs?.pinnedByDefault,
        }
      : undefined,
    gitlabSteps,
    applied: [],
    gitlabApplied: [],
    warnings: [
      ...[movedWarning(options.gitlabProject)].filter((w): w is string => w !== undefined),
      ...(gitlabSide.refs?.warnings ?? []),
      ...subClaim.warnings,
      ...plan.warnings,
      ...policyCheck.warnings,
      ...thumbprints.warnings,
      ...(shownPipeline?.warnings ?? []),
      ...(delivery?.warnings.filter((w) => !shownPipeline?.warnings.includes(w)) ?? []),
    ],
    nextSteps: [],
  };

  const ciChanges = ciPlan !== undefined && ciPlan.action !== 'no-op';
  const planned: PlannedInit = {
    options,
    result,
    final: true,
    current,
    ports,
    gitlabPort: gitlabSide.port,
    gitlabSteps,
    ciPlan,
    ciChanges,
  };
  if (!plan.hasChanges && !ciChanges && gitlabSteps.length === 0) {
    result.status = 'no-changes';
    result.nextSteps = nextSteps(result, options);
    return planned;
  }
  deps.showPlan?.(result);
  if (options.dryRun) {
    result.nextSteps = nextSteps(result, options);
    return planned;
  }
  planned.final = false;
  return planned;
}

/** The confirmation question for a planned change (a fleet of one asks exactly this). */
export function applyQuestion({ result, options, gitlabSteps, ciChanges, ciPlan }: PlannedInit): string {
  return `Apply these changes to ${[
    result.plan.hasChanges ? `AWS account ${result.identity.account}` : undefined,
    gitlabSteps.length ? `GitLab project ${options.gitlabProject?.path ?? options.project}` : undefined,
    ciChanges ? ciPlan?.path : undefined,
  ]
    .filter(Boolean)
    .join(', ')}?`;
}

/** Consents, the confirmation, then `executeInit`; a final plan is returned as it is. */
export async function applyInit(planned: PlannedInit, deps: InitDeps): Promise<InitResult> {
  if (planned.final) return planned.result;
  const { options, result } = planned;
  // Before any change: drift overwrites, widening and removals need their flag, or a "yes" each.
  await gateConsents(
    result.plan,
    options,
    options.yes || !deps.interactive ? undefined : deps.prompter,
    deps.logger,
  );
  if (!options.yes) {
    const ask = await deps.prompter!();
    const ok = await ask.confirm('--yes', { message: applyQuestion(planned), default: false });
    if (!ok) throw new AbortError('Aborted: nothing was changed.');
  }
  return executeInit(planned, deps);
}

/** Applies a confirmed plan: GitLab's sub claim, IAM, then GitLab, then the pipeline file. */
export async function executeInit(planned: PlannedInit, deps: InitDeps): Promise<InitResult> {
  const { logger } = deps;
  const { options, result, ciPlan, ciChanges, ports, gitlabSteps } = planned;
  const { plan } = result;
  const gitlabSide = { port: planned.gitlabPort };
  if (deps.signal?.aborted) throw new AbortError('Aborted before applying: nothing was changed.');

  const pipelineStep = ciPlan && ciChanges ? `write ${ciPlan.shownPath}` : undefined;
  const firstSteps = gitlabSteps.filter((s) => s.kind === 'setSubClaim');
  const laterSteps = gitlabSteps.filter((s) => s.kind !== 'setSubClaim');
  const gitlabNotDone = laterSteps.map(describeGitlabStep);
  const gitlabEvents = (event: GitlabApplyEvent) => {
    if (event.type === 'start') logger.step('start', `GitLab: ${event.description}`);
    else if (event.type === 'done') logger.step('done', `GitLab: ${event.description}`);
    else logger.step('fail', `GitLab: ${event.description}`);
  };
  if (firstSteps.length && gitlabSide.port) {
    // Before IAM: a GitLab that refuses the form (400) is found out with nothing changed (exit 2).
    const applied = await applyGitlabSteps(firstSteps, gitlabSide.port, {
      signal: deps.signal,
      onEvent: gitlabEvents,
    }).catch((error: unknown) => {
      const cause = error instanceof PartialApplyError ? error.cause : error;
      const refused = subClaimRefusal(cause, firstSteps[0] as SetSubClaimStep, options.gitlabUrl);
      if (refused !== cause) throw refused;
      throw withStepsAround(error, {
        notDoneAfter: [
          ...(plan.hasChanges ? plan.steps.map(describeStep) : []),
          ...gitlabNotDone,
          ...(pipelineStep ? [pipelineStep] : []),
        ],
      });
    });
    result.gitlabApplied.push(...applied.done);
  }
  if (plan.hasChanges && ports) {
    const { applyPlan } = await import('../aws/apply.js');
    const applied = await applyPlan(plan, ports.iam, {
      signal: deps.signal,
      retry: {
        ...deps.retry,
        onRetry: ({ delayMs, error }) =>
          logger.info(
            logger.palette.muted(
              `  IAM is still propagating (${(error as AwsError).awsCode ?? (error as Error).name}); retrying in ${Math.round(delayMs / 100) / 10}s`,
            ),
          ),
      },
      onEvent: (event: ApplyEvent) => {
        if (event.type === 'start') logger.step('start', event.description);
        else if (event.type === 'done') logger.step('done', event.description);
        else logger.step('fail', event.description);
      },
    }).catch((error: unknown) => {
      throw withStepsAround(error, {
        doneBefore: result.gitlabApplied,
        notDoneAfter: [...gitlabNotDone, ...(pipelineStep ? [pipelineStep] : [])],
      });
    });
    result.applied = applied.done;
  }
  if (laterSteps.length && gitlabSide.port) {
    const applied = await applyGitlabSteps(laterSteps, gitlabSide.port, {
      signal: deps.signal,
      onEvent: gitlabEvents,
    }).catch((error: unknown) => {
      throw withStepsAround(error, {
        doneBefore: [...result.gitlabApplied, ...result.applied],
        notDoneAfter: pipelineStep ? [pipelineStep] : [],
      });
    });
    result.gitlabApplied.push(...applied.done);
    if (result.mergeRequest && applied.mergeRequest) {
      result.mergeRequest.iid = applied.mergeRequest.iid;
      result.mergeRequest.url = applied.mergeRequest.webUrl;
    }
  }
  if (ciPlan && ciChanges) {
    const written = await writePipeline(ciPlan, options.cwd, [...result.applied, ...result.gitlabApplied]);
    logger.step(
      'done',
      `${ciPlan.action === 'create' ? 'Created' : 'Updated'} ${ciPlan.shownPath}${written.backupPath ? ` (backup: ${written.backupPath})` : ''}`,
    );
    if (result.ciFile) {
      result.ciFile.written = written.changed;
      result.ciFile.backupPath = written.backupPath;
    }
  }
  result.status = 'applied';
  result.nextSteps = nextSteps(result, options);
  return result;
}

/** Thumbprints without a network call: the override, or none (gitlab.com needs none). */
export async function offlineThumbprints(issuer: Issuer, override: string[]): Promise<ThumbprintResolution> {
  if (override.length)
    return {
      thumbprints: override.map((t) => t.toLowerCase()),
      source: 'override',
      details: [],
      warnings: [],
    };
  if (issuer.isGitlabCom) return { thumbprints: [], source: 'not-needed', details: [], warnings: [] };
  return {
    thumbprints: [],
    source: 'not-needed',
    details: [],
    warnings: [
      `--offline: the TLS thumbprint of ${issuer.url} was not fetched; a real run computes it (or pass --thumbprint).`,
    ],
  };
}
