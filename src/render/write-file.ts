import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { CliError, UsageError } from '../errors.js';
import { diffLines, type LineDiff } from './diff.js';
import { findLegacyJwtUsage, type LegacyJwtUsage, type MergeResult, mergeCiFile } from './merge.js';

export interface WriteFileAtomicOptions {
  /**
   * Keep the previous content in `<file>.bak` (next to the real file, same mode) when the content changes.
   * One backup: each changing write replaces the previous `.bak`.
   */
  backup: boolean;
  /** When set, refuse to write anywhere (symlinks and symlinked folders resolved) outside this folder. */
  repoRoot?: string | undefined;
  /**
   * Optimistic check: the content the caller planned against (`null` = the file must not exist).
   * When the file changed in between, nothing is written.
   */
  expectedCurrent?: string | null | undefined;
}

export interface WriteFileAtomicResult {
  /** The file actually written: the symlink's target when `path` is a symlink. */
  path: string;
  changed: boolean;
  backupPath?: string | undefined;
}

/**
 * Writes `text` to `path` so that readers see the old or the new file, never a partial one: a temp file in
 * the same folder, fsync, rename over the target, then a best-effort fsync of the folder. Keeps the existing
 * file's mode; a symlink is followed (the link stays a link). Never leaves the temp file behind.
 */
export async function writeFileAtomic(
  path: string,
  text: string,
  opts: WriteFileAtomicOptions,
): Promise<WriteFileAtomicResult> {
  const { target, stats } = await resolveWriteTarget(path, opts.repoRoot);
  const previous = stats ? await readFile(target, 'utf8') : undefined;
  if (opts.expectedCurrent !== undefined && (previous ?? null) !== opts.expectedCurrent) {
    throw new CliError('FILE_CHANGED', `${path} changed since it was read; nothing was written`, {
      hint: 'Re-run the command to plan against the current file.',
    });
  }
  if (previous === text) return { path: target, changed: false };

  const mode = stats ? stats.mode & 0o7777 : undefined;
  let backupPath: string | undefined;
  if (opts.backup && previous !== undefined) {
    backupPath = await checkBackupPath(target, path);
    await replaceFile(backupPath, previous, mode, path);
  }
  await replaceFile(target, text, mode, path);
  return { path: target, changed: true, backupPath };
}

/**
 * Where a write to `path` lands, after symlinks. Refuses symlinks that dangle or point at something other
 * than a regular file, and (with `repoRoot`) anything that resolves outside the repository.
 */
export async function resolveWriteTarget(
  path: string,
  repoRoot?: string,
): Promise<{ target: string; stats: Stats | undefined }> {
  const abs = resolve(path);
  let target = abs;
  let stats = await lstat(abs).catch(ignoreMissing);
  if (stats?.isSymbolicLink()) {
    try {
      target = await realpath(abs);
    } catch (cause) {
      throw new UsageError(`Refusing to write ${path}: it is a symlink to a missing file`, [], { cause });
    }
    stats = await stat(target);
  }
  if (stats && !stats.isFile()) throw new UsageError(`Refusing to write ${path}: it is not a regular file`);
  // rename(2) would replace it anyway (only the folder's permission counts): honour read-only on purpose.
  if (stats && (stats.mode & 0o222) === 0) {
    throw new UsageError(
      `Refusing to write ${path}: it is read-only (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')})`,
      [],
      { hint: 'Make it writable (chmod u+w) to let gitlab-aws-oidc change it, or pass --no-ci-file.' },
    );
  }

  if (repoRoot !== undefined) {
    const root = await realpath(repoRoot);
    const realDir = await realpath(dirname(target)).catch((cause: unknown) => {
      throw new CliError('WRITE_FAILED', `Cannot write ${path}: folder ${dirname(target)} does not exist`, {
        cause,
      });
    });
    const real = join(realDir, basename(target));
    const rel = relative(root, real);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new UsageError(
        `Refusing to write ${path}: it resolves to ${real}, outside the repository ${root}`,
        [],
        {
          hint: 'Replace the symlink with a regular file, or write the snippet by hand.',
        },
      );
    }
    target = real;
  }
  return { target, stats };
}

/** `<target>.bak`, refused when something other than a file or a symlink is in the way. */
async function checkBackupPath(target: string, shownPath: string): Promise<string> {
  const backupPath = `${target}.bak`;
  const stats = await lstat(backupPath).catch(ignoreMissing);
  if (stats && !stats.isFile() && !stats.isSymbolicLink()) {
    throw new UsageError(
      `Refusing to write ${shownPath}: its backup ${backupPath} exists and is not a regular file`,
      [],
      { hint: `Move ${backupPath} away, or pass --no-ci-file.` },
    );
  }
  return backupPath;
}

async function replaceFile(target: string, text: string, mode: number | undefined, shownPath: string) {
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let created = false;
  try {
    const handle = await open(temp, 'wx', mode ?? 0o644);
    created = true;
    try {
      await handle.writeFile(text, 'utf8');
      if (mode !== undefined) await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    created = false;
  } catch (cause) {
    if (created) await unlink(temp).catch(() => undefined);
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new CliError('WRITE_FAILED', `Could not write ${shownPath}: ${message}`, {
      cause,
      hint: 'The original file is unchanged.',
    });
  }
  await syncDir(dir);
}

/** Makes the rename durable; not every platform lets a folder be opened and fsynced, which is fine. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}

function ignoreMissing(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw error;
}

// ---------- plan / apply for .gitlab-ci.yml ----------

export interface CiFilePlanOptions {
  force: boolean;
  repoRoot?: string | undefined;
  /** Shown in messages; default: `path` as given. */
  fileName?: string | undefined;
}

export interface CiFilePlan extends MergeResult {
  /** As given. */
  path: string;
  /** Content read when planning (undefined: no file). */
  before: string | undefined;
  diff: LineDiff;
  /** Uses of the removed CI_JOB_JWT* variables in the current file. */
  legacyJwt: LegacyJwtUsage[];
}

/** Reads `path` (if it exists), merges the snippet and returns the result with a diff preview. Writes nothing. */
export async function planCiFile(
  path: string,
  snippet: string,
  opts: CiFilePlanOptions,
): Promise<CiFilePlan> {
  const fileName = opts.fileName ?? path;
  const { target, stats } = await resolveWriteTarget(path, opts.repoRoot);
  const before = stats ? await readFile(target, 'utf8') : undefined;
  if (before !== undefined) await checkBackupPath(target, fileName);
  const merged = mergeCiFile(before, snippet, { force: opts.force, fileName });
  const diff = diffLines(before ?? '', merged.text, {
    fromLabel: before === undefined ? '/dev/null' : `a/${fileName}`,
    toLabel: `b/${fileName}`,
  });
  return { ...merged, path, before, diff, legacyJwt: before === undefined ? [] : findLegacyJwtUsage(before) };
}

/** Writes a planned file, refusing when it changed since planning. A no-op plan writes nothing. */
export async function applyCiFilePlan(
  plan: CiFilePlan,
  opts: { backup: boolean; repoRoot?: string | undefined },
): Promise<WriteFileAtomicResult> {
  if (plan.action === 'no-op') return { path: resolve(plan.path), changed: false };
  return writeFileAtomic(plan.path, plan.text, { ...opts, expectedCurrent: plan.before ?? null });
}
