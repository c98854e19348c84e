/**
 * `migrate --apply` output, pure: the plan (per project, the user's permissions and the role's side by
 * side, what is not carried over, the pipeline switch), the result, and the one --json document. Key
 * IDs arrive masked; secrets never arrive.
 */
import { CliError, ExitCode } from '../errors.js';
import { formatFleetPlan, formatFleetResult } from '../fleet/format.js';
import { errorDocument, errorLine } from '../fleet/run.js';
import type { Palette } from '../io/colors.js';
import { UNSET_STATIC_KEYS } from '../render/ci-file.js';
import type { AppliedProject, MigrateApplyResult } from './apply.js';
import type { CarriedSource } from './carry-over.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What the user has, in the left column. */
function userSide(s: CarriedSource, userHolder: string): string {
  const holder = s.holder === userHolder ? '' : `${s.holder}: `;
  return `${holder}${s.kind === 'boundary' ? 'boundary' : s.kind} ${s.policy}`;
}

/** What the role gets of it, in the right column. */
export function roleSide(s: CarriedSource, policyName: string | undefined): string {
  switch (s.outcome) {
    case 'attached':
      return 'attached';
    case 'copied':
      return `copied into ${policyName ?? 'the tool-managed policy'}`;
    case 'partly-copied':
      return `partly copied into ${policyName ?? 'the tool-managed policy'} (see below)`;
    case 'boundary':
      return 'its permissions boundary';
    case 'not-carried':
      return 'NOT carried over (see below)';
  }
}

function keyText(result: MigrateApplyResult, refs: readonly string[]): string {
  return refs
    .map((ref) => {
      const key = result.keys.find((k) => k.ref === ref);
      return `${ref} ${key?.keyId ?? ''}`.trim();
    })
    .join(', ');
}

function projectPlan(result: MigrateApplyResult, p: AppliedProject, pal: Palette): string[] {
  if (p.status !== 'migrate') return [];
  const lines = ['', `${pal.strong(p.path)} ← IAM user ${p.userName}, key ${keyText(result, p.keys)}`];
  for (const ref of p.sharedKeys) {
    const key = result.keys.find((k) => k.ref === ref);
    lines.push(
      `  ${pal.warn('!')} key ${ref} is shared by ${plural(key?.projects.length ?? 0, 'project')} (${key?.projects.join(', ')}): each gets its own role (trust is per project); the key is retired only once none uses it`,
    );
  }
  if (p.refused) {
    lines.push(
      `  ${pal.danger('✗')} refused: ${errorLine(p.refused)}${p.refused.hint ? ` ${p.refused.hint}` : ''}`,
    );
    return lines;
  }
  const carry = p.carry;
  if (carry) {
    const userHolder = `user ${p.userName}`;
    const rows = carry.sources.map((s) => [userSide(s, userHolder), roleSide(s, p.policyName)] as const);
    const head = ["The user's permissions", `Role ${p.roleName ?? ''}`.trim()] as const;
    const width = Math.max(head[0].length, ...rows.map((r) => r[0].length));
    lines.push(`  ${pal.muted(head[0].padEnd(width))}  →  ${pal.muted(head[1])}`);
    if (rows.length === 0) lines.push(`  ${'none'.padEnd(width)}  →  none`);
    for (const [left, right] of rows) {
      const shown = right.startsWith('NOT') ? pal.danger(right) : right;
      lines.push(`  ${left.padEnd(width)}  →  ${shown}`);
    }
    if (carry.notCarriedOver.length) {
      lines.push(`  ${pal.warn(`Not carried over (${carry.notCarriedOver.length}):`)}`);
      for (const n of carry.notCarriedOver) lines.push(`    ${pal.warn('!')} ${n.source}: ${n.reason}`);
    }
  }
  const variables = p.variables.map((v) => `${v.key} (${v.where})`).join(', ');
  lines.push(
    `  Pipeline: the hidden job first runs \`${UNSET_STATIC_KEYS}\`${variables ? `, so ${variables} no longer reach the jobs that extend it` : ''}; the key stays until \`migrate --retire\``,
  );
  for (const w of p.warnings) lines.push(`  ${pal.warn('!')} ${w}`);
  if (p.member?.status === 'refused') {
    lines.push(`  ${pal.danger('✗')} refused: ${errorLine(p.member.error)}`);
  }
  const r = p.member?.result;
  if (r) {
    const changes = r.plan.resources
      .filter((x) => x.action !== 'no-op')
      .map((x) => `${x.kind} ${x.id}: ${x.action}`);
    if (r.mergeRequest && r.mergeRequest.action !== 'none') {
      changes.push(`merge request into ${r.mergeRequest.targetBranch}: ${r.mergeRequest.action}`);
    }
    lines.push(`  Changes: ${changes.length ? changes.join('; ') : 'none (already as planned)'}`);
  }
  return lines;
}

function notMigrated(result: MigrateApplyResult, pal: Palette): string[] {
  const lines: string[] = [];
  const refused = result.projects.filter((p) => p.status === 'not-migratable');
  if (refused.length) {
    lines.push('', pal.warn(`Not migratable (${refused.length}): no role can be planned`));
    for (const p of refused) {
      if (p.status === 'not-migratable') lines.push(`  ${pal.danger('✗')} ${p.path}: ${p.reason}`);
    }
  }
  const nothing = result.projects.filter((p) => p.status === 'nothing-to-migrate');
  if (nothing.length) {
    lines.push('', `Nothing to migrate: ${nothing.map((p) => p.path).join(', ')}.`);
  }
  if (result.incomplete.length) {
    lines.push('', pal.warn(`Could not read ${plural(result.incomplete.length, 'resource')}:`));
    for (const i of result.incomplete) lines.push(`  ${i.resource}: ${i.error}`);
  }
  return lines;
}

export function formatMigrateApplyPlan(result: MigrateApplyResult, pal: Palette): string[] {
  const migrating = result.projects.filter((p) => p.status === 'migrate');
  const lines = [
    pal.strong(
      `Plan: replace the AWS keys of ${plural(migrating.length, 'project')} with OIDC roles in AWS account ${result.account} (GitLab ${result.gitlabUrl})`,
    ),
  ];
  for (const p of migrating) lines.push(...projectPlan(result, p, pal));
  lines.push(...notMigrated(result, pal));
  if (result.fleet && result.fleet.members.length > 1) lines.push('', ...formatFleetPlan(result.fleet, pal));
  return [...lines, ''];
}

export function formatMigrateApplyResult(result: MigrateApplyResult, pal: Palette): string[] {
  const lines: string[] = [];
  for (const p of result.projects) {
    if (p.status !== 'migrate') continue;
    const m = p.member;
    const url = m?.result?.mergeRequest?.url;
    const state = p.refused ? 'refused' : (m?.status ?? 'not planned');
    lines.push(
      `${p.path}: ${state}${m?.result ? `, role ${m.result.roleArn}` : ''}${url ? `, merge request ${url}` : ''}`,
    );
  }
  if (result.fleet) lines.push('', ...formatFleetResult(result.fleet, pal));
  else if (!result.projects.some((p) => p.status === 'migrate')) lines.push(pal.good('Nothing to migrate.'));
  // Listed in the plan, which is always shown first: counted here.
  const refused = result.projects.filter((p) => p.status === 'not-migratable').length;
  const nothing = result.projects.filter((p) => p.status === 'nothing-to-migrate').length;
  if (refused || nothing) {
    const parts = [
      refused ? `${plural(refused, 'project')} not migratable` : '',
      nothing ? `${nothing} with nothing to migrate` : '',
    ].filter(Boolean);
    lines.push('', `${parts.join(', ')} (listed in the plan).`);
  }
  if (result.projects.some((p) => p.member?.status === 'applied')) {
    lines.push(
      '',
      'Next: merge each merge request; once the role has been used from the pipeline, retire the keys with `migrate --retire`.',
    );
  }
  return lines;
}

function projectDocument(p: AppliedProject): Record<string, unknown> {
  const base: Record<string, unknown> = { ...p };
  delete base.initOptions;
  delete base.member;
  delete base.refused;
  delete base.carry;
  if (p.status !== 'migrate') return base;
  return {
    ...base,
    ...(p.carry
      ? {
          permissions: {
            sources: p.carry.sources.map((s) => ({ ...s, role: roleSide(s, p.policyName) })),
            managedPolicyArns: p.carry.managedPolicyArns,
            policyDocument: p.carry.policyDocument,
            permissionsBoundaryArn: p.carry.permissionsBoundaryArn,
          },
          notCarriedOver: p.carry.notCarriedOver,
        }
      : {}),
    init: p.refused
      ? { status: 'refused', error: errorDocument(p.refused) }
      : p.member
        ? {
            status: p.member.status,
            ...(p.member.error === undefined ? {} : { error: errorDocument(p.member.error) }),
            ...(p.member.resume ? { resume: p.member.resume } : {}),
            consents: p.member.consents,
            result: p.member.result,
          }
        : undefined,
  };
}

/** The --json document: `{ ok, command: 'migrate', mode: 'apply', … }`. */
export function migrateApplyDocument(result: MigrateApplyResult): Record<string, unknown> {
  return {
    ok: result.exitCode === 0,
    command: 'migrate',
    mode: 'apply',
    status: result.status,
    dryRun: result.dryRun,
    exitCode: result.exitCode,
    gitlabUrl: result.gitlabUrl,
    account: result.account,
    projects: result.projects.map(projectDocument),
    keys: result.keys,
    skipped: result.skipped,
    incomplete: result.incomplete,
    ...(result.fleet?.quotas ? { quotas: result.fleet.quotas } : {}),
  };
}

/** A run in which a project was refused or failed (exit 1), or that was interrupted (130); --json keeps the document. */
export class MigrateApplyFailedError extends CliError {
  readonly result: MigrateApplyResult;

  constructor(result: MigrateApplyResult) {
    const notDone = result.projects.filter(
      (p) => p.refused || (p.member && !['applied', 'no-changes', 'planned'].includes(p.member.status)),
    );
    super(
      result.exitCode === 130 ? 'MIGRATE_INTERRUPTED' : 'MIGRATE_FAILED',
      `${plural(notDone.length, 'project')} not done (listed above); the others are done.`,
      {
        exitCode: result.exitCode === 130 ? ExitCode.Aborted : ExitCode.Failure,
        hint: 'Fix what each line says and re-run the same command: what is done shows no changes.',
      },
    );
    this.result = result;
  }

  override resultDocument(): Record<string, unknown> {
    return migrateApplyDocument(this.result);
  }
}
