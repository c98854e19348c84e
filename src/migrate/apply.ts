/**
 * `migrate --apply`: find (run.ts) → per project with a key of one IAM user of this account, init's own
 * InitOptions with the user's permissions carried over (carry-over.ts) → the fleet runner (init's
 * planInit/executeInit per project: one plan, one confirmation, one apply). No second plan or apply:
 * the role, its trust (scoped exactly as init scopes it), its policies and the merge request are init's.
 *
 * AWS reads of its own: one paginated GetAccountAuthorizationDetails (Filter User, Group,
 * LocalManagedPolicy) for every user's inline, group and attached policies and boundary. Nothing is
 * retired here: the keys and their variables stay until `migrate --retire`.
 */
import type { AwsPorts } from '../aws/ports.js';
import type { RawInitFlags } from '../commands/init.js';
import { parseIssuerUrl } from '../core/issuer.js';
import { AbortError, UsageError } from '../errors.js';
import { type FleetDeps, type FleetResult, type MemberOutcome, runFleet } from '../fleet/run.js';
import type { GitlabPort } from '../gitlab/api/ports.js';
import { INIT_FLAG_ALIASES, type InitOptions, initOptionsSchema } from '../init/options.js';
import { resolveUnattendedInitOptions } from '../init/resolve.js';
import { requireYesOrDryRun } from '../init/run.js';
import { parseOptions } from '../options/zod-issues.js';
import { type Migration, planMigrations, userPermissionsOf } from './apply-plan.js';
import { carryOverPermissions, type RolePermissionInputs } from './carry-over.js';
import type { MigrateFindOptions } from './options.js';
import type { MigrateFindReport, ReportedKey } from './report.js';
import { type MigrateDeps, runMigrateFind } from './run.js';

export type MigrateApplyStatus = FleetResult['status'];

/** One project of the run: what find said, what the role gets, and init's outcome for it. */
export type AppliedProject = Migration & {
  /** The role's name and its tool-managed policy's (what the permissions are copied into). */
  roleName?: string | undefined;
  policyName?: string | undefined;
  carry?: RolePermissionInputs | undefined;
  /** Init's options for it, once built. */
  initOptions?: InitOptions | undefined;
  /** Why its init options could not be built (bad input for this project): nothing is done for it. */
  refused?: UsageError | undefined;
  /** Init's outcome in the fleet (absent for a project that was not migrated). */
  member?: MemberOutcome | undefined;
};

export interface MigrateApplyResult {
  gitlabUrl: string;
  account: string;
  dryRun: boolean;
  status: MigrateApplyStatus;
  projects: AppliedProject[];
  /** Every key found (masked), as the find report has them. */
  keys: ReportedKey[];
  skipped: MigrateFindReport['skipped'];
  incomplete: MigrateFindReport['incomplete'];
  fleet?: FleetResult | undefined;
  exitCode: 0 | 1 | 130;
}

export interface MigrateApplyDeps
  extends MigrateDeps,
    Pick<FleetDeps, 'logger' | 'interactive' | 'prompter' | 'resolveThumbprints' | 'signal' | 'retry'> {
  aws: () => Promise<AwsPorts>;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Progress bars per fleet phase (stderr). */
  progressBar?: FleetDeps['progress'];
  /** The plan, once every project is planned, before the one confirmation (human mode). */
  showPlan?: ((plan: MigrateApplyResult) => void) | undefined;
}

/** The label of the copied policy in init's plan and the merge request. */
const copiedLabel = (userName: string) =>
  `the inline policies of IAM user ${userName} and its groups, copied`;

/** What a single `init` of the project would be given, from migrate's flags. */
function initFlagsFor(path: string, options: MigrateFindOptions): RawInitFlags {
  return {
    project: path,
    gitlabUrl: options.gitlabUrl,
    ...(options.gitlabApiUrl ? { gitlabApiUrl: options.gitlabApiUrl } : {}),
    ...(options.gitlabTokenEnv ? { gitlabTokenEnv: options.gitlabTokenEnv } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.branch.length ? { branch: options.branch } : {}),
    ...(options.tag.length ? { tag: options.tag } : {}),
    mergeRequest: options.mergeRequest,
    ciVariables: options.ciVariables,
    yes: options.yes,
    dryRun: options.dryRun,
    json: options.json,
  };
}

function statusOf(projects: AppliedProject[], fleet: FleetResult | undefined, dryRun: boolean) {
  if (fleet && !projects.some((p) => p.refused)) return { status: fleet.status, exitCode: fleet.exitCode };
  if (fleet) {
    return {
      status: (fleet.status === 'interrupted' ? 'interrupted' : 'failed') as MigrateApplyStatus,
      exitCode: fleet.exitCode === 130 ? 130 : 1,
    } as const;
  }
  const refused = projects.some((p) => p.refused !== undefined);
  return {
    status: (refused ? 'failed' : dryRun ? 'planned' : 'no-changes') as MigrateApplyStatus,
    exitCode: (refused ? 1 : 0) as 0 | 1,
  };
}

export async function runMigrateApply(
  options: MigrateFindOptions,
  deps: MigrateApplyDeps,
): Promise<MigrateApplyResult> {
  // Before any call: applying without a terminal needs --yes (or --dry-run).
  requireYesOrDryRun(options, deps.interactive && !options.json);
  // One GitLab port for the find, each project's lookup and the fleet's reads and changes.
  let gitlabPort: Promise<GitlabPort> | undefined;
  const gitlab = () => {
    gitlabPort ??= deps.gitlab();
    return gitlabPort;
  };
  let awsPorts: Promise<AwsPorts> | undefined;
  const awsOnce = () => {
    awsPorts ??= deps.aws();
    return awsPorts;
  };
  const report = await runMigrateFind(options, { ...deps, gitlab, aws: awsOnce });
  const aws = await awsOnce();
  const identity = await aws.sts.getCallerIdentity();
  const migrations = planMigrations(report);
  const projects: AppliedProject[] = migrations.map((m) => ({ ...m }));
  const todo = projects.filter((p): p is AppliedProject & Extract<Migration, { status: 'migrate' }> => {
    return p.status === 'migrate';
  });

  if (todo.length) {
    deps.progress?.('Reading the IAM users, their groups and policies (iam:GetAccountAuthorizationDetails)…');
    const details = await aws.iam.getUserAuthorizationDetails();
    // The account's managed-policies-per-role quota (raisable): what a role can carry as attachments.
    const attachedPoliciesQuota = await aws.iam.getAccountSummary().then(
      (s) => s.attachedPoliciesPerRoleQuota || undefined,
      (error: unknown) => {
        if (error instanceof AbortError) throw error;
        deps.progress?.(
          "Could not read the account's quotas (iam:GetAccountSummary): assuming IAM's default of 10 managed policies per role.",
        );
        return undefined;
      },
    );
    for (const p of todo) {
      try {
        const resolved = await resolveUnattendedInitOptions(
          initFlagsFor(p.path, options),
          { cwd: deps.cwd, env: deps.env, gitlab: async () => gitlab() },
          'a project of migrate --apply',
        );
        const permissions = userPermissionsOf(details, p.userName);
        if (!permissions) {
          throw new UsageError(
            `IAM user ${p.userName} is not in the account's authorization details (deleted since its key was read?)`,
          );
        }
        const missing = permissions.groups.filter((g) => !details.groups.some((d) => d.name === g.name));
        for (const g of missing) {
          p.warnings.push(
            `group ${g.name} of ${p.userName} was not in the bulk read: its policies are not carried over`,
          );
        }
        const roleArn = `arn:${identity.partition}:iam::${identity.account}:role${resolved.rolePath}${resolved.roleName}`;
        const carry = carryOverPermissions(permissions, { roleArn, attachedPoliciesQuota });
        p.carry = carry;
        if (carry.notCarriedOver.length) {
          const n = carry.notCarriedOver.length;
          const warning = `${n} of the user's permissions ${n === 1 ? 'is' : 'are'} not carried over (see the plan): the role can do less than the key`;
          p.warnings.push(warning);
          deps.logger.warn(`${p.path}: ${warning.replace(': the role can do less than the key', '')}`);
        }
        p.roleName = resolved.roleName;
        p.policyName = resolved.policyName;
        const member = parseOptions(
          initOptionsSchema,
          {
            ...resolved,
            managedPolicies: carry.managedPolicyArns,
            permissionsBoundary: carry.permissionsBoundaryArn,
            policyDocument: carry.policyDocument
              ? { document: carry.policyDocument, label: copiedLabel(p.userName) }
              : undefined,
            replacesStaticKey: { userName: p.userName, variables: p.variables },
          } satisfies InitOptions,
          `init options for ${p.path}`,
          INIT_FLAG_ALIASES,
        );
        p.initOptions = member;
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        p.refused = error;
      }
    }
  }

  const ready = projects.filter((p) => p.initOptions !== undefined);
  const base = {
    gitlabUrl: parseIssuerUrl(options.gitlabUrl).url,
    account: identity.account,
    dryRun: options.dryRun,
    projects,
    keys: report.keys,
    skipped: report.skipped,
    incomplete: report.incomplete,
  };
  const snapshot = (fleet?: FleetResult): MigrateApplyResult => {
    if (fleet) {
      for (const m of fleet.members) {
        const p = projects.find((x) => x.initOptions === m.options);
        if (p) p.member = m;
      }
    }
    return { ...base, fleet, ...statusOf(projects, fleet, options.dryRun) };
  };
  if (ready.length === 0) {
    const result = snapshot();
    deps.showPlan?.(result);
    return result;
  }
  const fleet = await runFleet(
    ready.map((p) => p.initOptions as InitOptions),
    {
      logger: deps.logger,
      interactive: deps.interactive && !options.json,
      prompter: deps.prompter,
      signal: deps.signal,
      retry: deps.retry,
      aws: async () => aws,
      gitlab: async () => gitlab(),
      resolveThumbprints: deps.resolveThumbprints,
      concurrency: options.concurrency,
      progress: deps.progressBar,
      showFleetPlan: deps.showPlan ? (f) => deps.showPlan?.(snapshot(f)) : undefined,
    },
  );
  return snapshot(fleet);
}
