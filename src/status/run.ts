/**
 * `status`: what gitlab-aws-oidc manages in this account (found by its managed-by tag): providers,
 * roles, their policies, which project and refs each role trusts, and drift from what `init` would
 * write. Reads only.
 *
 * Reads the account in bulk (aws/account-snapshot): ListRoles and GetAccountAuthorizationDetails, 100 a
 * page, the providers one by one (a handful), and a GetPolicy for the tags of each customer policy a
 * tool role holds or its project's default-named one (the bulk read carries no policy tags). When the
 * bulk read is refused it says so on stderr and reads each candidate role with GetRole and each
 * policy with GetPolicy/GetPolicyVersion/ListPolicyVersions, as before; the report is the same.
 */

import {
  type AccountSnapshot,
  readAccountSnapshot,
  readPolicyTags,
  snapshotPolicy,
  snapshotRole,
} from '../aws/account-snapshot.js';
import type { AwsPorts, RoleSummary } from '../aws/ports.js';
import { mapWithConcurrency, memoizeAsync } from '../core/concurrency.js';
import type { Finding } from '../core/lint.js';
import { DEFAULT_POLICY_PATH, DEFAULT_ROLE_PATH, defaultPolicyName, policyArnFor } from '../core/naming.js';
import { federatedArns, isToolPolicyFor, sameGitlabUrl, sameProject } from '../core/tool-resources.js';
import {
  GITLAB_URL_TAG,
  type Identity,
  isToolManaged,
  type ManagedPolicyState,
  type OidcProviderState,
  PROJECT_TAG,
  type RoleState,
} from '../core/types.js';
import { packedRoleProjects } from '../destroy/packed.js';
import {
  type DriftItem,
  detectDrift,
  notSaidByRecord,
  statusFindings,
  summarizeTrust,
  type TrustSummary,
} from './drift.js';
import type { StatusOptions } from './options.js';
import { type AttachmentOrigin, compareWithRecord, type FieldStatus, type RecordState } from './record.js';

export interface StatusDeps {
  aws: () => Promise<AwsPorts> | AwsPorts;
  progress?: ((message: string) => void) | undefined;
}

export interface StatusProvider {
  arn: string;
  url: string;
  clientIds: string[];
  /** Created by the tool (tagged); the tool never deletes or tags a provider it did not create. */
  managedByTool: boolean;
  gitlabUrl?: string | undefined;
  /** Tool-managed roles that trust it. */
  trustedBy: string[];
}

export interface StatusPolicy {
  arn: string;
  name: string;
  /** Created by the tool for this role's project. */
  toolManaged: boolean;
  /** Who attached it, per the role's record (`unknown` without one). */
  origin: AttachmentOrigin;
}

export interface StatusRole {
  name: string;
  arn: string;
  project?: string | undefined;
  gitlabUrl?: string | undefined;
  trust: TrustSummary;
  policies: StatusPolicy[];
  maxSessionDuration: number;
  permissionsBoundaryArn?: string | undefined;
  /** How much of the record of what the tool last wrote the role carries (`none`: an older version made it). */
  record: RecordState;
  /** Per field: as written / drifted (changed outside the tool) / unknown, with the values known. */
  fields: FieldStatus[];
  /** Everything that changed outside the tool or differs from what init writes, in words. */
  drift: DriftItem[];
  /** High and critical lint findings (run `audit --role` for all). */
  findings: Finding[];
}

export interface StatusReport {
  ok: true;
  command: 'status';
  account: string;
  partition: string;
  project?: string | undefined;
  /** --gitlab-url, normalised. */
  gitlabUrl?: string | undefined;
  providers: StatusProvider[];
  roles: StatusRole[];
  summary: { roles: number; drifted: number; unrecorded: number; withFindings: number };
}

/** The account as status reads it: identity, providers, every tool-managed role, and the bulk read. */
export interface StatusAccount {
  iam: AwsPorts['iam'];
  identity: Identity;
  providers: OidcProviderState[];
  /** The tool-managed roles (managed-by tag) of the account. */
  roles: RoleState[];
  snapshot: AccountSnapshot | undefined;
  concurrency: number;
}

/**
 * Reads the account once: the identity, the providers, ListRoles and the bulk read, and the tool's roles
 * among the candidates (from the bulk read when it was allowed; otherwise, or for a role created since
 * it, GetRole). `keep` narrows the tool's roles (a project, an instance) before anything else is read.
 */
export async function readStatusAccount(
  ports: AwsPorts,
  {
    concurrency,
    progress,
    keep = () => true,
  }: {
    concurrency: number;
    progress: (message: string) => void;
    keep?: ((role: RoleState) => boolean) | undefined;
  },
): Promise<StatusAccount> {
  const { iam, sts } = ports;
  const identity = await sts.getCallerIdentity();
  progress('Reading OIDC providers and roles…');
  const { providers, roleSummaries, snapshot } = await readAccountSnapshot(iam, { concurrency, progress });
  // The roles that could be the tool's (the same rule with or without the bulk read, so both give the
  // same report).
  const candidates = roleSummaries.filter((r) => federatedArns(r).length > 0 || r.path === DEFAULT_ROLE_PATH);
  const readRole = async (r: RoleSummary) =>
    (snapshot && snapshotRole(snapshot, r.name)) ?? iam.getRole(r.name);
  const roles = (await mapWithConcurrency(candidates, concurrency, readRole)).filter(
    (r): r is RoleState => r !== undefined && isToolManaged(r.tags) && keep(r),
  );
  return { iam, identity, providers, roles, snapshot, concurrency };
}

/** The ARN of the tool's default-named permission policy of a project in this account. */
export function defaultPolicyArnOf(account: Pick<StatusAccount, 'identity'>, project: string): string {
  const { partition, account: id } = account.identity;
  return policyArnFor(partition, id, DEFAULT_POLICY_PATH, defaultPolicyName(project));
}

const isLocalPolicy = (account: StatusAccount, arn: string) =>
  arn.includes(`:iam::${account.identity.account}:policy/`);

export type PolicyReader = (arn: string) => Promise<ManagedPolicyState | undefined>;

/**
 * The customer policies `roles` hold or their projects' default-named ones (and `alsoArns`), as
 * `getPolicy` gives them. With the bulk read, which carries every customer policy's document and
 * versions but no tags (only the tags say whether the tool made it), one GetPolicy first for the tags of
 * each of them that exists; without it, GetPolicy/GetPolicyVersion/ListPolicyVersions when asked.
 */
export async function readStatusPolicies(
  account: StatusAccount,
  roles: readonly RoleState[],
  alsoArns: readonly string[] = [],
): Promise<PolicyReader> {
  const { iam, snapshot } = account;
  if (snapshot) {
    const arns = roles.flatMap((r) => [
      ...r.attachedPolicyArns.filter((arn) => isLocalPolicy(account, arn)),
      ...(r.tags[PROJECT_TAG] ? [defaultPolicyArnOf(account, r.tags[PROJECT_TAG])] : []),
    ]);
    await readPolicyTags(iam, snapshot, [...arns, ...alsoArns], account.concurrency);
  }
  return memoizeAsync(async (arn: string) => (snapshot ? snapshotPolicy(snapshot, arn) : iam.getPolicy(arn)));
}

/** One tool role against its record and what init would write (the policies read by `readStatusPolicies`). */
export async function describeStatusRole(
  account: StatusAccount,
  role: RoleState,
  getPolicy: PolicyReader,
): Promise<StatusRole> {
  const { providers } = account;
  const project = role.tags[PROJECT_TAG];
  const isToolPolicy = (p: ManagedPolicyState | undefined): p is ManagedPolicyState =>
    p !== undefined && isToolPolicyFor(p.tags, role.tags);
  const attached = await Promise.all(
    role.attachedPolicyArns.map(async (arn) => ({
      arn,
      policy: isLocalPolicy(account, arn) ? await getPolicy(arn) : undefined,
    })),
  );
  let detached: ManagedPolicyState[] = [];
  if (project) {
    const arn = defaultPolicyArnOf(account, project);
    const p = role.attachedPolicyArns.includes(arn) ? undefined : await getPolicy(arn);
    if (isToolPolicy(p)) detached = [p];
  }
  const toolPolicies = [...attached.map((a) => a.policy).filter(isToolPolicy), ...detached];
  const trust = summarizeTrust(role.trustPolicy);
  const provider = providers.find((p) => p.arn === trust.providerArns[0]);
  const recorded = compareWithRecord({ role, provider, project, toolPolicies });
  const attachments = recorded.fields.find((f) => f.field === 'managedPolicyArns')?.attachments ?? [];
  const missing = new Set(attachments.filter((a) => a.origin === 'missing').map((a) => a.arn));
  const trustWritten = recorded.fields.find((f) => f.field === 'trustPolicy')?.lastWritten !== undefined;
  const structural = notSaidByRecord(detectDrift({ role, providers, detachedToolPolicies: detached }), {
    missingPolicyArns: missing,
    trustWritten,
  });
  return {
    name: role.name,
    arn: role.arn,
    project,
    gitlabUrl: role.tags[GITLAB_URL_TAG],
    trust,
    policies: attached.map(
      ({ arn, policy }): StatusPolicy => ({
        arn,
        name: policy?.name ?? arn.split('/').pop() ?? arn,
        toolManaged: isToolPolicy(policy),
        origin: attachments.find((a) => a.arn === arn)?.origin ?? 'unknown',
      }),
    ),
    maxSessionDuration: role.maxSessionDuration,
    permissionsBoundaryArn: role.permissionsBoundaryArn,
    record: recorded.record,
    fields: recorded.fields,
    drift: [...recorded.drift, ...structural],
    findings: statusFindings(role, providers),
  };
}

/** Each role's status, sorted by project then name. */
export async function describeStatusRoles(
  account: StatusAccount,
  roles: readonly RoleState[],
  getPolicy: PolicyReader,
): Promise<StatusRole[]> {
  const described = await mapWithConcurrency([...roles], account.concurrency, (role) =>
    describeStatusRole(account, role, getPolicy),
  );
  return described.sort(
    (a, b) => (a.project ?? '').localeCompare(b.project ?? '') || a.name.localeCompare(b.name),
  );
}

/**
 * The providers worth showing: those the shown roles trust, and the tool's own ones that `show` keeps
 * (`show` is asked only about providers no shown role trusts).
 */
export function statusProviders(
  providers: readonly OidcProviderState[],
  roles: readonly StatusRole[],
  show: (provider: OidcProviderState) => boolean,
): StatusProvider[] {
  const trustedBy = (p: OidcProviderState) =>
    roles.filter((r) => r.trust.providerArns.includes(p.arn)).map((r) => r.name);
  return providers
    .filter((p) => trustedBy(p).length > 0 || (isToolManaged(p.tags) && show(p)))
    .map(
      (p): StatusProvider => ({
        arn: p.arn,
        url: p.url,
        clientIds: p.clientIds,
        managedByTool: isToolManaged(p.tags),
        gitlabUrl: p.tags[GITLAB_URL_TAG],
        trustedBy: trustedBy(p),
      }),
    )
    .sort((a, b) => a.url.localeCompare(b.url));
}

/** The role counts of a report's summary. */
export function summarizeRoles(roles: readonly StatusRole[]): StatusReport['summary'] {
  return {
    roles: roles.length,
    drifted: roles.filter((r) => r.drift.length > 0).length,
    unrecorded: roles.filter((r) => r.record === 'none').length,
    withFindings: roles.filter((r) => r.findings.length > 0).length,
  };
}

export async function runStatus(options: StatusOptions, deps: StatusDeps): Promise<StatusReport> {
  const progress = deps.progress ?? (() => {});
  const account = await readStatusAccount(await deps.aws(), {
    concurrency: options.concurrency,
    progress,
    keep: (r) =>
      (options.project === undefined ||
        sameProject(r.tags[PROJECT_TAG], options.project) ||
        // A per-group role serves its trust's projects (destroy/packed.ts).
        packedRoleProjects(r).some((p) => sameProject(p, options.project))) &&
      (options.gitlabUrl === undefined || sameGitlabUrl(r.tags[GITLAB_URL_TAG], options.gitlabUrl)),
  });
  const getPolicy = await readStatusPolicies(account, account.roles);
  const statusRoles = await describeStatusRoles(account, account.roles, getPolicy);
  // With --project, only the providers its roles trust; with --gitlab-url, the instance's own too.
  const shown = statusProviders(
    account.providers,
    statusRoles,
    (p) =>
      options.project === undefined &&
      (options.gitlabUrl === undefined || sameGitlabUrl(p.url, options.gitlabUrl)),
  );

  return {
    ok: true,
    command: 'status',
    account: account.identity.account,
    partition: account.identity.partition,
    project: options.project,
    ...(options.gitlabUrl !== undefined ? { gitlabUrl: options.gitlabUrl } : {}),
    providers: shown,
    roles: statusRoles,
    summary: summarizeRoles(statusRoles),
  };
}
