/**
 * Human output of `destroy --group/--config`: counts first, the projects that need attention
 * (blocked), then per project what goes, the fleet's providers, the skipped projects; after the run,
 * the summary with each failure and the command that finishes the job.
 */
import type { Palette } from '../io/colors.js';
import type { FleetDestroyResult } from './fleet.js';
import type { DestroyResource } from './plan.js';

const KIND: Record<DestroyResource['kind'], string> = {
  role: 'role',
  policy: 'policy',
  'oidc-provider': 'OIDC provider',
  'instance-profile': 'instance profile',
};

const resourceLine = (r: DestroyResource, palette: Palette) => {
  const label = `${KIND[r.kind]} ${r.kind === 'policy' ? r.arn : r.id}`;
  const why = r.reason ? palette.muted(` (${r.reason})`) : '';
  if (r.action === 'delete') return `    ${palette.danger('- delete')}  ${label}${why}`;
  if (r.action === 'detach') return `    ${palette.change('~ detach')}  ${label}${why}`;
  return `    ${palette.muted('= keep  ')}  ${label}${why}`;
};

export function formatFleetDestroyPlan(result: FleetDestroyResult, palette: Palette): string[] {
  const { counts, selection } = result;
  const lines = [
    palette.strong(
      `Plan: destroy ${counts.withChanges} of ${counts.projects} selected project${counts.projects === 1 ? '' : 's'} (${selection.kind} ${selection.source}) in account ${result.account}`,
    ),
    `  ${counts.roles} role${counts.roles === 1 ? '' : 's'} and ${counts.policiesDeleted} polic${counts.policiesDeleted === 1 ? 'y' : 'ies'} to delete, ${counts.policiesDetached} to detach, ${counts.providersDeleted} OIDC provider${counts.providersDeleted === 1 ? '' : 's'} to delete${counts.variablesDeleted ? `, ${counts.variablesDeleted} CI/CD variable${counts.variablesDeleted === 1 ? '' : 's'} to delete after IAM` : ''}; ${counts.nothingToDestroy} with nothing to destroy${counts.blocked ? `, ${palette.warn(`${counts.blocked} blocked`)}` : ''}.`,
  ];
  const blocked = result.members.filter((m) => m.state === 'blocked');
  if (blocked.length) {
    lines.push('', palette.warn('Blocked (nothing of these is changed):'));
    for (const m of blocked) lines.push(`  ${m.project}: ${m.error}`);
  }
  for (const m of result.members) {
    const variables = m.ciVariables?.variables ?? [];
    if ((!m.resources.length && !variables.length) || m.state === 'blocked') continue;
    lines.push('', `  ${palette.code(m.project)}`);
    for (const r of m.resources) lines.push(resourceLine(r, palette));
    for (const v of variables) {
      const label = `CI/CD variable ${v.key} = ${v.value ?? '(hidden)'}`;
      lines.push(
        v.action === 'delete'
          ? `    ${palette.danger('- delete')}  ${label}${palette.muted(` (${v.reason}; after IAM)`)}`
          : `    ${palette.muted('= keep  ')}  ${label}${palette.muted(` (${v.reason})`)}`,
      );
    }
  }
  const unchecked = result.members.filter((m) => m.ciVariables && !m.ciVariables.checked);
  if (unchecked.length) {
    const first = unchecked[0]?.ciVariables;
    lines.push(
      '',
      palette.muted(
        `CI/CD variables of ${unchecked.length} project${unchecked.length === 1 ? '' : 's'}: not checked (${first?.reason}).${first?.hint ? ` ${first.hint}` : ''}`,
      ),
    );
  }
  if (result.providers.length) {
    lines.push('', '  OIDC providers (after every project):');
    for (const r of result.providers) lines.push(resourceLine(r, palette));
  }
  if (selection.skipped.length) {
    lines.push('', palette.muted(`Skipped ${selection.skipped.length}:`));
    for (const s of selection.skipped) lines.push(palette.muted(`  ${s.project}: ${s.detail}`));
  }
  return [...lines, ''];
}

export function formatFleetDestroyResult(result: FleetDestroyResult, palette: Palette): string[] {
  const lines = [result.failures.length ? palette.warn(result.summary) : palette.good(result.summary)];
  for (const f of result.failures) {
    lines.push(`  ${palette.danger('✗')} ${f.project}: ${f.error}`);
    if (f.done.length) lines.push(palette.muted(`      done: ${f.done.join('; ')}`));
    if (f.notDone.length) lines.push(palette.muted(`      not done: ${f.notDone.join('; ')}`));
  }
  if (result.resume) lines.push(`Finish with: ${palette.code(result.resume)}`);
  return lines;
}
