/**
 * The pipeline file side of init: plan the merge (once before AWS with a stand-in role ARN, so a
 * conflict stops the run before IAM is touched; again with the real ARN), summarise it for the result,
 * and write it after IAM.
 */
import { CliError, PartialApplyError, UsageError } from '../errors.js';
import { renderCiSnippet } from '../render/ci-file.js';
import {
  applyCiFilePlan,
  type CiFilePlan,
  diffPathFor,
  planCiFile,
  shownPathFor,
} from '../render/write-file.js';
import { VERSION } from '../version.js';
import type { InitOptions } from './options.js';
import type { InitResult } from './result.js';

/** Plans the merge of the generated jobs for `roleArn` into `options.ciFile`. Writes nothing. */
export function planPipeline(
  options: InitOptions & { ciFile: string },
  roleArn: string,
): Promise<CiFilePlan> {
  const snippet = renderCiSnippet({
    roleArn,
    region: options.region,
    audience: options.audience,
    refs: options.refs,
    includeVerifyJob: options.verifyJob,
    toolVersion: VERSION,
  });
  const root = options.repoRoot ?? options.cwd;
  const fileName = shownPathFor(options.cwd, options.ciFile, options.repoRoot);
  return planCiFile(options.ciFile, snippet, {
    force: options.force,
    // "Outside the repository" is judged against the git top level (the working folder outside git).
    repoRoot: root,
    // Messages name the file as seen from the working folder; diff labels are repository-relative.
    fileName,
    diffName: diffPathFor(options.repoRoot, options.ciFile, fileName),
  });
}

/** Before any AWS call: conflicts, invalid YAML and unwritable targets fail here. */
export async function preflightPipeline(
  options: InitOptions & { ciFile: string },
  roleArn: string,
): Promise<void> {
  await planPipeline(options, roleArn).catch((error: unknown) => {
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

export function summarizePipeline(plan: CiFilePlan, _cwd: string): NonNullable<InitResult['ciFile']> {
  return {
    path: plan.shownPath,
    action: plan.action,
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
