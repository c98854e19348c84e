/**
 * `status --group/--config`: for every selected project, what a single `status --project` says of it
 * (drift against the record with values, no record, in sync, missing pieces, attachments by or outside
 * the tool), from the one account read single status makes: the identity, ListRoles, the paginated
 * bulk read and the providers, then one GetPolicy for the tags of each customer policy the selected
 * projects' roles hold (or their default-named one, when it exists). Nothing per project or per role.
 *
 * A role is a project's when it is the tool's and is tagged for the project or its trust policy admits
 * it (`projectsTrustedBy`, as `audit --group` matches roles): a role serving several projects is shown
 * under each of them. The projects are those of the selection's GitLab instance (`--gitlab-url` or the
 * config file's `gitlabUrl`, gitlab.com otherwise, as `init` takes it): a role tagged for another
 * instance is another project's. Each project gets one state, the first that applies:
 *   not-set-up  no role of the tool (its tool policy does not exist either): not onboarded, not an error;
 *   missing     a piece is gone: the role (its tool policy is still there), the provider its role
 *               trusts, or a tool policy the tool attached (detached, or deleted);
 *   drift       something changed outside the tool or differs from what init writes;
 *   no-record   its role carries no (full) record of what the tool wrote, so drift cannot be told;
 *   in-sync     as the tool wrote it.
 * Read-only: exit 0 whatever the states (as single status).
 */

import { mapWithConcurrency } from '../core/concurrency.js';
import { isToolPolicyFor, sameGitlabUrl } from '../core/tool-resources.js';
import { GITLAB_URL_TAG, PROJECT_TAG, type RoleState } from '../core/types.js';
import type { FleetProject, FleetTargets } from '../fleet/command-selection.js';
import { projectsTrustedBy } from '../fleet/trust-match.js';
import { GITLAB_COM } from '../init/resolve.js';
import type { StatusOptions } from './options.js';
import { unrecordedFields } from './record.js';
import {
  defaultPolicyArnOf,
  describeStatusRoles,
  readStatusAccount,
  readStatusPolicies,
  type StatusDeps,
  type StatusProvider,
  type StatusReport,
  type StatusRole,
  statusProviders,
  summarizeRoles,
} from './run.js';

export type ProjectState = 'not-set-up' | 'missing' | 'drift' | 'no-record' | 'in-sync';

export interface MissingPiece {
  /** role: the project's tool policy exists without its role; attachment: a tool policy is not attached. */
  kind: 'role' | 'provider' | 'policy' | 'attachment';
  /** The role concerned (absent for a missing role). */
  role?: string | undefined;
  /** The missing provider or policy, or the existing tool policy of a missing role. */
  arn?: string | undefined;
  message: string;
}

export interface FleetStatusProject {
  project: string;
  projectId?: number | undefined;
  state: ProjectState;
  /** Names of the tool's roles serving the project (details under `roles` of the report). */
  roles: string[];
  missing: MissingPiece[];
  /** Drift items over its roles. */
  drift: number;
  /** High and critical lint findings over its roles. */
  findings: number;
  /** One line each: what needs a look, missing pieces first (empty when in sync or not set up). */
  reasons: string[];
}

export interface FleetStatusReport {
  ok: true;
  command: 'status';
  fleet: true;
  account: string;
  partition: string;
  selection: Omit<FleetTargets, 'projects'> & { projects: number };
  counts: {
    projects: number;
    inSync: number;
    drift: number;
    missing: number;
    noRecord: number;
    notSetUp: number;
    skipped: number;
    withFindings: number;
  };
  /** The projects that need a look (missing, drift, no record, findings), in that order. */
  attention: { project: string; state: ProjectState; reasons: string[] }[];
  projects: FleetStatusProject[];
  /** The providers the shown roles trust, and the tool's own of the selection's instance. */
  providers: StatusProvider[];
  /** Every role shown, once (as single status reports it). */
  roles: StatusRole[];
  /** The role counts, as single status gives them. */
  summary: StatusReport['summary'];
}

const ORDER: ProjectState[] = ['missing', 'drift', 'no-record', 'in-sync', 'not-set-up'];

/** What is gone from a role: the provider it trusts, a tool policy the tool attached. */
function missingPieces(role: StatusRole, providerArns: ReadonlySet<string>): MissingPiece[] {
  const pieces: MissingPiece[] = [];
  for (const arn of role.trust.providerArns) {
    if (!providerArns.has(arn))
      pieces.push({
        kind: 'provider',
        role: role.name,
        arn,
        message: `role ${role.name} trusts the OIDC provider ${arn}, which no longer exists`,
      });
  }
  const attachments = role.fields.find((f) => f.field === 'managedPolicyArns');
  const detached = new Set<string>();
  for (const a of attachments?.attachments ?? []) if (a.origin === 'missing') detached.add(a.arn);
  for (const d of role.drift) if (d.what === 'policy' && d.policyArn) detached.add(d.policyArn);
  for (const arn of detached)
    pieces.push({
      kind: 'attachment',
      role: role.name,
      arn,
      message: `the tool policy ${arn} is not attached to role ${role.name}`,
    });
  const gone = attachments?.missingUnnamed ?? 0;
  if (gone)
    pieces.push({
      kind: 'policy',
      role: role.name,
      message: `${gone} polic${gone === 1 ? 'y' : 'ies'} the tool attached to role ${role.name} ${gone === 1 ? 'is' : 'are'} gone`,
    });
  return pieces;
}

function reasonsOf(roles: StatusRole[], missing: MissingPiece[]): string[] {
  const said = new Set(missing.flatMap((m) => (m.arn ? [m.arn] : [])));
  const reasons = missing.map((m) => m.message);
  for (const r of roles) {
    for (const d of r.drift) {
      // A missing piece is said once, as missing; attachments one by one.
      if (d.what === 'policy' && d.policyArn && said.has(d.policyArn)) continue;
      if (d.what === 'provider' && [...said].some((arn) => d.message.includes(arn))) continue;
      if (d.what === 'attachment') {
        const field = r.fields.find((f) => f.field === 'managedPolicyArns');
        for (const a of field?.attachments ?? [])
          if (a.origin === 'outside') reasons.push(`role ${r.name}: ${a.arn} attached outside the tool`);
        continue;
      }
      reasons.push(`role ${r.name}: ${d.message.replace(/:$/, '')}`);
    }
    if (r.record === 'none') reasons.push(`role ${r.name}: no record of what gitlab-aws-oidc wrote to it`);
    else if (r.record === 'partial')
      reasons.push(
        `role ${r.name}: no record of what gitlab-aws-oidc wrote for: ${unrecordedFields(r.fields).join(', ')}`,
      );
    if (r.findings.length)
      reasons.push(
        `role ${r.name}: ${r.findings.length} high/critical finding${r.findings.length === 1 ? '' : 's'} (${[...new Set(r.findings.map((f) => f.ruleId))].join(', ')})`,
      );
  }
  return reasons;
}

function stateOf(roles: StatusRole[], missing: MissingPiece[]): ProjectState {
  if (missing.length) return 'missing';
  if (roles.length === 0) return 'not-set-up';
  if (roles.some((r) => r.drift.length > 0)) return 'drift';
  if (roles.some((r) => r.record !== 'complete')) return 'no-record';
  return 'in-sync';
}

export async function runStatusFleet(
  options: StatusOptions,
  targets: FleetTargets,
  deps: StatusDeps,
): Promise<FleetStatusReport> {
  const progress = deps.progress ?? (() => {});
  // The selection's projects live on one instance: the one it was listed on (gitlab.com unless said).
  const gitlabUrl = targets.gitlabUrl ?? options.gitlabUrl ?? GITLAB_COM;
  // Every tool role; `projectsTrustedBy` keeps those of the selection's instance (an untagged one too).
  const account = await readStatusAccount(await deps.aws(), { concurrency: options.concurrency, progress });

  // Which selected projects each tool role serves (its tag, or a sub its trust policy admits).
  const served = new Map<string, FleetProject[]>();
  for (const role of account.roles) {
    const projects = projectsTrustedBy(role, targets.projects, gitlabUrl);
    if (projects.length) served.set(role.name, projects);
  }
  const selectedRoles: RoleState[] = account.roles.filter((r) => served.has(r.name));
  const rolesOf = new Map<string, RoleState[]>();
  for (const role of selectedRoles)
    for (const p of served.get(role.name) ?? [])
      rolesOf.set(p.project, [...(rolesOf.get(p.project) ?? []), role]);
  // A project without a role: is its tool policy there (a role deleted outside the tool)?
  const roleless = targets.projects.filter((p) => !rolesOf.has(p.project));
  progress(
    `Comparing ${selectedRoles.length} role${selectedRoles.length === 1 ? '' : 's'} of ${targets.projects.length} selected projects…`,
  );
  const getPolicy = await readStatusPolicies(
    account,
    selectedRoles,
    roleless.map((p) => defaultPolicyArnOf(account, p.project)),
  );
  const statusRoles = await describeStatusRoles(account, selectedRoles, getPolicy);
  const byName = new Map(statusRoles.map((r) => [r.name, r]));
  const providerArns = new Set(account.providers.map((p) => p.arn));

  const projects = await mapWithConcurrency(
    targets.projects,
    account.concurrency,
    async (p): Promise<FleetStatusProject> => {
      const roles = (rolesOf.get(p.project) ?? []).flatMap((r) => byName.get(r.name) ?? []);
      const missing = roles.flatMap((r) => missingPieces(r, providerArns));
      if (roles.length === 0) {
        const arn = defaultPolicyArnOf(account, p.project);
        const policy = await getPolicy(arn);
        const owner = { [PROJECT_TAG]: p.project, [GITLAB_URL_TAG]: gitlabUrl };
        if (policy && isToolPolicyFor(policy.tags, owner))
          missing.push({
            kind: 'role',
            arn,
            message: `no role of the tool, but its tool policy ${policy.name} exists (the role was deleted outside the tool?)`,
          });
      }
      return {
        project: p.project,
        ...(p.projectId !== undefined ? { projectId: p.projectId } : {}),
        state: stateOf(roles, missing),
        roles: roles.map((r) => r.name),
        missing,
        drift: roles.reduce((n, r) => n + r.drift.length, 0),
        findings: roles.reduce((n, r) => n + r.findings.length, 0),
        reasons: reasonsOf(roles, missing),
      };
    },
  );

  const count = (s: ProjectState) => projects.filter((p) => p.state === s).length;
  const attention = projects
    .filter((p) => p.state === 'missing' || p.state === 'drift' || p.state === 'no-record' || p.findings > 0)
    .sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state))
    .map((p) => ({ project: p.project, state: p.state, reasons: p.reasons }));
  const { projects: _listed, ...selection } = targets;
  return {
    ok: true,
    command: 'status',
    fleet: true,
    account: account.identity.account,
    partition: account.identity.partition,
    selection: { ...selection, projects: targets.projects.length },
    counts: {
      projects: projects.length,
      inSync: count('in-sync'),
      drift: count('drift'),
      missing: count('missing'),
      noRecord: count('no-record'),
      notSetUp: count('not-set-up'),
      skipped: targets.skipped.length,
      withFindings: projects.filter((p) => p.findings > 0).length,
    },
    attention,
    projects,
    providers: statusProviders(account.providers, statusRoles, (p) => sameGitlabUrl(p.url, gitlabUrl)),
    roles: statusRoles,
    summary: summarizeRoles(statusRoles),
  };
}
