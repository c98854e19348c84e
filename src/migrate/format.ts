/**
 * Human output of `migrate` (find): per project its credential variables, then every key with its
 * owner, last use and the projects that get it. Pure (colours through the palette). Key IDs arrive
 * masked; secrets never arrive at all.
 */
import type { Palette } from '../io/colors.js';
import type { KeyOwner, MigrateFindReport, ReportedKey, ReportedVariable } from './report.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function where(v: ReportedVariable): string {
  return v.source === 'project' ? 'project' : `group ${v.path}`;
}

function valueText(v: ReportedVariable): string {
  if (v.value === 'hidden') return 'hidden (value unreadable)';
  if (v.value === 'secret') return 'secret (not shown)';
  if (v.value === 'not-a-key-id') return 'not an access key ID';
  return v.keyIds.map((id, i) => `${id} (${v.keys[i]})`).join(', ');
}

export function describeOwner(owner: KeyOwner): string {
  switch (owner.kind) {
    case 'user':
      return `IAM user ${owner.userName} (${owner.status})`;
    case 'other-account':
      return `key of account ${owner.account}`;
    case 'not-found':
      return `no such key in account ${owner.account} (deleted?)`;
    case 'unknown':
      return `owner unknown: ${owner.reason}`;
  }
}

function lastUsedText(key: ReportedKey): string {
  if (!key.lastUsed) return '';
  if (!key.lastUsed.date) return 'never used';
  const parts = [`last used ${key.lastUsed.date.slice(0, 10)}`];
  if (key.lastUsed.service) parts.push(key.lastUsed.service);
  if (key.lastUsed.region) parts.push(key.lastUsed.region);
  return parts.join(' ');
}

export function formatMigrateTable(report: MigrateFindReport, palette: Palette): string[] {
  const shared = report.keys.filter((k) => k.shared).length;
  const lines = [
    `GitLab ${report.gitlabUrl}${report.account ? `, AWS account ${report.account}` : ''}: ` +
      `${plural(report.projects.length, 'project')}, ${plural(report.keys.length, 'access key')}` +
      `${shared ? ` (${shared} shared)` : ''}.`,
  ];
  for (const project of report.projects) {
    lines.push('', palette.strong(project.path));
    if (project.variables.length === 0) lines.push(`  ${palette.muted('no AWS credential variable')}`);
    const keyWidth = Math.max(...project.variables.map((v) => v.key.length), 0);
    const whereWidth = Math.max(...project.variables.map((v) => where(v).length), 0);
    for (const v of project.variables) {
      const state = v.inEffect ? palette.warn('in effect') : palette.muted(`shadowed by ${v.shadowedBy}`);
      const flags = [v.protected ? 'protected' : '', v.hidden ? 'hidden' : v.masked ? 'masked' : '']
        .filter(Boolean)
        .join(',');
      lines.push(
        `  ${v.key.padEnd(keyWidth)}  ${where(v).padEnd(whereWidth)}  scope ${v.environmentScope}  ${valueText(v)}` +
          `${flags ? `  [${flags}]` : ''}  ${state}`,
      );
    }
    for (const u of project.unreadable) {
      lines.push(
        `  ${palette.warn('!')} ${u.source === 'project' ? 'project' : `group ${u.path}`} variables: ${u.reason}`,
      );
    }
  }
  if (report.keys.length) {
    lines.push('', palette.strong('Access keys'));
    for (const key of report.keys) {
      const used = lastUsedText(key);
      lines.push(
        `  ${key.ref}  ${key.keyId}  ${key.type}  ${describeOwner(key.owner)}${used ? `  ${used}` : ''}`,
      );
      lines.push(
        `      used by: ${key.projects.join(', ') || palette.muted('no project (only shadowed variables)')}` +
          `${key.shared ? `  ${palette.danger(`SHARED by ${key.projects.length} projects`)}` : ''}`,
      );
      if (key.shadowedIn.length) lines.push(`      shadowed in: ${key.shadowedIn.join(', ')}`);
      if (key.retire) {
        lines.push(
          `      retire: ${key.retire.ready ? palette.good('ready (the switch to OIDC is proven)') : 'not yet'}`,
        );
        for (const reason of key.retire.reasons) lines.push(`        - ${reason}`);
      }
    }
  }
  if (report.skipped.length) {
    lines.push('', `Skipped: ${report.skipped.map((s) => `${s.path} (${s.reason})`).join(', ')}.`);
  }
  if (report.incomplete.length) {
    lines.push('', palette.warn(`Could not read ${plural(report.incomplete.length, 'resource')}:`));
    for (const i of report.incomplete) lines.push(`  ${i.resource}: ${i.error}`);
  }
  return lines;
}
