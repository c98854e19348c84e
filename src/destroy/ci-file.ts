/**
 * `destroy` and the pipeline file: which file to clean, whether it may be cleaned, the diff for the plan,
 * and the atomic write (with a `.bak`) once IAM is done.
 *
 * - `--ci-file PATH`: clean that file. Read and checked before any AWS call: a missing file, invalid YAML
 *   or jobs that still use the hidden job (without `--force`) are usage errors.
 * - `--no-ci-file`: never touch a file.
 * - Neither (CLI only, where the working folder is known): `.gitlab-ci.yml` at the top of the git
 *   repository (the working folder outside one) is cleaned when its generated hidden job sets AWS_ROLE_ARN to a role this run destroys; otherwise it
 *   is left alone and the plan says why. `--force` never applies to a file nobody named.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CliError, UsageError } from '../errors.js';
import { templatePath } from '../io/package-root.js';
import { CI_TEMPLATE_FILE, HIDDEN_JOB_NAME, MANAGED_MARKER } from '../render/ci-file.js';
import { diffLines, type LineDiff } from '../render/diff.js';
import { type UnmergeResult, unmergeCiFile } from '../render/unmerge.js';
import {
  diffPathFor,
  readTextFile,
  removeFileWithBackup,
  resolveWriteTarget,
  shownPathFor,
  type WriteFileAtomicResult,
  writeFileAtomic,
} from '../render/write-file.js';

export const DEFAULT_CI_FILE = '.gitlab-ci.yml';

export interface CiCleanupPlan {
  /** Absolute path. */
  path: string;
  /** Relative to the working folder when inside it or the repository (`../../.gitlab-ci.yml`). */
  shownPath: string;
  /** The folder the write must stay inside: the git top level, else the working folder. */
  root: string;
  /** Named with --ci-file. */
  explicit: boolean;
  /** Content read when planning. */
  before: string;
  unmerge: UnmergeResult;
  diff: LineDiff;
  warnings: string[];
}

export type CiCleanupCheck =
  | { kind: 'none' }
  | { kind: 'planned'; plan: CiCleanupPlan }
  | { kind: 'skipped'; shownPath: string; reason: string };

export interface CiCleanupInput {
  /** A path (--ci-file), false (--no-ci-file) or undefined (look for .gitlab-ci.yml in `cwd`). */
  ciFile: string | false | undefined;
  /** The working folder; without it (programmatic use) nothing is looked for. */
  cwd: string | undefined;
  /**
   * The top of the git work tree `cwd` is in: the default file is looked for there, and a --ci-file
   * (relative to `cwd`) must be inside it. Undefined outside a repository: `cwd` plays both parts.
   */
  repoRoot?: string | undefined;
  force: boolean;
}

/** Reads and plans the file. Runs before any AWS call; writes nothing. */
export async function prepareCiCleanup(input: CiCleanupInput): Promise<CiCleanupCheck> {
  if (input.ciFile === false) return { kind: 'none' };
  if (input.ciFile === undefined && input.cwd === undefined) return { kind: 'none' };
  const explicit = typeof input.ciFile === 'string';
  const base = input.cwd ?? process.cwd();
  const root = input.repoRoot ?? base;
  // GitLab reads the pipeline file at the top of the repository; a --ci-file is relative to where it was typed.
  const path =
    typeof input.ciFile === 'string' ? resolve(base, input.ciFile) : resolve(root, DEFAULT_CI_FILE);
  const shownPath = shownPathFor(base, path, input.repoRoot);
  const diffName = diffPathFor(input.repoRoot, path, shownPath);

  let text: string;
  try {
    const { target, stats } = await resolveWriteTarget(path, root);
    if (!stats) {
      if (!explicit) return { kind: 'none' };
      throw UsageError.field('--ci-file', `${shownPath} does not exist`);
    }
    text = await readTextFile(target, shownPath);
  } catch (error) {
    if (!explicit) {
      return error instanceof CliError
        ? { kind: 'skipped', shownPath, reason: error.message }
        : { kind: 'none' };
    }
    if (error instanceof UsageError && error.issues.length) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw UsageError.field('--ci-file', message);
  }

  let unmerge: UnmergeResult;
  try {
    const templateText = await readFile(templatePath('gitlab-ci', CI_TEMPLATE_FILE), 'utf8');
    unmerge = unmergeCiFile(text, {
      templateText,
      // Only for a file named on the command line.
      force: explicit && input.force,
      fileName: shownPath,
    });
  } catch (error) {
    if (explicit || !(error instanceof UsageError)) throw error;
    if (!text.includes(MANAGED_MARKER)) return { kind: 'none' };
    const hint = error.hint
      ? ` ${error.hint.replace('pass --force', `pass --ci-file ${shownPath} --force`)}`
      : '';
    return { kind: 'skipped', shownPath, reason: `${error.message}.${hint}` };
  }
  if (!explicit && unmerge.removed.length === 0) return { kind: 'none' };
  const diff = diffLines(text, unmerge.text, {
    fromLabel: `a/${diffName}`,
    toLabel: unmerge.deleteFile ? '/dev/null' : `b/${diffName}`,
  });
  return {
    kind: 'planned',
    plan: { path, shownPath, root, explicit, before: text, unmerge, diff, warnings: [...unmerge.warnings] },
  };
}

/**
 * After IAM was read: a file found on its own is only cleaned when its hidden job names a role this run
 * deletes. A named file is cleaned either way, with a warning when it names another role.
 */
export function decideCiCleanup(check: CiCleanupCheck, roleArns: string[]): CiCleanupCheck {
  if (check.kind !== 'planned') return check;
  const { plan } = check;
  const arn = plan.unmerge.roleArn;
  const ours = arn !== undefined && roleArns.some((a) => a.toLowerCase() === arn.toLowerCase());
  if (plan.explicit) {
    if (arn !== undefined && !ours && plan.unmerge.removed.length > 0) {
      plan.warnings.push(
        `${plan.shownPath} sets AWS_ROLE_ARN ${arn}, which is not a role this run deletes; its generated jobs are removed anyway (--ci-file).`,
      );
    }
    return check;
  }
  if (ours) return check;
  return {
    kind: 'skipped',
    shownPath: plan.shownPath,
    reason:
      arn === undefined
        ? `its generated jobs name no role (the ${HIDDEN_JOB_NAME} job is not the tool's); pass --ci-file ${plan.shownPath} to remove them anyway`
        : `its generated jobs use ${arn}, not a role this run deletes; pass --ci-file ${plan.shownPath} to remove them anyway`,
  };
}

/**
 * Writes the cleaned file atomically, keeping a backup (`<file>.bak`, or `.bak.1`… when one exists);
 * a file left with nothing but whitespace (init created it) is deleted instead, its bytes kept the same
 * way. Refuses if the file changed since planning.
 */
export function applyCiCleanup(plan: CiCleanupPlan): Promise<WriteFileAtomicResult> {
  if (plan.unmerge.deleteFile) {
    return removeFileWithBackup(plan.path, { repoRoot: plan.root, expectedCurrent: plan.before });
  }
  return writeFileAtomic(plan.path, plan.unmerge.text, {
    backup: true,
    repoRoot: plan.root,
    expectedCurrent: plan.before,
  });
}
