/**
 * The pipeline file side of init: plan the merge (once before AWS with a stand-in role ARN, so a
 * conflict stops the run before IAM is touched; again with the real ARN), summarise it for the result,
 * and write it after IAM.
 */
import { ciVariableKeys } from '../delivery/variables.js';
import { CliError, PartialApplyError, UsageError } from '../errors.js';
import { type CiJobNames, renderCiSnippet, unsetsStaticKeys } from '../render/ci-file.js';
import { chooseJobNames, type JobNamesChoice, parseRoleArn } from '../render/ci-jobs.js';
import { asRecord, ciYamlToJs } from '../render/ci-yaml.js';
import { type VerifySource, verifyJobRun } from '../render/verify-job.js';
import {
  applyCiFilePlan,
  type CiFilePlan,
  type CiSnippetSource,
  diffPathFor,
  planCiFile,
  planCiText,
  shownPathFor,
} from '../render/write-file.js';
import { VERSION } from '../version.js';
import { destroyCommand } from './next-steps.js';
import type { InitOptions } from './options.js';
import type { InitResult } from './result.js';

export interface PipelinePlan extends CiFilePlan {
  /** The jobs this role gets (the plain names for the first role of a file). */
  jobNames: CiJobNames;
  /** Other roles' hidden jobs in a file this role's jobs join (empty on a re-run): left as they are. */
  otherRoles: { job: string; roleArn: string }[];
  /** What the verify job runs with the role's credentials, in plain words. */
  verifyRuns?: string | undefined;
}

/** The file as a mapping, or undefined when it is not valid YAML (the merge reports that itself). */
function parsedOrUndefined(text: string): Record<string, unknown> | undefined {
  try {
    return asRecord(ciYamlToJs(text.replace(/^\uFEFF/, '')));
  } catch {
    return undefined;
  }
}

/** What the verify job runs, from the options (undefined: no verify job). */
export function verifySourceOf(options: InitOptions): VerifySource | undefined {
  if (!options.verifyJob) return undefined;
  if (options.verifyImage !== undefined) return { kind: 'image', image: options.verifyImage };
  if (options.verifyPackage !== undefined) return { kind: 'package', spec: options.verifyPackage };
  return undefined;
}

export interface PipelinePlanOpts {
  /** The account of `roleArn` is a stand-in (before any AWS call). */
  anyAccount?: boolean | undefined;
  /** The project's CI/CD variables (`--ci-variables`): hidden jobs that read the role ARN from one. */
  variables?: Readonly<Record<string, string>> | undefined;
}

/** The snippet for `roleArn`, rendered from the file as read (which names this role's jobs get). */
function pipelineSnippet(
  options: InitOptions,
  roleArn: string,
  fileName: string,
  opts: PipelinePlanOpts,
): { source: CiSnippetSource; choice: () => JobNamesChoice } {
  const verify = verifySourceOf(options);
  let choice: JobNamesChoice | undefined;
  const source = (before: string | undefined) => {
    // Offline, the account is a stand-in too.
    const anyAccount = opts.anyAccount ?? options.offline;
    choice = chooseJobNames(before, roleArn, { anyAccount, fileName, variables: opts.variables });
    // Once `migrate --apply` wrote the unset line, a later run keeps it: the keys may still be variables.
    const unsetStaticKeys =
      options.replacesStaticKey !== undefined ||
      (choice.found &&
        before !== undefined &&
        unsetsStaticKeys(parsedOrUndefined(before), choice.names.hidden));
    const text = renderCiSnippet({
      roleArn,
      region: options.region,
      audience: options.audience,
      refs: options.refs,
      verify,
      protectedOnly: options.protectedOnly,
      jobNames: choice.names,
      toolVersion: VERSION,
      ciVariables: options.ciVariables ? ciVariableKeys(choice.names) : undefined,
      unsetStaticKeys,
    });
    return { text, jobNames: choice.names };
  };
  return { source, choice: () => choice as JobNamesChoice };
}

/**
 * Plans the merge of the generated jobs for `roleArn` into `options.ciFile`. Writes nothing.
 * `anyAccount`: the account of `roleArn` is a stand-in (before any AWS call).
 */
export async function planPipeline(
  options: InitOptions & { ciFile: string },
  roleArn: string,
  opts: PipelinePlanOpts = {},
): Promise<PipelinePlan> {
  const root = options.repoRoot ?? options.cwd;
  const fileName = shownPathFor(options.cwd, options.ciFile, options.repoRoot);
  const snippet = pipelineSnippet(options, roleArn, fileName, opts);
  const plan = await planCiFile(options.ciFile, snippet.source, {
    force: options.force,
    // "Outside the repository" is judged against the git top level (the working folder outside git).
    repoRoot: root,
    // Messages name the file as seen from the working folder; diff labels are repository-relative.
    fileName,
    diffName: diffPathFor(options.repoRoot, options.ciFile, fileName),
  });
  return finishPipelinePlan(plan, snippet.choice(), options, roleArn, fileName);
}

/**
 * `--merge-request`: the same merge into a text read from GitLab (`before`; undefined: no file),
 * for the file `repoPath` of the repository; `where` names it in messages (`.gitlab-ci.yml on main`).
 */
export function planRemotePipeline(
  options: InitOptions,
  roleArn: string,
  before: string | undefined,
  repoPath: string,
  where: string,
  opts: PipelinePlanOpts = {},
): PipelinePlan {
  const snippet = pipelineSnippet(options, roleArn, where, opts);
  const plan = planCiText(repoPath, before, snippet.source, {
    force: options.force,
    fileName: where,
    diffName: repoPath,
  });
  return { ...finishPipelinePlan(plan, snippet.choice(), options, roleArn, where), shownPath: repoPath };
}

function finishPipelinePlan(
  plan: CiFilePlan,
  choice: JobNamesChoice,
  options: InitOptions,
  roleArn: string,
  fileName: string,
): PipelinePlan {
  const { names, found, others } = choice;
  const verify = verifySourceOf(options);
  const warnings = [...plan.warnings];
  // Said when this role's jobs join the file (a split, or a rename); a re-run of either role is quiet.
  const joining = found ? [] : others;
  // Whether that other role still exists is not known here (it may have been destroyed already).
  for (const other of joining) {
    const name = parseRoleArn(other.roleArn)?.name ?? other.roleArn;
    warnings.push(
      `${fileName} keeps "${other.names.hidden}" for role ${name} (${other.roleArn}); this run writes "${names.hidden}" for ${parseRoleArn(roleArn)?.name ?? roleArn} next to it. If role ${name} still exists, it keeps its trust policy: if --role-name renamed it, remove the old role with \`${destroyCommand(options, name)}\`.`,
    );
  }
  return {
    ...plan,
    warnings,
    jobNames: names,
    otherRoles: joining.map((o) => ({ job: o.names.hidden, roleArn: o.roleArn })),
    verifyRuns: verify ? verifyJobRun(verify).description : undefined,
  };
}

/** Before any AWS call: conflicts, invalid YAML and unwritable targets fail here. */
export async function preflightPipeline(
  options: InitOptions & { ciFile: string },
  roleArn: string,
): Promise<void> {
  await planPipeline(options, roleArn, { anyAccount: true }).catch((error: unknown) => {
    // A --ci-file in a folder that does not exist is bad input (exit 2), not a failure.
    if (error instanceof CliError && error.code === 'WRITE_FAILED') {
      throw UsageError.field(
        '--ci-file',
        error.message,
        'Create the folder first, or choose another --ci-file.',
      );
    }
    throw error;
  });
}

export function summarizePipeline(plan: PipelinePlan): NonNullable<InitResult['ciFile']> {
  return {
    path: plan.shownPath,
    action: plan.action,
    jobs: plan.jobNames,
    otherRoles: plan.otherRoles,
    verifyRuns: plan.verifyRuns,
    diff: plan.diff.text,
    added: plan.diff.added,
    removed: plan.diff.removed,
    conflicts: plan.conflicts,
    warnings: plan.warnings,
    legacyJwt: plan.legacyJwt,
    written: false,
  };
}

/**
 * Writes the planned file (atomically, with a backup). IAM is done by then: a failed write says so,
 * and a re-run finishes it (IAM then being a no-op).
 */
export async function writePipeline(plan: CiFilePlan, cwd: string, applied: string[]) {
  return applyCiFilePlan(plan, { backup: true, repoRoot: plan.repoRoot ?? cwd }).catch((error: unknown) => {
    if (applied.length === 0) throw error;
    throw new PartialApplyError(error, applied, [`write ${plan.path}`]);
  });
}
