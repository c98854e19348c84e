/**
 * Human output of `audit`: findings grouped by severity, strongest first, each with where, why and
 * the fix. Pure (colours through the palette).
 */
import { type Finding, SEVERITIES, type Severity } from '../core/lint.js';
import type { Palette } from '../io/colors.js';
import type { AuditReport, AuditSelection } from './report.js';

const HEADINGS: Record<Severity, string> = {
  critical: 'CRITICAL',
  high: 'HIGH',
  functional: 'FUNCTIONAL ERRORS (the role or a condition cannot work)',
  medium: 'MEDIUM',
  low: 'LOW',
};

function paint(palette: Palette, severity: Severity, text: string): string {
  if (severity === 'critical' || severity === 'high') return palette.danger(text);
  if (severity === 'functional' || severity === 'medium') return palette.warn(text);
  return palette.muted(text);
}

/** `role deploy, Statement[1] (Legacy), StringLike gitlab.com:sub = "project_path:*"` */
export function findingLocation(f: Finding): string {
  const parts: string[] = [];
  // A file target is named once in the heading; roles and providers are named per finding.
  if (f.target && f.target.kind !== 'file') {
    const kind = f.target.kind === 'oidc-provider' ? 'provider' : f.target.kind;
    parts.push(`${kind} ${f.target.id}`);
  }
  if (f.policy && f.target?.kind !== 'policy') parts.push(`policy ${f.policy}`);
  if (f.statementIndex !== undefined)
    parts.push(`Statement[${f.statementIndex}]${f.sid ? ` (${f.sid})` : ''}`);
  let cond = '';
  if (f.conditionKey) cond = `${f.operator ? `${f.operator} ` : ''}${f.conditionKey}`;
  if (f.value !== undefined) cond += `${cond ? ' = ' : ''}"${f.value}"`;
  if (cond) parts.push(cond);
  return parts.join(', ');
}

export function formatFinding(f: Finding, palette: Palette): string[] {
  return [
    `  ${paint(palette, f.severity, f.ruleId)}  ${palette.strong(f.title)}`,
    `          ${palette.muted('at')}  ${findingLocation(f)}`,
    `          ${palette.muted('why')} ${f.why}`,
    `          ${palette.muted('fix')} ${f.fix}`,
  ];
}

export function formatSummary(report: AuditReport): string {
  const c = report.counts;
  return SEVERITIES.map((s) => `${c[s]} ${s}`).join(', ');
}

/** Per selected project: the roles that trust it and their findings; then the ones no role trusts. */
export function formatSelection(selection: AuditSelection, palette: Palette): string[] {
  const n = selection.projects.length;
  const lines = [
    '',
    `Selected ${n} project${n === 1 ? '' : 's'} (${selection.kind} ${selection.source})${selection.skipped.length ? `, ${selection.skipped.length} skipped` : ''}:`,
  ];
  for (const p of selection.projects) {
    if (!p.roles.length) continue;
    const counts = SEVERITIES.filter((s) => p.counts[s] > 0).map((s) =>
      paint(palette, s, `${p.counts[s]} ${s}`),
    );
    lines.push(
      `  ${palette.code(p.project)}  role${p.roles.length === 1 ? '' : 's'}: ${p.roles.join(', ')}  ${counts.length ? counts.join(', ') : palette.good('no findings')}`,
    );
  }
  if (selection.untrusted.length) {
    lines.push(
      '',
      `No role trusts ${selection.untrusted.length} selected project${selection.untrusted.length === 1 ? '' : 's'}:`,
    );
    for (const p of selection.untrusted) lines.push(`  ${p}`);
  }
  if (selection.skipped.length) {
    lines.push('', palette.muted('Skipped:'));
    for (const s of selection.skipped) lines.push(palette.muted(`  ${s.project}: ${s.detail}`));
  }
  return lines;
}

export function formatAuditTable(report: AuditReport, palette: Palette): string[] {
  const lines: string[] = [];
  if (report.scope === 'file') {
    lines.push(`Linted ${report.file} (offline).`);
  } else {
    const gitlab = report.providers.filter((p) => p.gitlab).length;
    lines.push(
      `Audited account ${report.account}: ${report.providers.length} OIDC provider${report.providers.length === 1 ? '' : 's'}` +
        `${gitlab ? ` (${gitlab} GitLab)` : ''}, ${report.roles.length} federated role${report.roles.length === 1 ? '' : 's'}.`,
    );
    for (const p of report.providers) {
      const trusted = p.trustedBy.length ? p.trustedBy.join(', ') : palette.muted('no role');
      lines.push(
        `  ${p.gitlab ? 'GitLab ' : ''}${palette.code(p.url)}  audiences: ${p.clientIds.join(', ') || '—'}  trusted by: ${trusted}`,
      );
    }
  }
  if (report.selection) lines.push(...formatSelection(report.selection, palette));
  if (report.findings.length === 0) {
    lines.push('', palette.good('No findings.'));
  }
  for (const severity of SEVERITIES) {
    const group = report.findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    lines.push('', paint(palette, severity, `${HEADINGS[severity]} (${group.length})`));
    for (const f of group) lines.push(...formatFinding(f, palette));
  }
  if (report.incomplete.length) {
    lines.push(
      '',
      palette.warn(
        `Could not read ${report.incomplete.length} resource${report.incomplete.length === 1 ? '' : 's'}:`,
      ),
    );
    for (const i of report.incomplete) lines.push(`  ${i.resource}: ${i.error}`);
  }
  const g = report.gitlab;
  if (g) {
    lines.push(
      '',
      g.checked ? `GitLab ${g.url}: protected refs checked.` : palette.warn(`GitLab ${g.url}: not checked.`),
    );
    for (const c of g.cleared) {
      lines.push(
        `  ${palette.good('✓')} ${c.ruleId} cleared on role ${c.role}: ${c.refs.join(', ')} protected in ${c.project}`,
      );
    }
    for (const n of g.notes) lines.push(`  ${palette.muted(n)}`);
  }
  lines.push('', `Summary: ${formatSummary(report)}.`);
  return lines;
}
