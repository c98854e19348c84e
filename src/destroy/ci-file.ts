/**
 * `destroy` and the pipeline file: which file to clean, whether it may be cleaned, the diff for the plan,
 * and the atomic write (with a `.bak`) once IAM is done.
 *
 * - `--ci-file PATH`: clean that file. Read and checked before any AWS call: a missing file, invalid YAML
 *   or jobs that still use the hidden job (without `--force`) are usage errors.
 * - `--no-ci-file`: never touch a file.
 * - Neither (CLI only, where the working folder is known): `.gitlab-ci.yml` at the top of the git
 *   repository (the working folder outside one) is cleaned when its generated hidden job sets AWS_ROLE_ARN to a role this run destroys; otherwise it
 *   is left alone and the plan says why. A job written with `init --ci-variables` reads it from the
 *   project's CI/CD variable (`$AWS_OIDC_ROLE_ARN[_<ROLE>]`): its role is that variable's value, read
 *   through the GitLab API (gitlab-variables.ts); without it the file is left alone, saying so. `--force` never applies to a file nobody named.
 *
 * A file may hold the jobs of several roles (`.aws-oidc`, `.aws-oidc-<role-name>`, …): only the jobs of
 * the roles this run deletes (or `--role` names) go. With `--project`, a named file whose only role is
 * not one of them is cleaned anyway, with a warning (the role may be gone already).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CliError, UsageError } from '../errors.js';
import { templatePath } from '../io/package-root.js';
import { CI_TEMPLATE_FILE, HIDDEN_JOB_NAME, MANAGED_MARKER } from '../render/ci-file.js';
import { type CiRoleJobs, isSameRole, parseRoleArn, variableReference } from '../render/ci-jobs.js';
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
  /** The file in diff labels (relative to the repository top). */
  diffName: string;
  /** Named with --ci-file. */
  explicit: boolean;
  /** Content read when planning. */
  before: string;
  /** The shipped template, to plan again once the roles are known. */
  templateText: string;
  /** --force, for a named file. */
  force: boolean;
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
  /** `--role <name>`: only that role's jobs (known before any AWS call). */
  role?: string | undefined;
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
  const templateText = await readFile(templatePath('gitlab-ci', CI_TEMPLATE_FILE), 'utf8');
  // Only for a file named on the command line.
  const force = explicit && input.force;
  try {
    // With --role only that role's jobs are checked now. With --project and several roles, which of them
    // go is known once IAM was read: their dependents are checked then (still before anything is deleted).
    const role = input.role;
    const select = role === undefined ? undefined : (r: CiRoleJobs) => roleNameIs(r.roleArn, role);
    const later =
      role === undefined &&
      unmergeCiFile(text, { templateText, force: true, fileName: shownPath, select: () => false }).roles
        .length > 1;
    unmerge = unmergeCiFile(text, { templateText, force: force || later, fileName: shownPath, select });
  } catch (error) {
    if (explicit || !(error instanceof UsageError)) throw error;
    if (!text.includes(MANAGED_MARKER)) return { kind: 'none' };
    return { kind: 'skipped', shownPath, reason: skipReason(error, shownPath) };
  }
  if (!explicit && unmerge.roles.length === 0) return { kind: 'none' };
  return {
    kind: 'planned',
    plan: withUnmerge(
      { path, shownPath, diffName, root, explicit, before: text, templateText, force },
      unmerge,
    ),
  };
}

function withUnmerge(
  base: Omit<CiCleanupPlan, 'unmerge' | 'diff' | 'warnings'>,
  unmerge: UnmergeResult,
): CiCleanupPlan {
  const diff = diffLines(base.before, unmerge.text, {
    fromLabel: `a/${base.diffName}`,
    toLabel: unmerge.deleteFile ? '/dev/null' : `b/${base.diffName}`,
  });
  return { ...base, unmerge, diff, warnings: [...unmerge.warnings] };
}

function skipReason(error: UsageError, shownPath: string): string {
  const hint = error.hint
    ? ` ${error.hint.replace('pass --force', `pass --ci-file ${shownPath} --force`)}`
    : '';
  return `${error.message}.${hint}`;
}

/** Role `name` (in `account`, when known): role names are unique per account, case-insensitively. */
function roleNameIs(arn: string | undefined, name: string, account?: string): boolean {
  const role = arn === undefined ? undefined : parseRoleArn(arn);
  return (
    role !== undefined &&
    role.name.toLowerCase() === name.toLowerCase() &&
    (account === undefined || role.account === account)
  );
}

/**
 * After IAM was read: only the jobs of the roles this run deletes go. A file found on its own is left
 * alone when none of its roles is one of them. A named file is cleaned of those roles' jobs; when it has
 * a single role that is not one of them, that role's jobs go anyway, with a warning.
 */
export function decideCiCleanup(
  check: CiCleanupCheck,
  roleArns: string[],
  opts: {
    role?: string | undefined;
    account?: string | undefined;
    /**
     * The project's CI/CD variables (`{ key: value }`): a hidden job written with --ci-variables names
     * its role as `$AWS_OIDC_ROLE_ARN[_<ROLE>]`, and this is where that role is found.
     */
    variables?: Readonly<Record<string, string>> | undefined;
    /** Why the variables were not read (no token, --offline), for a job that names its role through one. */
    variablesUnchecked?: string | undefined;
  } = {},
): CiCleanupCheck {
  if (check.kind !== 'planned') return check;
  const { plan } = check;
  /** The role ARN a hidden job uses: its literal AWS_ROLE_ARN, or the value of the variable it reads. */
  const resolveArn = (arn: string | undefined) => {
    const key = arn === undefined ? undefined : variableReference(arn);
    return key === undefined ? arn : opts.variables?.[key];
  };
  // --role names the role even when it is gone from IAM already (a re-run after a failed write).
  const deleted = (raw: string | undefined) => {
    const arn = resolveArn(raw);
    return (
      arn !== undefined &&
      (roleArns.some((a) => a.toLowerCase() === arn.toLowerCase() || isSameRole(a, arn)) ||
        (opts.role !== undefined && roleNameIs(arn, opts.role, opts.account)))
    );
  };
  const roles = plan.unmerge.roles.map((r) => ({ ...r, roleArn: resolveArn(r.roleArn) ?? r.roleArn }));
  const matching = plan.unmerge.roles.filter((r) => deleted(r.roleArn));
  if (matching.length > 0) {
    let unmerge: UnmergeResult;
    try {
      unmerge = unmergeCiFile(plan.before, {
        templateText: plan.templateText,
        force: plan.force,
        fileName: plan.shownPath,
        select: (r) => deleted(r.roleArn),
      });
    } catch (error) {
      if (plan.explicit || !(error instanceof UsageError)) throw error;
      return { kind: 'skipped', shownPath: plan.shownPath, reason: skipReason(error, plan.shownPath) };
    }
    return { kind: 'planned', plan: withUnmerge(plan, unmerge) };
  }
  const described = roles.map((r) => `${r.names.hidden} (${r.roleArn ?? 'no role'})`).join(', ');
  if (plan.explicit) {
    // --project: the file's one role may be gone from IAM already (a re-run); --role names another role.
    if (opts.role === undefined && roles.length === 1 && plan.unmerge.removed.length > 0) {
      const arn = plan.unmerge.roleArn;
      if (arn !== undefined) {
        plan.warnings.push(
          `${plan.shownPath} sets AWS_ROLE_ARN ${arn}, which is not a role this run deletes; its generated jobs are removed anyway (--ci-file).`,
        );
      }
      return check;
    }
    if (roles.length === 0) return check;
    // None of its roles is deleted here: which one to remove is not this run's to guess.
    const unmerge = unmergeCiFile(plan.before, {
      templateText: plan.templateText,
      force: plan.force,
      fileName: plan.shownPath,
      select: () => false,
    });
    const next = withUnmerge(plan, unmerge);
    next.warnings.push(
      roles.length === 1
        ? `${plan.shownPath} has the jobs of ${described}, not a role this run deletes; nothing was removed from it.`
        : `${plan.shownPath} has the jobs of ${roles.length} roles, none of which this run deletes: ${described}; nothing was removed from it. Run destroy --role <name> for the role whose jobs should go.`,
    );
    return { kind: 'planned', plan: next };
  }
  const arns = roles.map((r) => r.roleArn).filter((a): a is string => a !== undefined);
  const unresolved = roles.flatMap((r) => {
    const key = r.roleArn === undefined ? undefined : variableReference(r.roleArn);
    return key === undefined ? [] : [key];
  });
  if (unresolved.length > 0) {
    return {
      kind: 'skipped',
      shownPath: plan.shownPath,
      reason: `its generated jobs read the role ARN from the CI/CD variable${unresolved.length === 1 ? '' : 's'} ${unresolved.join(', ')}, ${opts.variablesUnchecked !== undefined ? `which ${unresolved.length === 1 ? 'was' : 'were'} not checked (${opts.variablesUnchecked})` : `which the project does not have`}; pass --ci-file ${plan.shownPath} to remove them anyway`,
    };
  }
  return {
    kind: 'skipped',
    shownPath: plan.shownPath,
    reason:
      arns.length === 0
        ? `its generated jobs name no role (the ${HIDDEN_JOB_NAME} job is not the tool's); pass --ci-file ${plan.shownPath} to remove them anyway`
        : `its generated jobs use ${arns.join(', ')}, not a role this run deletes; pass --ci-file ${plan.shownPath} to remove them anyway`,
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
