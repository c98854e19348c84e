/**
 * Human rendering of an `init` plan and result (pure: result + palette → lines).
 */
import type { ResourcePlan } from '../core/types.js';
import { describeGitlabStep } from '../gitlab/api/apply.js';
import type { GitlabStepKind } from '../gitlab/api/steps.js';
import { colorDiffLine, type Palette } from '../io/colors.js';
import { HIDDEN_JOB_NAME, jobNamesFor } from '../render/ci-file.js';
import { changeLines, consentLines, gitlabLines } from './plan-lines.js';
import type { InitResult } from './result.js';

const KIND_LABEL: Record<ResourcePlan['kind'], string> = {
  'oidc-provider': 'OIDC provider',
  role: 'IAM role',
  policy: 'IAM policy',
};

/** For findings that an `init` flag fixes, name the flag instead of the raw policy edit. */
const INIT_FIX: Partial<Record<string, string>> = {
  GAO010: 'protect those refs in GitLab and pass --protected-only',
  GAO011: 'pass --project-id <id> (and --namespace-id) to pin gitlab.com:project_id',
  GAO012: 'protect the ref in GitLab and pass --protected-only',
};

/** How a GitLab step shows in the plan table. */
const GITLAB_ACTION: Record<GitlabStepKind, ResourcePlan['action']> = {
  protectBranch: 'create',
  protectTag: 'create',
  setSubClaim: 'update',
  createVariable: 'create',
  updateVariable: 'update',
  commit: 'create',
  createMergeRequest: 'create',
  updateMergeRequest: 'update',
};

const SYMBOL: Record<ResourcePlan['action'], string> = {
  create: '+',
  update: '~',
  'no-op': '=',
  delete: '-',
};

function actionText(action: ResourcePlan['action'], p: Palette): string {
  const text = `${SYMBOL[action]} ${action.padEnd(6)}`;
  if (action === 'create') return p.good(text);
  if (action === 'update') return p.change(text);
  if (action === 'delete') return p.danger(text);
  return p.muted(text);
}

/** The plan table: one row per resource, what changes in it, then the trust-policy diff and the checks. */
export function formatPlan(result: InitResult, p: Palette): string[] {
  const lines: string[] = [];
  const where = result.offline
    ? `account ${result.identity.account} (offline: assuming nothing exists yet)`
    : `account ${result.identity.account} (${result.identity.partition})`;
  lines.push(p.strong(`Plan for ${result.project} on ${result.gitlabUrl}, ${where}`), '');
  const width = Math.max(...result.plan.resources.map((r) => r.id.length), 10);
  for (const r of result.plan.resources) {
    lines.push(
      `  ${actionText(r.action, p)}  ${KIND_LABEL[r.kind].padEnd(13)}  ${r.id.padEnd(width)}`.trimEnd(),
    );
    lines.push(...changeLines(r, p));
  }
  if (result.ciFile) {
    const ci = result.ciFile;
    const counts = ci.action === 'no-op' ? '' : `  ${p.muted(`+${ci.added} -${ci.removed} lines`)}`;
    lines.push(`  ${actionText(ci.action, p)}  ${'pipeline'.padEnd(13)}  ${ci.path}${counts}`);
    const jobs = ci.jobs ?? jobNamesFor();
    // A further role's jobs have their own names (the first role's are the plain ones).
    if (jobs.hidden !== HIDDEN_JOB_NAME) {
      const names = [jobs.hidden, jobs.check, ...(ci.verifyRuns ? [jobs.verify] : [])];
      lines.push(`      ${p.muted(`jobs ${names.join(', ')}`)}`);
    }
    if (ci.verifyRuns) {
      lines.push(`      ${p.warn(`${jobs.verify} runs with the role's credentials: ${ci.verifyRuns}`)}`);
    }
    const mr = result.mergeRequest;
    if (mr) {
      const how = [
        mr.commit ? `a commit to ${mr.branch}` : `${mr.branch} already holds it`,
        mr.iid !== undefined
          ? `merge request !${mr.iid} into ${mr.targetBranch} (${mr.url})`
          : `a new merge request into ${mr.targetBranch}`,
      ];
      lines.push(`      ${p.muted(`through ${how.join(', ')}; no local file is written`)}`);
    }
  }
  if (result.ciVariables) {
    const v = result.ciVariables;
    lines.push(`      ${p.muted(`CI/CD variables ${v.roleArn}, ${v.region}: ${v.protection}`)}`);
  }
  lines.push(...gitlabLines(result, p));
  for (const step of result.gitlabSteps) {
    const action = GITLAB_ACTION[step.kind];
    lines.push(`  ${actionText(action, p)}  ${'GitLab'.padEnd(13)}  ${describeGitlabStep(step)}`);
    // Every ID token of the project changes: in red, with what stops matching.
    const subClaim =
      step.kind === 'setSubClaim' && result.plan.consents.find((c) => c.consent === 'change-sub-claim');
    if (subClaim) lines.push(`      ${p.danger(subClaim.message)}`);
  }
  if (result.trustPolicyDiff.some((l) => l.startsWith('+') || l.startsWith('-'))) {
    lines.push('', p.strong(`Trust policy of ${result.roleArn}:`));
    for (const l of result.trustPolicyDiff) {
      lines.push(`  ${l.startsWith('+') ? p.good(l) : l.startsWith('-') ? p.danger(l) : p.muted(l)}`);
    }
  }
  const probes = result.checks.expectDeny;
  if (probes.length) {
    lines.push('', p.strong('Who else could assume it (each must be refused):'));
    for (const c of probes) {
      // A refusal that rests on a case IAM does not document proves nothing (as in `verify`).
      const caveats = c.evaluation.caveats.map((x) => x.message).join('; ');
      lines.push(
        c.unproven
          ? `  ${p.danger(`✗ NOT PROVEN REFUSED: ${c.label} (the refusal rests on a case IAM does not document${caveats ? `: ${caveats}` : ''})`)}`
          : c.allowed
            ? `  ${p.danger(`✗ ALLOWED: ${c.label}`)}`
            : `  ${p.good('✓')} refused: ${c.label}`,
      );
    }
  }
  if (result.plan.broadening.length) {
    lines.push('', p.danger('Broadens trust (check each line before applying):'));
    for (const b of result.plan.broadening) lines.push(`  ${p.danger(b)}`);
  }
  lines.push(...consentLines(result.plan.consents, p));
  const findings = result.checks.lint.filter((f) => f.severity !== 'low');
  if (findings.length) {
    lines.push('', p.strong('Trust policy review:'));
    const seen = new Set<string>();
    for (const f of findings) {
      const fix = INIT_FIX[f.ruleId] ?? f.fix;
      const line = `  ${p.warn(`${f.severity} ${f.ruleId}`)} ${f.title}: ${fix}`;
      if (!seen.has(line)) lines.push(line);
      seen.add(line);
    }
  }
  if (result.warnings.length) {
    lines.push('', p.strong('Warnings:'));
    for (const w of result.warnings) lines.push(`  ${p.warn('!')} ${w}`);
  }
  if (result.ciFile?.legacyJwt.length) {
    const l = result.ciFile.legacyJwt;
    lines.push(
      '',
      p.danger(
        `${result.ciFile.path} still uses ${[...new Set(l.map((u) => u.variable))].join(', ')} (removed in GitLab 17.0) at line${l.length > 1 ? 's' : ''} ${l.map((u) => u.line).join(', ')}: those jobs are broken; switch them to id_tokens (extends: .aws-oidc).`,
      ),
    );
  }
  // Shown before every confirmation (and under --dry-run): what the pipeline write will do.
  if (result.ciFile?.diff) {
    lines.push('', p.strong(`${result.ciFile.path} ${result.dryRun ? 'would' : 'will'} change:`));
    for (const l of result.ciFile.diff.split('\n')) lines.push(colorDiffLine(l, p));
  }
  return lines;
}

/** The final summary printed on stdout. */
export function formatResult(result: InitResult, p: Palette): string[] {
  const lines: string[] = [];
  if (result.status === 'no-changes') {
    lines.push(
      p.good(
        `No changes: the AWS account${result.gitlab ? ', the GitLab project' : ''} and the pipeline already match.`,
      ),
    );
  } else if (result.status === 'planned') {
    lines.push(
      p.strong(
        result.offline ? 'Dry run (offline): nothing was read or changed.' : 'Dry run: nothing was changed.',
      ),
    );
  } else {
    const count = (n: number, what: string) => `${n} ${what} change${n === 1 ? '' : 's'}`;
    const gitlab = result.gitlabApplied.length ? ` and ${count(result.gitlabApplied.length, 'GitLab')}` : '';
    lines.push(p.good(`Done: ${count(result.applied.length, 'IAM')}${gitlab} applied.`));
  }
  lines.push(
    '',
    `  Role ARN        ${result.roleArn}`,
    `  OIDC provider   ${result.providerArn}`,
    `  Audience        ${result.audience}`,
    `  Refs            ${result.refs.map((r) => `${r.type} ${r.pattern}`).join(', ')}`,
    `  Region          ${result.region}`,
  );
  if (result.policyArn) lines.push(`  Policy          ${result.policyArn}`);
  const project = result.gitlab?.project;
  if (project) {
    lines.push(`  GitLab project  ${project.path} (ID ${project.id}, namespace ${project.namespaceId})`);
  }
  if (result.ciVariables) {
    const v = result.ciVariables;
    lines.push(`  CI/CD variables ${v.roleArn}, ${v.region}${v.protected ? ' (protected)' : ''}`);
  }
  if (result.mergeRequest?.url) lines.push(`  Merge request   ${result.mergeRequest.url}`);
  if (result.nextSteps.length) {
    lines.push('', p.strong('Next steps:'));
    for (const [i, s] of result.nextSteps.entries()) lines.push(`  ${i + 1}. ${s}`);
  }
  return lines;
}
