/**
 * Human output of `status`. Pure (colours through the palette).
 */
import { formatHours } from '../core/duration.js';
import type { Palette } from '../io/colors.js';
import { describeSubject } from './drift.js';
import { unrecordedFields } from './record.js';
import type { StatusReport, StatusRole } from './run.js';

/** Project paths whose roles were made for more than one GitLab instance, with those instances. */
function sharedPaths(report: StatusReport): [string, string[]][] {
  const byPath = new Map<string, { project: string; urls: Map<string, string> }>();
  for (const r of report.roles) {
    if (r.project === undefined || r.gitlabUrl === undefined) continue;
    const key = r.project.toLowerCase();
    const entry = byPath.get(key) ?? { project: r.project, urls: new Map<string, string>() };
    entry.urls.set(r.gitlabUrl.replace(/\/+$/, '').toLowerCase(), r.gitlabUrl);
    byPath.set(key, entry);
  }
  return [...byPath.values()]
    .filter((e) => e.urls.size > 1)
    .map((e) => [e.project, [...e.urls.values()].sort()]);
}

/** The role against what the tool last wrote: drift with values, or why nothing can be said. */
function recordLines(r: StatusRole, palette: Palette): string[] {
  const lines: string[] = [];
  if (r.record === 'none') {
    lines.push(
      `    ${palette.warn('?')} gitlab-aws-oidc has no record of what it wrote to this role (created by an older version), so changes made outside it cannot be told apart; the next \`init\` records it.`,
    );
  } else if (r.record === 'partial') {
    lines.push(
      `    ${palette.warn('?')} no record of what gitlab-aws-oidc wrote for: ${unrecordedFields(r.fields).join(', ')}; the next \`init\` records it.`,
    );
  } else if (r.drift.length === 0) {
    lines.push(`    ${palette.good('✓')} unchanged since gitlab-aws-oidc last wrote it`);
  }
  for (const d of r.drift) {
    lines.push(`    ${palette.warn('✗ drift')} ${d.message}`);
    for (const l of d.diff ?? [])
      lines.push(`      ${l.startsWith('+') ? palette.good(l) : palette.danger(l)}`);
    for (const l of d.details ?? [])
      lines.push(`      ${l.startsWith('+') ? palette.warn(l) : palette.danger(l)}`);
  }
  return lines;
}

/** One role as status shows it: what it trusts, its policies, boundary, session, record and findings. */
export function formatStatusRole(r: StatusRole, palette: Palette): string[] {
  const lines: string[] = [];
  lines.push(
    `  ${palette.strong(r.name)}  project ${r.project ?? palette.muted('(untagged)')}${r.gitlabUrl ? ` on ${r.gitlabUrl}` : ''}`,
  );
  const subjects = r.trust.subjects.map((subject) => describeSubject(subject, r.project));
  const extras = [
    r.trust.projectIds.length ? `project_id ${r.trust.projectIds.join(', ')}` : undefined,
    r.trust.protectedOnly ? 'protected refs only' : undefined,
    r.trust.audiences.length ? `aud ${r.trust.audiences.join(', ')}` : undefined,
  ].filter(Boolean);
  lines.push(
    `    trusts:   ${subjects.join(', ') || palette.muted('nothing parsable')}${extras.length ? palette.muted(`  (${extras.join('; ')})`) : ''}`,
  );
  const policies = r.policies.map((p) => {
    const notes = [
      p.toolManaged ? 'tool' : undefined,
      p.origin === 'outside' ? 'attached outside the tool' : undefined,
    ];
    const note = notes.filter(Boolean).join(', ');
    return note
      ? `${p.name} ${p.origin === 'outside' ? palette.warn(`(${note})`) : palette.muted(`(${note})`)}`
      : p.name;
  });
  lines.push(`    policies: ${policies.join(', ') || palette.muted('none')}`);
  if (r.permissionsBoundaryArn) lines.push(`    boundary: ${r.permissionsBoundaryArn}`);
  lines.push(`    session:  up to ${formatHours(r.maxSessionDuration)}`);
  lines.push(...recordLines(r, palette));
  if (r.findings.length) {
    lines.push(
      `    ${palette.danger(`${r.findings.length} high/critical finding${r.findings.length === 1 ? '' : 's'}`)}: ${[...new Set(r.findings.map((f) => f.ruleId))].join(', ')} (gitlab-aws-oidc audit --role ${r.name})`,
    );
  }
  return lines;
}

export function formatStatus(report: StatusReport, palette: Palette): string[] {
  const lines: string[] = [];
  const on = report.gitlabUrl ? ` on ${report.gitlabUrl}` : '';
  const scope = report.project ? ` for project ${report.project}${on}` : on;
  if (report.roles.length === 0 && report.providers.length === 0) {
    return [`Nothing managed by gitlab-aws-oidc${scope} in account ${report.account}.`];
  }
  lines.push(palette.strong(`Managed by gitlab-aws-oidc in account ${report.account}${scope}`), '');
  lines.push('OIDC providers');
  for (const p of report.providers) {
    const origin = p.managedByTool ? 'created by the tool' : palette.muted('not created by the tool');
    const trusted = p.trustedBy.length ? p.trustedBy.join(', ') : palette.muted('no managed role');
    lines.push(
      `  ${palette.code(p.url)}  (${origin})  audiences: ${p.clientIds.join(', ') || '—'}  trusted by: ${trusted}`,
    );
  }
  lines.push('', 'Roles');
  for (const r of report.roles) lines.push(...formatStatusRole(r, palette));
  for (const [project, urls] of sharedPaths(report)) {
    lines.push(
      '',
      palette.warn(
        `note: project ${project} has roles on ${urls.length} GitLab instances (${urls.join(', ')}): they are different projects; pass --gitlab-url to destroy one of them.`,
      ),
    );
  }
  const s = report.summary;
  lines.push(
    '',
    `${s.roles} role${s.roles === 1 ? '' : 's'}, ${s.drifted} drifted, ${s.unrecorded ? `${s.unrecorded} without a record, ` : ''}${s.withFindings} with high/critical findings.`,
  );
  return lines;
}
