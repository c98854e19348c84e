/**
 * The fleet's plan summary, result summary and --json document (pure: fleet result → lines / object).
 * A fleet of one is printed by init's own format.ts instead (exactly what a single `init` prints).
 */
import type { PlanAction, ResourceKind } from '../core/types.js';
import type { GitlabStepKind } from '../gitlab/api/steps.js';
import type { Palette } from '../io/colors.js';
import { TOOL_NAME } from '../version.js';
import { errorDocument, errorLine, type FleetResult, type MemberOutcome } from './run.js';

export type CountedKind = ResourceKind | 'pipeline';
export type FleetCounts = Record<CountedKind, Record<PlanAction, number>>;

const KINDS: CountedKind[] = ['oidc-provider', 'role', 'policy', 'pipeline'];
const KIND_LABEL: Record<CountedKind, string> = {
  'oidc-provider': 'OIDC provider',
  role: 'IAM role',
  policy: 'IAM policy',
  pipeline: 'pipeline',
};
const ACTIONS: PlanAction[] = ['create', 'update', 'delete', 'no-op'];
const ACTION_LABEL: Record<PlanAction, string> = {
  create: 'to create',
  update: 'to update',
  delete: 'to delete',
  'no-op': 'no change',
};

/** Resources per kind and action over every planned member; a resource several plans share (the provider) counts once. */
export function countFleet(fleet: Pick<FleetResult, 'members'>): FleetCounts {
  const counts = Object.fromEntries(
    KINDS.map((k) => [k, { create: 0, update: 0, delete: 0, 'no-op': 0 }]),
  ) as FleetCounts;
  const seen = new Set<string>();
  for (const m of fleet.members) {
    const result = m.result;
    if (!result) continue;
    for (const r of result.plan.resources) {
      const key = `${r.kind}\n${r.arn}\n${r.action}`;
      if (seen.has(key)) continue;
      seen.add(key);
      counts[r.kind][r.action] += 1;
    }
    if (result.ciFile) counts.pipeline[result.ciFile.action] += 1;
  }
  return counts;
}

/** GitLab steps in the order the summary names them, each with its singular and plural label. */
const GITLAB_STEPS: [GitlabStepKind, string, string][] = [
  ['createMergeRequest', 'merge request to open', 'merge requests to open'],
  ['updateMergeRequest', 'merge request to update', 'merge requests to update'],
  ['commit', 'commit', 'commits'],
  ['createVariable', 'CI/CD variable to create', 'CI/CD variables to create'],
  ['updateVariable', 'CI/CD variable to update', 'CI/CD variables to update'],
  ['protectBranch', 'branch to protect', 'branches to protect'],
  ['protectTag', 'tag to protect', 'tags to protect'],
  ['setSubClaim', 'sub claim to set', 'sub claims to set'],
];

/** GitLab steps per kind over every member's plan (what is left to apply: each is one mutating call). */
export function countGitlabSteps(
  fleet: Pick<FleetResult, 'members'>,
): Partial<Record<GitlabStepKind, number>> {
  const counts: Partial<Record<GitlabStepKind, number>> = {};
  for (const m of fleet.members) {
    for (const step of m.result?.gitlabSteps ?? []) counts[step.kind] = (counts[step.kind] ?? 0) + 1;
  }
  return counts;
}

function gitlabLine(fleet: Pick<FleetResult, 'members'>): string | undefined {
  const counts = countGitlabSteps(fleet);
  const parts = GITLAB_STEPS.filter(([k]) => counts[k]).map(
    ([k, one, many]) => `${counts[k]} ${counts[k] === 1 ? one : many}`,
  );
  return parts.length ? `  ${'GitLab'.padEnd(13)}  ${parts.join(', ')}` : undefined;
}

/** Members that need a look before applying: refused first, then those whose plan needs a consent. */
export function needsAttention(fleet: Pick<FleetResult, 'members'>): MemberOutcome[] {
  return [
    ...fleet.members.filter((m) => m.status === 'refused'),
    ...fleet.members.filter((m) => m.status !== 'refused' && m.consents.length > 0),
  ];
}

/** Merge requests listed in the result by name; the rest are counted (all of them in --json). */
export const MAX_LISTED_MRS = 20;

const FAILED = new Set(['refused', 'failed', 'interrupted', 'not-started']);

export function formatFleetPlan(fleet: FleetResult, p: Palette): string[] {
  const first = fleet.members.find((m) => m.result)?.result;
  const where = first ? ` in AWS account ${first.identity.account}` : '';
  const lines = [p.strong(`Plan for ${fleet.members.length} projects${where}`), ''];
  const counts = countFleet(fleet);
  for (const kind of KINDS) {
    const c = counts[kind];
    const parts = ACTIONS.filter((a) => c[a] > 0).map((a) => `${c[a]} ${ACTION_LABEL[a]}`);
    if (parts.length) lines.push(`  ${KIND_LABEL[kind].padEnd(13)}  ${parts.join(', ')}`);
  }
  const gitlab = gitlabLine(fleet);
  if (gitlab) lines.push(gitlab);
  else if (!fleet.members.some((m) => m.options.mergeRequest || m.options.ciVariables)) {
    lines.push(
      `  ${'GitLab'.padEnd(13)}  ${p.muted('nothing delivered: --merge-request / --ci-variables (or delivery: in the config file) bring the pipeline change to each project')}`,
    );
  }
  lines.push(...formatPacks(fleet, p));
  const quotas = fleet.quotas;
  if (quotas?.refusals.length) {
    lines.push('', p.danger(`Over IAM quota (${quotas.refusals.length}): nothing will be changed`));
    for (const r of quotas.refusals) lines.push(`  ${p.danger('✗')} ${r.message}`, `      ${r.hint}`);
  }
  for (const w of quotas?.warnings ?? []) lines.push(`  ${p.warn('!')} ${w}`);
  const attention = needsAttention(fleet);
  if (attention.length) {
    lines.push('', p.danger(`Need attention (${attention.length}):`));
    for (const m of attention) {
      if (m.status === 'refused')
        lines.push(`  ${p.danger('✗')} ${m.project}: refused: ${errorLine(m.error)}`);
      else for (const c of m.consents) lines.push(`  ${p.warn('!')} ${c.message}`);
    }
  }
  return lines;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** `role: per-group`: each packed role with its size, then the moves and the roles left empty. */
export function formatPacks(fleet: Pick<FleetResult, 'packs'>, p: Palette): string[] {
  const lines: string[] = [];
  for (const pack of fleet.packs ?? []) {
    lines.push(
      '',
      p.strong(
        `Per-group roles ${pack.base}-<n> (group ${pack.group}, trust policy quota ${fmt(pack.quota)}):`,
      ),
    );
    const width = Math.max(...pack.roles.map((r) => r.roleName.length));
    for (const r of pack.roles) {
      const kept = r.kept.length ? `, ${r.kept.length} not selected (kept)` : '';
      const added = r.added.length ? ` + ${r.added.join(', ')}` : '';
      lines.push(
        `  ${r.roleName.padEnd(width)}  ${r.projects.length} project${r.projects.length === 1 ? '' : 's'}${kept}, ${fmt(r.size)} characters${added}`,
      );
    }
    for (const m of pack.moves)
      lines.push(`  ${p.warn('→')} ${m.project} moves from ${m.from} to ${m.to} (${m.reason})`);
    for (const name of pack.emptied)
      lines.push(
        `  ${p.warn('!')} ${name} serves no project now: left as it is (destroy --role ${name} deletes it)`,
      );
    for (const name of pack.untouched)
      lines.push(`  ${p.muted('·')} ${name} serves only projects not selected: left as it is`);
  }
  return lines;
}

export function formatFleetResult(fleet: FleetResult, p: Palette): string[] {
  const n = (s: string) => fleet.members.filter((m) => m.status === s).length;
  const total = fleet.members.length;
  const tally = ['applied', 'no-changes', 'planned', 'refused', 'failed', 'interrupted', 'not-started']
    .filter((s) => n(s) > 0)
    .map((s) => `${n(s)} ${s}`)
    .join(', ');
  const head =
    fleet.status === 'interrupted'
      ? p.danger(`Interrupted: ${tally} (of ${total} projects).`)
      : fleet.status === 'failed'
        ? p.danger(`Done with failures: ${tally} (of ${total} projects).`)
        : fleet.status === 'planned'
          ? p.strong(`Dry run: nothing was changed (${tally}).`)
          : fleet.status === 'no-changes'
            ? p.good(`No changes: all ${total} projects already match.`)
            : p.good(`Done: ${tally} (of ${total} projects).`);
  const over = fleet.dryRun ? [] : (fleet.quotas?.refusals ?? []);
  const lines = over.length
    ? [p.danger(`Refused: the plan exceeds ${over.length} IAM quota(s); nothing was changed (${tally}).`)]
    : [head];
  for (const r of over) lines.push(`  ${p.danger('✗')} ${r.message}`, `      ${r.hint}`);
  const review = fleet.members.filter((m) => m.status === 'applied' && m.result?.mergeRequest?.url);
  if (review.length) {
    lines.push('', p.strong(`Merge requests to review (${review.length}):`));
    for (const m of review.slice(0, MAX_LISTED_MRS))
      lines.push(`  ${m.project}  !${m.result?.mergeRequest?.iid} ${m.result?.mergeRequest?.url}`);
    if (review.length > MAX_LISTED_MRS)
      lines.push(
        `  … and ${review.length - MAX_LISTED_MRS} more (every one in --json: members[].result.mergeRequest)`,
      );
  }
  const failed = fleet.members.filter((m) => FAILED.has(m.status));
  if (failed.length) {
    lines.push('', p.strong('Not done:'));
    for (const m of failed) {
      lines.push(`  ${p.danger('✗')} ${m.project} (${m.status}): ${errorLine(m.error ?? 'not started')}`);
      lines.push(
        `      resume: ${m.resume ?? `re-run the same ${TOOL_NAME} command (done projects show no changes)`}`,
      );
    }
  }
  return lines;
}

/** The one --json document of a fleet run: counts, attention first, every member with its init result. */
export function fleetDocument(fleet: FleetResult): Record<string, unknown> {
  return {
    ok: fleet.exitCode === 0,
    command: 'init',
    fleet: true,
    status: fleet.status,
    dryRun: fleet.dryRun,
    counts: countFleet(fleet),
    gitlabSteps: countGitlabSteps(fleet),
    ...(fleet.quotas ? { quotas: fleet.quotas } : {}),
    ...(fleet.packs ? { packs: fleet.packs } : {}),
    attention: needsAttention(fleet).map((m) => ({
      project: m.project,
      status: m.status,
      ...(m.error === undefined ? {} : { error: errorDocument(m.error) }),
      consents: m.consents,
    })),
    members: fleet.members.map((m) => ({
      project: m.project,
      status: m.status,
      ...(m.error === undefined ? {} : { error: errorDocument(m.error) }),
      ...(m.resume ? { resume: m.resume } : {}),
      consents: m.consents,
      // How the pipeline change reached the project (also in result): the MR to review, the variables.
      ...(m.result?.mergeRequest ? { mergeRequest: m.result.mergeRequest } : {}),
      ...(m.result?.ciVariables ? { ciVariables: m.result.ciVariables } : {}),
      result: m.result,
    })),
  };
}
