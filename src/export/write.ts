/**
 * `--out DIR`: every file is checked before any is written (a refusal writes nothing), then each is
 * written atomically (temp file, fsync, rename). A file that exists is replaced only when an earlier
 * export wrote it (its first line is the marker), or with `--force` (a backup is kept then).
 */
import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { CliError, UsageError } from '../errors.js';
import { readTextFile, resolveWriteTarget, writeFileAtomic } from '../render/write-file.js';
import { isExportedFile } from './marker.js';
import type { ExportFile } from './types.js';

export interface ExportedFile {
  /** Relative to --out (or as printed). */
  path: string;
  bytes: number;
  sha256: string;
  /** With --out: whether the bytes on disk changed. */
  written?: boolean | undefined;
  /** With --out and --force: where the replaced file (not written by export) was kept. */
  backupPath?: string | undefined;
}

/** A file of the export as planned for --out: its target and what it holds now. */
export interface OutFilePlan {
  file: ExportFile;
  target: string;
  /** Content now (null: no such file). */
  before: string | null;
  /** It exists and an export did not write it (replaced only with --force). */
  foreign: boolean;
}

export function describeFile(file: ExportFile): ExportedFile {
  const bytes = Buffer.from(file.content, 'utf8');
  return { path: file.path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

function checkRelative(path: string): string {
  const clean = normalize(path);
  if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`)) {
    throw new CliError('EXPORT_PATH', `A renderer produced the path ${path}, outside --out.`);
  }
  return clean;
}

/**
 * Checks `dir` and every file against what exists, before AWS is read and before anything is written:
 * `dir` must be a folder (or not exist yet), each target a regular writable file or absent, and a file
 * export did not write is refused unless `force`.
 */
export async function planOutFiles(dir: string, files: ExportFile[], force: boolean): Promise<OutFilePlan[]> {
  const dirStats = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (dirStats && !dirStats.isDirectory()) {
    throw UsageError.field(
      '--out',
      `${dir} exists and is not a folder`,
      'Give a folder for the exported files.',
    );
  }
  const plans: OutFilePlan[] = [];
  for (const file of files) {
    const path = join(dir, checkRelative(file.path));
    const { target, stats } = dirStats ? await resolveWriteTarget(path) : { target: path, stats: undefined };
    const before = stats ? await readTextFile(target, path) : null;
    plans.push({ file, target, before, foreign: before !== null && !isExportedFile(before) });
  }
  const foreign = plans.filter((p) => p.foreign);
  if (foreign.length && !force) {
    throw UsageError.field(
      '--out',
      `${foreign.map((p) => p.target).join(', ')} ${foreign.length === 1 ? 'exists and was' : 'exist and were'} not written by gitlab-aws-oidc export`,
      'Choose an empty folder, move the file(s) away, or pass --force to replace them (a .bak copy is kept).',
    );
  }
  return plans;
}

/** Writes the planned files, each atomically; one that changed since it was planned is refused (FILE_CHANGED). */
export async function writeOutFiles(dir: string, plans: OutFilePlan[]): Promise<ExportedFile[]> {
  await mkdir(dir, { recursive: true });
  const written: ExportedFile[] = [];
  for (const plan of plans) {
    const result = await writeFileAtomic(plan.target, plan.file.content, {
      backup: plan.foreign,
      expectedCurrent: plan.before,
    });
    written.push({ ...describeFile(plan.file), written: result.changed, backupPath: result.backupPath });
  }
  return written;
}
