/**
 * The "next steps" printed after init, including a `verify` command that works as printed.
 */
import { resolve } from 'node:path';
import { CONSENT_FLAGS } from '../core/types.js';
import { jobNamesFor } from '../render/ci-file.js';
import { shownPathFor } from '../render/write-file.js';
import type { InitOptions } from './options.js';
import type { InitResult } from './result.js';

/** A word for a POSIX shell: single-quoted, with `'` as `'\''`. */
const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/**
 * `verify` flags that simulate one job this role admits: verify takes one --branch or --tag, so the
 * first literal ref (or the first pattern with its wildcards as "x"), plus the pins the policy checks.
 */
function verifyArgs(options: InitOptions): string {
  const ref = options.refs.find((r) => !/[*?]/.test(r.pattern)) ?? options.refs[0];
  const args = ref ? [`--${ref.type}`, shellQuote(ref.pattern.replace(/[*?]/g, 'x'))] : [];
  if (options.projectId) args.push('--project-id', options.projectId);
  if (options.namespaceId) args.push('--namespace-id', options.namespaceId);
  if (options.protectedOnly) args.push('--ref-protected');
  if (options.audience !== options.gitlabUrl) args.push('--audience', shellQuote(options.audience));
  return args.join(' ');
}

/** The `verify` command that simulates one job this role admits, as it works when printed. */
export function verifyCommand(roleArn: string, options: InitOptions): string {
  return `gitlab-aws-oidc verify --role-arn ${roleArn} --project ${options.project} ${verifyArgs(options)}`.trim();
}

/** `destroy --role <name>` as it works from the working folder (also removing that role's jobs from the file). */
export function destroyCommand(options: InitOptions, roleName: string): string {
  const args = ['gitlab-aws-oidc destroy --role', roleName];
  // destroy looks for .gitlab-ci.yml at the top of the repository on its own.
  const defaultFile = resolve(options.repoRoot ?? options.cwd, '.gitlab-ci.yml');
  if (options.ciFile && resolve(options.ciFile) !== defaultFile) {
    args.push('--ci-file', shellQuote(shownPathFor(options.cwd, options.ciFile, options.repoRoot)));
  }
  if (options.profile) args.push('--profile', shellQuote(options.profile));
  return args.join(' ');
}

export function nextSteps(result: InitResult, options: InitOptions): string[] {
  const steps: string[] = [];
  if (result.status === 'planned' && options.dryRun) {
    const flags = [...new Set(result.plan.consents.map((c) => c.flag ?? CONSENT_FLAGS[c.consent]))];
    steps.push(
      options.offline
        ? 'Run again without --offline (with AWS credentials) to plan against your account.'
        : flags.length
          ? `Run again without --dry-run to apply this plan; it needs your explicit consent: ${flags.join(' ')} (or a terminal to ask you).`
          : 'Run again without --dry-run to apply this plan.',
    );
  }
  const ci = result.ciFile;
  const jobs = ci?.jobs ?? jobNamesFor();
  const mr = result.mergeRequest;
  if (mr) {
    if (mr.url) {
      steps.push(
        `Review and merge ${mr.iid !== undefined ? `!${mr.iid} ` : ''}${mr.url} (${mr.branch} → ${mr.targetBranch}): then the ${jobs.check} job proves the role can be assumed; jobs that need the role use \`extends: ${jobs.hidden}\`.`,
      );
    } else if (mr.action === 'create' && options.dryRun) {
      steps.push(
        `A run without --dry-run commits ${ci?.path ?? '.gitlab-ci.yml'} to ${mr.branch} and opens a merge request into ${mr.targetBranch}.`,
      );
    }
  } else if (ci && ci.action !== 'no-op' && !options.dryRun) {
    steps.push(
      `Commit and push ${ci.path}: the ${jobs.check} job proves the role can be assumed; jobs that need the role use \`extends: ${jobs.hidden}\`.`,
    );
  }
  if (ci?.verifyRuns) {
    steps.push(`The ${jobs.verify} job runs, with the role's credentials: ${ci.verifyRuns}.`);
  }
  for (const other of ci?.otherRoles ?? []) {
    const name = other.roleArn.slice(other.roleArn.lastIndexOf('/') + 1);
    steps.push(
      `${ci?.path} also has ${other.job} for role ${name}, which still trusts its refs; if this role replaces it, remove it and its jobs: ${destroyCommand(options, name)}`,
    );
  }
  if (result.ciFile?.backupPath) {
    steps.push(
      `Keep the backup ${shownPathFor(options.cwd, result.ciFile.backupPath, options.repoRoot)} out of git: add *.bak and *.bak.* to .gitignore (delete it once you no longer need it).`,
    );
  }
  if (!options.ciFile) {
    const vars = result.ciVariables;
    steps.push(
      vars
        ? `In your pipeline, give jobs an id_token with aud "${options.audience}" and set AWS_ROLE_ARN: $${vars.roleArn} and AWS_REGION: $${vars.region} (project CI/CD variables${vars.protected ? ', protected: only pipelines on protected refs get them' : ''}).`
        : `In your pipeline, give jobs an id_token with aud "${options.audience}" and set AWS_ROLE_ARN=${result.roleArn}.`,
    );
  }
  steps.push(`Check the trust from a laptop: ${verifyCommand(result.roleArn, options)}`);
  return steps;
}
