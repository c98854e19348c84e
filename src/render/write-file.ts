import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { link, lstat, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CliError, UsageError } from '../errors.js';
import type { CiJobNames } from './ci-file.js';
import { diffLines, type LineDiff } from './diff.js';
import { findLegacyJwtUsage, type LegacyJwtUsage, type MergeResult, mergeCiFile } from './merge.js';

export interface WriteFileAtomicOptions {
  /**
   * Keep the previous bytes (a true copy) next to the real file, same mode, when the content changes.
   * A backup is never overwritten: the first goes to `<file>.bak`, later ones to `<file>.bak.1`,
   * `.bak.2`, …; when one of them already holds exactly these bytes, it is reused instead.
   * So the only copy of a hand-written job replaced with `--force` survives every later run.
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
  // Bytes, not text: the backup is a true copy, and a file that stopped being UTF-8 counts as changed.
  const previous = stats ? await readFile(target) : undefined;
  if (opts.expectedCurrent !== undefined && !sameBytes(previous, opts.expectedCurrent)) {
    throw new CliError('FILE_CHANGED', `${path} changed since it was read; nothing was written`, {
      hint: 'Re-run the command to plan against the current file.',
    });
  }
  const next = Buffer.from(text, 'utf8');
  if (previous?.equals(next)) return { path: target, changed: false };

  const mode = stats ? stats.mode & 0o7777 : undefined;
  let backupPath: string | undefined;
  if (opts.backup && previous !== undefined) backupPath = await writeBackup(target, previous, mode, path);
  await replaceFile(target, next, mode, path);
  return { path: target, changed: true, backupPath };
}

/**
 * Deletes `path` (a symlink's target, like writeFileAtomic), keeping its bytes as a backup first
 * (same rules: never over an existing backup). Refuses when the file changed since `expectedCurrent`
 * was read. A missing file counts as done.
 */
export async function removeFileWithBackup(
  path: string,
  opts: { repoRoot?: string | undefined; expectedCurrent: string },
): Promise<WriteFileAtomicResult> {
  const { target, stats } = await resolveWriteTarget(path, opts.repoRoot);
  if (!stats) return { path: target, changed: false };
  const previous = await readFile(target);
  if (!sameBytes(previous, opts.expectedCurrent)) {
    throw new CliError('FILE_CHANGED', `${path} changed since it was read; nothing was deleted`, {
      hint: 'Re-run the command to plan against the current file.',
    });
  }
  const backupPath = await writeBackup(target, previous, stats.mode & 0o7777, path);
  try {
    await unlink(target);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new CliError('WRITE_FAILED', `Could not delete ${path}: ${message}`, {
      cause,
      hint: `The file is unchanged; its copy is in ${backupPath}.`,
    });
  }
  await syncDir(dirname(target));
  return { path: target, changed: true, backupPath };
}

function sameBytes(actual: Buffer | undefined, expected: string | null): boolean {
  if (expected === null || actual === undefined) return expected === null && actual === undefined;
  return actual.equals(Buffer.from(expected, 'utf8'));
}

// ---------- reading text strictly ----------

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads a text file the tool may rewrite. Its bytes must be UTF-8 (a byte order mark is kept, as
 * U+FEFF): decoding with replacement characters and writing the result back would destroy the
 * original bytes, so anything else is a UsageError naming the first bad byte.
 */
export async function readTextFile(path: string, shownPath: string = path): Promise<string> {
  return decodeUtf8Strict(await readFile(path), shownPath);
}

/** `bytes` as UTF-8, losslessly; a UsageError (exit 2) with the offset, line and column of the first bad byte. */
export function decodeUtf8Strict(bytes: Uint8Array, shownPath: string): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch (cause) {
    const offset = firstInvalidUtf8(bytes);
    const lines = STRICT_UTF8.decode(bytes.subarray(0, offset)).split('\n');
    const line = lines.length;
    const column = [...(lines[lines.length - 1] ?? '')].length + 1;
    const byte = `0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')}`;
    throw new UsageError(
      `${shownPath} is not valid UTF-8: byte ${byte} at offset ${offset} (line ${line}, column ${column})`,
      [{ field: `${shownPath}:${line}`, message: `invalid UTF-8 byte ${byte}` }],
      {
        cause,
        hint: `YAML files are UTF-8, and rewriting this one would replace those bytes. Convert it first (for example \`iconv -f latin1 -t utf-8 ${shownPath} > tmp && mv tmp ${shownPath}\`), then re-run.`,
      },
    );
  }
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (Unicode table 3-7). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i++;
      continue;
    }
    let trail: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) trail = 1;
    else if (lead === 0xe0) [trail, low] = [2, 0xa0];
    else if (lead === 0xed) [trail, high] = [2, 0x9f];
    else if (lead >= 0xe1 && lead <= 0xef) trail = 2;
    else if (lead === 0xf0) [trail, low] = [3, 0x90];
    else if (lead === 0xf4) [trail, high] = [3, 0x8f];
    else if (lead >= 0xf1 && lead <= 0xf3) trail = 3;
    else return i;
    for (let k = 1; k <= trail; k++) {
      const byte = bytes[i + k];
      if (byte === undefined || byte < (k === 1 ? low : 0x80) || byte > (k === 1 ? high : 0xbf)) return i;
    }
    i += trail + 1;
  }
  return bytes.length;
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
    if (isOutside(root, real)) {
      throw new UsageError(
        `Refusing to write ${path}: it resolves to ${real}, outside the repository ${root}`,
        [],
        {
          // Only a path that lies inside the repository as written reaches outside through a symlink.
          hint: isOutside(resolve(repoRoot), abs)
            ? `Pass a --ci-file path inside the repository ${root}, or write the snippet by hand.`
            : 'Replace the symlink with a regular file, or write the snippet by hand.',
        },
      );
    }
    target = real;
  }
  return { target, stats };
}

/** Whether `path` is not strictly inside folder `root` (both absolute). */
function isOutside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel);
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

/** Far more versions than any real use; past it something is wrong (a loop), so say so. */
const MAX_BACKUPS = 100;

/**
 * Copies `bytes` to the first free name of `<target>.bak`, `.bak.1`, …, or returns the backup that
 * already holds exactly these bytes. Never replaces an existing file (created with link(2), which fails
 * rather than overwrite, so a concurrent run cannot clobber one either).
 */
async function writeBackup(
  target: string,
  bytes: Buffer,
  mode: number | undefined,
  shownPath: string,
): Promise<string> {
  await checkBackupPath(target, shownPath);
  for (let n = 0; n < MAX_BACKUPS; n++) {
    const candidate = n === 0 ? `${target}.bak` : `${target}.bak.${n}`;
    const stats = await lstat(candidate).catch(ignoreMissing);
    if (stats?.isFile() && (await readFile(candidate)).equals(bytes)) return candidate;
    if (stats) continue;
    if (await createExclusive(candidate, bytes, mode, shownPath)) return candidate;
  }
  throw new CliError('WRITE_FAILED', `Could not back up ${shownPath}: ${MAX_BACKUPS} backups already exist`, {
    hint: `Delete the ${target}.bak* files you no longer need, then re-run. The original file is unchanged.`,
  });
}

/** Writes a temp file and links it to `path`: complete or absent, and never over an existing file. */
async function createExclusive(
  path: string,
  bytes: Buffer,
  mode: number | undefined,
  shownPath: string,
): Promise<boolean> {
  const temp = tempPathFor(path);
  try {
    await writeSynced(temp, bytes, mode);
    await link(temp, path);
    return true;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return false;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new CliError('WRITE_FAILED', `Could not back up ${shownPath} to ${path}: ${message}`, {
      cause,
      hint: 'The original file is unchanged.',
    });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

async function writeSynced(path: string, bytes: Buffer, mode: number | undefined): Promise<void> {
  const handle = await open(path, 'wx', mode ?? 0o644);
  try {
    await handle.writeFile(bytes);
    if (mode !== undefined) await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function replaceFile(target: string, bytes: Buffer, mode: number | undefined, shownPath: string) {
  const dir = dirname(target);
  const temp = tempPathFor(target);
  let created = false;
  try {
    created = true;
    await writeSynced(temp, bytes, mode);
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
  /** In the diff's `a/…` and `b/…` labels (repository-relative, like `git diff`); default `fileName`. */
  diffName?: string | undefined;
}

export interface CiFilePlan extends MergeResult {
  /** As given. */
  path: string;
  /** As messages name it (`fileName`). */
  shownPath: string;
  /** The folder the write must stay inside, as planned. */
  repoRoot?: string | undefined;
  /** Content read when planning (undefined: no file). */
  before: string | undefined;
  diff: LineDiff;
  /** Uses of the removed CI_JOB_JWT* variables in the current file. */
  legacyJwt: LegacyJwtUsage[];
}

/** The snippet, or how to render it from the file as read (which names a further role's jobs get). */
export type CiSnippetSource =
  | string
  | ((before: string | undefined) => { text: string; jobNames?: CiJobNames | undefined });

/** Reads `path` (if it exists), merges the snippet and returns the result with a diff preview. Writes nothing. */
export async function planCiFile(
  path: string,
  snippet: CiSnippetSource,
  opts: CiFilePlanOptions,
): Promise<CiFilePlan> {
  const fileName = opts.fileName ?? path;
  const { target, stats } = await resolveWriteTarget(path, opts.repoRoot);
  const before = stats ? await readTextFile(target, fileName) : undefined;
  if (before !== undefined) await checkBackupPath(target, fileName);
  return planCiText(path, before, snippet, opts);
}

/**
 * Pure: the merge of the snippet into `before` (the file's text, undefined: no file), as planCiFile
 * plans it for a local file; also for a file read from GitLab (`init --merge-request`), so both
 * deliver the same bytes.
 */
export function planCiText(
  path: string,
  before: string | undefined,
  snippet: CiSnippetSource,
  opts: CiFilePlanOptions,
): CiFilePlan {
  const fileName = opts.fileName ?? path;
  const rendered = typeof snippet === 'string' ? { text: snippet } : snippet(before);
  const merged = mergeCiFile(before, rendered.text, {
    force: opts.force,
    fileName,
    jobNames: rendered.jobNames,
  });
  const diffName = opts.diffName ?? fileName;
  const diff = diffLines(before ?? '', merged.text, {
    fromLabel: before === undefined ? '/dev/null' : `a/${diffName}`,
    toLabel: `b/${diffName}`,
  });
  return {
    ...merged,
    path,
    shownPath: fileName,
    repoRoot: opts.repoRoot,
    before,
    diff,
    legacyJwt: before === undefined ? [] : findLegacyJwtUsage(before),
  };
}

/** Writes a planned file, refusing when it changed since planning. A no-op plan writes nothing. */
export async function applyCiFilePlan(
  plan: CiFilePlan,
  opts: { backup: boolean; repoRoot?: string | undefined },
): Promise<WriteFileAtomicResult> {
  if (plan.action === 'no-op') return { path: resolve(plan.path), changed: false };
  return writeFileAtomic(plan.path, plan.text, {
    backup: opts.backup,
    repoRoot: opts.repoRoot ?? plan.repoRoot,
    expectedCurrent: plan.before ?? null,
  });
}

// ---------- how paths are shown ----------

/**
 * `path` as the user sees it from `cwd`: relative when it is inside `root` (the repository; `..` allowed,
 * `../../.gitlab-ci.yml` from a subfolder) or inside `cwd`, else absolute.
 */
export function shownPathFor(cwd: string, path: string, root?: string): string {
  const rel = relative(cwd, path);
  if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return rel;
  return root !== undefined && isInside(root, path) && isInside(root, cwd) && rel ? rel : path;
}

/** Relative to the repository when inside it, as `git diff` labels files; else `fallback`. */
export function diffPathFor(root: string | undefined, path: string, fallback: string): string {
  if (root === undefined || !isInside(root, path)) return fallback;
  return relative(root, path).split(sep).join('/');
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
