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
  isToolManaged,
  type ManagedPolicyState,
  PROJECT_TAG,
  type RoleState,
} from '../core/types.js';
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

export async function runStatus(options: StatusOptions, deps: StatusDeps): Promise<StatusReport> {
  const { iam, sts } = await deps.aws();
  const progress = deps.progress ?? (() => {});
  const identity = await sts.getCallerIdentity();
  const c = options.concurrency;

  progress('Reading OIDC providers and roles…');
  const { providers, roleSummaries, snapshot } = await readAccountSnapshot(iam, {
    concurrency: c,
    progress,
  });
  // The roles that could be the tool's (the same rule with or without the bulk read, so both give the
  // same report). From the bulk read when it was allowed; otherwise, or for a role created since it, GetRole.
  const candidates = roleSummaries.filter((r) => federatedArns(r).length > 0 || r.path === DEFAULT_ROLE_PATH);
  const readRole = async (r: RoleSummary) =>
    (snapshot && snapshotRole(snapshot, r.name)) ?? iam.getRole(r.name);
  const roles = (await mapWithConcurrency(candidates, c, readRole)).filter(
    (r): r is RoleState =>
      r !== undefined &&
      isToolManaged(r.tags) &&
      (options.project === undefined || sameProject(r.tags[PROJECT_TAG], options.project)) &&
      (options.gitlabUrl === undefined || sameGitlabUrl(r.tags[GITLAB_URL_TAG], options.gitlabUrl)),
  );

  const local = `:iam::${identity.account}:policy/`;
  const defaultPolicyArn = (project: string) =>
    policyArnFor(identity.partition, identity.account, DEFAULT_POLICY_PATH, defaultPolicyName(project));
  if (snapshot) {
    // The bulk read carries every customer policy's document and versions but no tags, and only the tags
    // say whether the tool made it: one GetPolicy for each attached or default-named one that exists.
    const arns = roles.flatMap((r) => [
      ...r.attachedPolicyArns.filter((arn) => arn.includes(local)),
      ...(r.tags[PROJECT_TAG] ? [defaultPolicyArn(r.tags[PROJECT_TAG])] : []),
    ]);
    await readPolicyTags(iam, snapshot, arns, c);
  }
  const getPolicy = memoizeAsync(async (arn: string) =>
    snapshot ? snapshotPolicy(snapshot, arn) : iam.getPolicy(arn),
  );
  const statusRoles = await mapWithConcurrency(roles, c, async (role): Promise<StatusRole> => {
    const project = role.tags[PROJECT_TAG];
    const isToolPolicy = (p: ManagedPolicyState | undefined): p is ManagedPolicyState =>
      p !== undefined && isToolPolicyFor(p.tags, role.tags);
    const attached = await Promise.all(
      role.attachedPolicyArns.map(async (arn) => ({
        arn,
        policy: arn.includes(local) ? await getPolicy(arn) : undefined,
      })),
    );
    let detached: ManagedPolicyState[] = [];
    if (project) {
      const arn = defaultPolicyArn(project);
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
  });
  statusRoles.sort(
    (a, b) => (a.project ?? '').localeCompare(b.project ?? '') || a.name.localeCompare(b.name),
  );

  const shown = providers
    .filter((p) => isToolManaged(p.tags) || statusRoles.some((r) => r.trust.providerArns.includes(p.arn)))
    .filter((p) => {
      const trusted = statusRoles.some((r) => r.trust.providerArns.includes(p.arn));
      if (options.project !== undefined && !trusted) return false;
      // The instance's own provider, or one its roles trust.
      return options.gitlabUrl === undefined || trusted || sameGitlabUrl(p.url, options.gitlabUrl);
    })
    .map(
      (p): StatusProvider => ({
        arn: p.arn,
        url: p.url,
        clientIds: p.clientIds,
        managedByTool: isToolManaged(p.tags),
        gitlabUrl: p.tags[GITLAB_URL_TAG],
        trustedBy: statusRoles.filter((r) => r.trust.providerArns.includes(p.arn)).map((r) => r.name),
      }),
    )
    .sort((a, b) => a.url.localeCompare(b.url));

  return {
    ok: true,
    command: 'status',
    account: identity.account,
    partition: identity.partition,
    project: options.project,
    ...(options.gitlabUrl !== undefined ? { gitlabUrl: options.gitlabUrl } : {}),
    providers: shown,
    roles: statusRoles,
    summary: {
      roles: statusRoles.length,
      drifted: statusRoles.filter((r) => r.drift.length > 0).length,
      unrecorded: statusRoles.filter((r) => r.record === 'none').length,
      withFindings: statusRoles.filter((r) => r.findings.length > 0).length,
    },
  };
}
