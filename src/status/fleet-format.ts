/**
 * Human output of `status --group/--config`: the counts first, the projects that need attention with
 * what each needs, those not set up, the skipped ones; with `--details` each project's roles as a single
 * `status --project` shows them, and the providers. Pure (colours through the palette).
 */
import { type FleetSelection, fleetCommandLine } from '../fleet/command-selection.js';
import type { Palette } from '../io/colors.js';
import type { FleetStatusReport, ProjectState } from './fleet.js';
import { formatStatusRole } from './format.js';

const STATE_LABEL: Record<ProjectState, string> = {
  'in-sync': 'in sync',
  drift: 'drift',
  missing: 'missing pieces',
  'no-record': 'no record',
  'not-set-up': 'not set up',
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function formatFleetStatus(
  report: FleetStatusReport,
  selection: FleetSelection,
  palette: Palette,
  details: boolean,
): string[] {
  const { counts, selection: sel } = report;
  const mark = (state: ProjectState) =>
    state === 'missing' || state === 'drift'
      ? palette.danger('✗')
      : state === 'no-record'
        ? palette.warn('?')
        : state === 'in-sync'
          ? palette.good('✓')
          : palette.muted('-');
  const tally = [
    `${counts.inSync} in sync`,
    `${counts.drift} drifted`,
    `${counts.missing} with missing pieces`,
    `${counts.noRecord} without a record`,
    `${counts.notSetUp} not set up`,
  ];
  const lines = [
    palette.strong(
      `Status of ${plural(counts.projects, 'selected project')} (${sel.kind} ${sel.source}${sel.gitlabUrl ? ` on ${sel.gitlabUrl}` : ''}) in account ${report.account}`,
    ),
    `  ${tally.join(', ')}${counts.skipped ? `; ${counts.skipped} skipped` : ''}.`,
    `  ${plural(report.summary.roles, 'role')}, ${counts.withFindings} project${counts.withFindings === 1 ? '' : 's'} with high/critical findings.`,
  ];
  if (report.attention.length) {
    lines.push('', palette.danger(`Need attention (${report.attention.length}):`));
    for (const a of report.attention) {
      lines.push(`  ${mark(a.state)} ${palette.strong(a.project)} (${STATE_LABEL[a.state]})`);
      for (const r of a.reasons) lines.push(`      ${r}`);
    }
  }
  const notSetUp = report.projects.filter((p) => p.state === 'not-set-up');
  if (notSetUp.length) {
    lines.push('', `Not set up (${notSetUp.length}, no role of the tool):`);
    for (const p of notSetUp) lines.push(`  ${mark(p.state)} ${p.project}`);
    lines.push(
      palette.muted(
        `  onboard them with: ${fleetCommandLine('init', selection, sel.gitlabUrl && selection.kind === 'group' ? ['--gitlab-url', sel.gitlabUrl] : [])} (the projects already set up plan no change)`,
      ),
    );
  }
  if (sel.skipped.length) {
    lines.push('', palette.muted(`Skipped (${sel.skipped.length}):`));
    for (const s of sel.skipped) lines.push(palette.muted(`  ${s.project}: ${s.detail}`));
  }
  if (details) {
    const byName = new Map(report.roles.map((r) => [r.name, r]));
    lines.push('', 'Projects');
    for (const p of report.projects) {
      if (p.state === 'not-set-up') continue;
      lines.push('', `${mark(p.state)} ${palette.code(p.project)}  (${STATE_LABEL[p.state]})`);
      for (const m of p.missing.filter((m) => m.kind === 'role'))
        lines.push(`    ${palette.danger('✗ missing')} ${m.message}`);
      for (const name of p.roles) {
        const role = byName.get(name);
        if (role) lines.push(...formatStatusRole(role, palette));
      }
    }
    if (report.providers.length) {
      lines.push('', 'OIDC providers');
      for (const pr of report.providers) {
        const origin = pr.managedByTool ? 'created by the tool' : palette.muted('not created by the tool');
        lines.push(
          `  ${palette.code(pr.url)}  (${origin})  audiences: ${pr.clientIds.join(', ') || '—'}  trusted by ${plural(pr.trustedBy.length, 'role')}`,
        );
      }
    }
  } else if (counts.projects - counts.notSetUp > 0) {
    lines.push('', palette.muted("Each project's roles: --details; everything: --json."));
  }
  return lines;
}
