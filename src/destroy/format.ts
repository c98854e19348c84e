/**
 * Human output of `destroy`: the plan (what is deleted, detached or kept, and why) and the result.
 */
import { colorDiffLine, type Palette } from '../io/colors.js';
import type { DestroyCiVariables } from './gitlab-variables.js';
import { type DestroyPlan, describeDestroyTarget } from './plan.js';
import type { DestroyCiFile, DestroyResult } from './run.js';

const KIND: Record<DestroyPlan['resources'][number]['kind'], string> = {
  role: 'role',
  policy: 'policy',
  'oidc-provider': 'OIDC provider',
  'instance-profile': 'instance profile',
};

export function formatDestroyPlan(plan: DestroyPlan, palette: Palette, consented = false): string[] {
  const lines = [palette.strong(`Plan: destroy ${describeDestroyTarget(plan.target)}`)];
  const order = { delete: 0, detach: 1, keep: 2 } as const;
  for (const r of [...plan.resources].sort((a, b) => order[a.action] - order[b.action])) {
    const label = `${KIND[r.kind]} ${r.kind === 'policy' ? r.arn : r.id}`;
    const why = r.reason ? palette.muted(` (${r.reason})`) : '';
    if (r.action === 'delete') lines.push(`  ${palette.danger('- delete')}  ${label}${why}`);
    else if (r.action === 'detach') lines.push(`  ${palette.change('~ detach')}  ${label}${why}`);
    else lines.push(`  ${palette.muted('= keep  ')}  ${label}${why}`);
  }
  if (plan.instanceProfileRemovals.length > 0 && !consented) {
    lines.push(
      palette.warn(
        `Removing a role from an instance profile needs --remove-from-instance-profiles (or yes at the prompt): EC2 instances launched with it lose the role's permissions.`,
      ),
    );
  }
  if (plan.steps.length > 0) {
    lines.push(
      palette.muted(`${plan.steps.length} IAM call${plan.steps.length === 1 ? '' : 's'}, in this order:`),
    );
  } else {
    lines.push(palette.muted('No IAM call.'));
  }
  return lines;
}

/** What happens to the pipeline file: the jobs removed and the diff, or why it is left alone. */
export function formatDestroyCiFile(ci: DestroyCiFile | undefined, palette: Palette): string[] {
  if (!ci) return [];
  if (ci.action === 'skipped') return ['', palette.muted(`${ci.path}: left alone (${ci.reason})`)];
  const lines = [''];
  if (ci.action === 'no-op') {
    lines.push(palette.muted(`${ci.path}: no jobs written by gitlab-aws-oidc; nothing to remove`));
  } else {
    lines.push(
      ci.action === 'delete'
        ? `  ${palette.danger('- delete')}  ${ci.path} ${palette.muted(`(it only holds the generated jobs ${ci.jobs.join(', ')}; after IAM; a copy is kept as a ${ci.path}.bak* backup)`)}`
        : `  ${palette.danger('- remove')}  ${ci.jobs.join(', ')} from ${ci.path} ${palette.muted(`(after IAM; the old file is kept as a ${ci.path}.bak* backup)`)}`,
      '',
    );
    for (const l of ci.diff.replace(/\n$/, '').split('\n')) lines.push(colorDiffLine(l, palette));
  }
  for (const w of ci.warnings) lines.push(palette.warn(`warning: ${w}`));
  return lines;
}

/** The CI/CD variables init --ci-variables set: deleted after IAM or kept (with values), or not checked and how. */
export function formatDestroyCiVariables(vars: DestroyCiVariables | undefined, palette: Palette): string[] {
  if (!vars) return [];
  if (!vars.checked) {
    return [
      '',
      palette.muted(`CI/CD variables: not checked (${vars.reason}).${vars.hint ? ` ${vars.hint}` : ''}`),
    ];
  }
  const where = `GitLab project ${vars.project}${vars.gitlabUrl ? ` on ${vars.gitlabUrl}` : ''}`;
  if (vars.variables.length === 0) {
    return ['', palette.muted(`CI/CD variables of ${where}: none set by gitlab-aws-oidc for these roles.`)];
  }
  const lines = ['', `CI/CD variables of ${where}:`];
  for (const v of vars.variables) {
    const scope = v.environmentScope === '*' ? '' : ` [environment ${v.environmentScope}]`;
    const label = `${v.key}${scope} = ${v.value === undefined ? '(hidden)' : v.value}`;
    if (v.action === 'delete')
      lines.push(`  ${palette.danger('- delete')}  ${label}${palette.muted(` (${v.reason}; after IAM)`)}`);
    else lines.push(`  ${palette.muted('= keep  ')}  ${label}${palette.muted(` (${v.reason})`)}`);
  }
  return lines;
}

export function formatDestroySteps(plan: Pick<DestroyResult['plan'], 'steps'>, palette: Palette): string[] {
  return plan.steps.map((s, i) => palette.muted(`  ${String(i + 1).padStart(2)}. ${s}`));
}

export function formatDestroyResult(result: DestroyResult, palette: Palette): string[] {
  const lines: string[] = [];
  for (const s of result.skipped) lines.push(palette.warn(`kept: ${s.step}: ${s.reason}`));
  lines.push(result.changed && !result.dryRun ? palette.good(result.summary) : result.summary);
  if (result.ciFile?.backupPath) {
    lines.push(
      palette.muted(
        `The previous ${result.ciFile.path} is kept as ${result.ciFile.backupPath}: keep it out of git (*.bak and *.bak.* in .gitignore), and delete it once you no longer need it.`,
      ),
    );
  }
  return lines;
}
