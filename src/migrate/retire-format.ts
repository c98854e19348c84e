/**
 * Human output of `migrate --retire`: the plan (per key: retired or kept, and why; the steps), the
 * --delete-keys part, then the result. Pure (colours through the palette); key IDs arrive masked.
 */
import type { Palette } from '../io/colors.js';
import type { RetireReport } from './retire-report.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatRetirePlan(report: RetireReport, palette: Palette): string[] {
  const lines = [
    `GitLab ${report.gitlabUrl}${report.account ? `, AWS account ${report.account}` : ''}: ` +
      `${plural(report.projects.length, 'project')}, ${plural(report.keys.length, 'access key')} found in CI/CD variables.`,
  ];
  for (const key of report.keys) {
    const who = key.userName ? ` of IAM user ${key.userName}` : '';
    const used = key.projects.length ? ` (used by ${key.projects.join(', ')})` : '';
    lines.push(
      '',
      `${key.ref}  ${key.keyId}${who}${used}: ${key.retire ? palette.danger(key.steps.length ? 'retire' : 'retired already') : palette.good('kept')}`,
    );
    if (key.proof) lines.push(`    ${palette.muted(`switch proven: ${key.proof}`)}`);
    for (const reason of key.reasons) lines.push(`    - ${reason}`);
    for (const step of key.steps) lines.push(`    ${palette.danger('-')} ${step.description}`);
  }
  if (report.deleteKeys) {
    lines.push('', palette.strong('Keys deactivated earlier by --retire (--delete-keys)'));
    if (report.deleteKeys.length === 0) lines.push(`  ${palette.muted('none recorded')}`);
    for (const d of report.deleteKeys) {
      const since = d.deactivatedAt ? ` (deactivated ${d.deactivatedAt.slice(0, 10)})` : '';
      lines.push(
        `  ${d.keyId} of IAM user ${d.userName}${since}: ${d.delete ? palette.danger('delete') : palette.good('kept')}`,
      );
      for (const reason of d.reasons) lines.push(`    - ${reason}`);
      for (const step of d.steps) lines.push(`    ${palette.danger('-')} ${step.description}`);
    }
  }
  if (report.notSeen.length) {
    lines.push('', palette.warn('Not seen by this run:'));
    for (const n of report.notSeen) lines.push(`  ${n}`);
  }
  if (report.skipped.length) {
    lines.push('', `Skipped: ${report.skipped.map((s) => `${s.path} (${s.reason})`).join(', ')}.`);
  }
  if (report.incomplete.length) {
    lines.push('', palette.warn(`Could not read ${plural(report.incomplete.length, 'resource')}:`));
    for (const i of report.incomplete) lines.push(`  ${i.resource}: ${i.error}`);
  }
  lines.push(
    '',
    report.changes === 0
      ? 'No changes.'
      : `Plan: ${plural(report.changes, 'change')}${report.dryRun ? ' (dry run: nothing is changed)' : ''}.`,
  );
  return lines;
}

export function formatRetireResult(report: RetireReport, palette: Palette): string[] {
  if (report.dryRun || report.changes === 0) return [];
  return [palette.good(`Done: ${plural(report.done.length, 'change')} applied.`)];
}
