import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CliError, UsageError } from '../../src/errors.js';
import { renderCiSnippet } from '../../src/render/ci-file.js';
import {
  applyCiFilePlan,
  decodeUtf8Strict,
  planCiFile,
  writeFileAtomic,
} from '../../src/render/write-file.js';
import { baseInput, fixture } from './helpers.js';

// Lets a test make rename(2) fail, as it would across devices or on a full/readonly filesystem.
const renameControl = vi.hoisted(() => ({ fail: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    rename: async (from: string, to: string) => {
      if (renameControl.fail)
        throw Object.assign(new Error('EXDEV: simulated rename failure'), { code: 'EXDEV' });
      return actual.rename(from, to);
    },
  };
});

let dir: string;
let repo: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gao-write-'));
  repo = join(dir, 'repo');
  mkdirSync(repo);
  renameControl.fail = false;
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const ls = (folder: string) => readdirSync(folder).sort();

describe('writeFileAtomic', () => {
  it('creates a new file without a backup', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    const result = await writeFileAtomic(file, 'a: 1\n', { backup: true, repoRoot: repo });
    expect(result).toEqual({ path: file, changed: true, backupPath: undefined });
    expect(readFileSync(file, 'utf8')).toBe('a: 1\n');
    expect(ls(repo)).toEqual(['.gitlab-ci.yml']);
  });

  it('replaces content, keeps the previous one in <file>.bak and preserves the mode', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    writeFileSync(file, 'old: 1\n');
    chmodSync(file, 0o640);
    const result = await writeFileAtomic(file, 'new: 2\n', { backup: true, repoRoot: repo });
    expect(result).toEqual({ path: file, changed: true, backupPath: `${file}.bak` });
    expect(readFileSync(file, 'utf8')).toBe('new: 2\n');
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe('old: 1\n');
    expect(statSync(file).mode & 0o7777).toBe(0o640);
    expect(statSync(`${file}.bak`).mode & 0o7777).toBe(0o640);
    expect(ls(repo)).toEqual(['.gitlab-ci.yml', '.gitlab-ci.yml.bak']);
  });

  it('writes nothing (and no backup) when the content is unchanged', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    writeFileSync(file, 'same: 1\n');
    const inode = statSync(file).ino;
    const result = await writeFileAtomic(file, 'same: 1\n', { backup: true });
    expect(result.changed).toBe(false);
    expect(statSync(file).ino).toBe(inode);
    expect(ls(repo)).toEqual(['.gitlab-ci.yml']);
  });

  it('leaves the original intact and no temp file behind when the rename fails', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    writeFileSync(file, 'original: true\n');
    renameControl.fail = true;
    const error = await writeFileAtomic(file, 'replacement: true\n', { backup: false }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe('WRITE_FAILED');
    expect((error as CliError).message).toContain('simulated rename failure');
    expect(readFileSync(file, 'utf8')).toBe('original: true\n');
    expect(ls(repo)).toEqual(['.gitlab-ci.yml']);
  });

  it('follows a symlink inside the repository and keeps the link', async () => {
    mkdirSync(join(repo, 'ci'));
    const real = join(repo, 'ci', 'pipeline.yml');
    writeFileSync(real, 'old: 1\n');
    const link = join(repo, '.gitlab-ci.yml');
    symlinkSync('ci/pipeline.yml', link);
    const result = await writeFileAtomic(link, 'new: 1\n', { backup: true, repoRoot: repo });
    expect(result.path).toBe(real);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('new: 1\n');
    expect(readFileSync(`${real}.bak`, 'utf8')).toBe('old: 1\n');
  });

  it('refuses a symlink pointing outside the repository', async () => {
    const outside = join(dir, 'elsewhere.yml');
    writeFileSync(outside, 'outside: 1\n');
    const link = join(repo, '.gitlab-ci.yml');
    symlinkSync(outside, link);
    const error = await writeFileAtomic(link, 'x: 1\n', { backup: true, repoRoot: repo }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/outside the repository/);
    expect((error as UsageError).hint).toBe(
      'Replace the symlink with a regular file, or write the snippet by hand.',
    );
    expect(readFileSync(outside, 'utf8')).toBe('outside: 1\n');
    expect(ls(dir)).toEqual(['elsewhere.yml', 'repo']);
    expect(ls(repo)).toEqual(['.gitlab-ci.yml']);
  });

  it('a path outside the repository with no symlink on the way: the hint names no symlink', async () => {
    const outside = join(dir, 'elsewhere.yml');
    const error = await writeFileAtomic(outside, 'x: 1\n', { backup: true, repoRoot: repo }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/outside the repository/);
    expect((error as UsageError).hint).toBe(
      `Pass a --ci-file path inside the repository ${realpathSync(repo)}, or write the snippet by hand.`,
    );
    expect(ls(dir)).toEqual(['repo']);
  });

  it('refuses a dangling symlink and a non-file target', async () => {
    const link = join(repo, '.gitlab-ci.yml');
    symlinkSync(join(repo, 'missing.yml'), link);
    await expect(writeFileAtomic(link, 'x: 1\n', { backup: false })).rejects.toThrow(
      /symlink to a missing file/,
    );
    mkdirSync(join(repo, 'folder.yml'));
    await expect(writeFileAtomic(join(repo, 'folder.yml'), 'x\n', { backup: false })).rejects.toThrow(
      /not a regular file/,
    );
  });

  it('refuses to write when the file changed since it was planned', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    writeFileSync(file, 'edited: meanwhile\n');
    await expect(
      writeFileAtomic(file, 'x: 1\n', { backup: false, expectedCurrent: 'planned: before\n' }),
    ).rejects.toMatchObject({ code: 'FILE_CHANGED' });
    await expect(
      writeFileAtomic(file, 'x: 1\n', { backup: false, expectedCurrent: null }),
    ).rejects.toMatchObject({
      code: 'FILE_CHANGED',
    });
    expect(readFileSync(file, 'utf8')).toBe('edited: meanwhile\n');
  });
});

describe('planCiFile / applyCiFilePlan', () => {
  const snippet = renderCiSnippet(baseInput);

  it('plans a new file as a pure addition and applies it', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    const plan = await planCiFile(file, snippet, {
      force: false,
      repoRoot: repo,
      fileName: '.gitlab-ci.yml',
    });
    expect(plan.action).toBe('create');
    expect(plan.before).toBeUndefined();
    expect(plan.diff.removed).toBe(0);
    expect(plan.diff.added).toBe(snippet.trimEnd().split('\n').length);
    expect(plan.diff.text.split('\n').slice(0, 2)).toEqual(['--- /dev/null', '+++ b/.gitlab-ci.yml']);
    expect(ls(repo)).toEqual([]);
    await applyCiFilePlan(plan, { backup: true, repoRoot: repo });
    expect(readFileSync(file, 'utf8')).toBe(snippet);
  });

  it('plans a merge into an existing file with a diff and legacy-JWT findings; re-planning is a no-op', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    const existing = fixture('legacy-jwt.yml');
    writeFileSync(file, existing);
    const plan = await planCiFile(file, snippet, { force: false, repoRoot: repo });
    expect(plan.action).toBe('update');
    expect(plan.legacyJwt.map((u) => u.variable)).toEqual(['CI_JOB_JWT_V2', 'CI_JOB_JWT_V1', 'CI_JOB_JWT']);
    expect(plan.diff.removed).toBe(0);
    expect(plan.diff.added).toBe(snippet.trimEnd().split('\n').length + 1);
    expect(plan.diff.text).toContain('+aws-oidc-check:');
    const written = await applyCiFilePlan(plan, { backup: true, repoRoot: repo });
    expect(written.backupPath).toBe(`${file}.bak`);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(existing);

    const again = await planCiFile(file, snippet, { force: false, repoRoot: repo });
    expect(again.action).toBe('no-op');
    expect(again.diff).toEqual({ text: '', added: 0, removed: 0 });
    const mtime = statSync(file).mtimeMs;
    expect((await applyCiFilePlan(again, { backup: true, repoRoot: repo })).changed).toBe(false);
    expect(statSync(file).mtimeMs).toBe(mtime);
  });

  it('surfaces the conflict UsageError while planning', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    writeFileSync(file, fixture('user-job-conflict.yml'));
    await expect(planCiFile(file, snippet, { force: false })).rejects.toBeInstanceOf(UsageError);
    const forced = await planCiFile(file, snippet, { force: true });
    expect(forced.conflicts).toEqual(['aws-oidc-check']);
  });

  // A rename replaces a read-only file (only the folder's permission counts), so "read-only" has to be
  // honoured on purpose; and a folder named like the backup would only fail after IAM was changed.
  it('refuses, while planning, a read-only pipeline file and a backup path that is not a file', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    writeFileSync(file, 'build:\n  script: [make]\n');
    chmodSync(file, 0o444);
    await expect(planCiFile(file, snippet, { force: false, repoRoot: repo })).rejects.toThrow(/read-only/);
    await expect(writeFileAtomic(file, 'x: 1\n', { backup: true, repoRoot: repo })).rejects.toThrow(
      /read-only/,
    );
    chmodSync(file, 0o644);
    mkdirSync(`${file}.bak`);
    const error = await planCiFile(file, snippet, { force: false, repoRoot: repo }).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/\.gitlab-ci\.yml\.bak/);
    expect(readFileSync(file, 'utf8')).toBe('build:\n  script: [make]\n');
    expect(ls(repo)).toEqual(['.gitlab-ci.yml', '.gitlab-ci.yml.bak']);
  });

  it('refuses to plan through a symlink leaving the repository', async () => {
    const outside = join(dir, 'ci.yml');
    writeFileSync(outside, 'x:\n  script: [a]\n');
    symlinkSync(outside, join(repo, '.gitlab-ci.yml'));
    await expect(
      planCiFile(join(repo, '.gitlab-ci.yml'), snippet, { force: false, repoRoot: repo }),
    ).rejects.toThrow(/outside the repository/);
  });
});

// Issue 7, defect 1: bytes that are not UTF-8 must never be decoded lossily (U+FFFD) and written back.
describe('pipeline files that are not valid UTF-8', () => {
  const snippet = renderCiSnippet(baseInput);
  // "café" in Latin-1 (0xE9 alone) on line 3.
  const latin1 = Buffer.concat([
    Buffer.from('build:\n  script:\n    - echo caf'),
    Buffer.from([0xe9]),
    Buffer.from('\n'),
  ]);

  it('refuses to plan, naming the file, the byte offset and the line, and changes no byte', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    writeFileSync(file, latin1);
    const error = await planCiFile(file, snippet, {
      force: false,
      repoRoot: repo,
      fileName: '.gitlab-ci.yml',
    }).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      '.gitlab-ci.yml is not valid UTF-8: byte 0xe9 at offset 31 (line 3, column 15)',
    );
    expect(error.issues).toEqual([{ field: '.gitlab-ci.yml:3', message: 'invalid UTF-8 byte 0xe9' }]);
    expect(error.hint).toMatch(/UTF-8/);
    expect(readFileSync(file).equals(latin1)).toBe(true);
    expect(ls(repo)).toEqual(['.gitlab-ci.yml']);
  });

  it('finds truncated sequences, overlongs and surrogates, and accepts a literal U+FFFD', () => {
    const at = (bytes: number[]) =>
      (() => {
        try {
          decodeUtf8Strict(Buffer.from(bytes), 'f');
          return undefined;
        } catch (e) {
          return (e as UsageError).message;
        }
      })();
    expect(at([0x61, 0xc3])).toMatch(/byte 0xc3 at offset 1 \(line 1, column 2\)/);
    expect(at([0x0a, 0xc0, 0xaf])).toMatch(/byte 0xc0 at offset 1 \(line 2, column 1\)/);
    expect(at([0xed, 0xa0, 0x80])).toMatch(/byte 0xed at offset 0/);
    expect(at([0xf4, 0x90, 0x80, 0x80])).toMatch(/byte 0xf4 at offset 0/);
    expect(at([0xe2, 0x82, 0x41])).toMatch(/byte 0xe2 at offset 0/);
    expect(decodeUtf8Strict(Buffer.from('é ✓ 😀 \uFFFD\n'), 'f')).toBe('é ✓ 😀 \uFFFD\n');
  });

  it('refuses to write over a file that became non-UTF-8 after planning', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    writeFileSync(file, latin1);
    await expect(
      writeFileAtomic(file, 'x: 1\n', { backup: true, expectedCurrent: 'build: {}\n' }),
    ).rejects.toMatchObject({ code: 'FILE_CHANGED' });
    expect(readFileSync(file).equals(latin1)).toBe(true);
  });

  it('keeps a UTF-8 byte order mark first, and the backup keeps it too', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    const original = Buffer.from('\uFEFFbuild:\n  script: [make]\n', 'utf8');
    writeFileSync(file, original);
    const plan = await planCiFile(file, snippet, { force: false, repoRoot: repo });
    expect(plan.before?.startsWith('\uFEFF')).toBe(true);
    await applyCiFilePlan(plan, { backup: true, repoRoot: repo });
    const written = readFileSync(file);
    expect([...written.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(written.toString('utf8')).toContain('build:\n  script: [make]\n');
    expect(readFileSync(`${file}.bak`).equals(original)).toBe(true);
  });
});

// Issue 7, defect 1: a later run must not overwrite the only copy of what the user had.
describe('backups are never overwritten', () => {
  it('keeps the first <file>.bak and writes <file>.bak.1, .bak.2 for later versions', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    writeFileSync(file, 'human: 1\n');
    expect((await writeFileAtomic(file, 'tool: 1\n', { backup: true })).backupPath).toBe(`${file}.bak`);
    expect((await writeFileAtomic(file, 'tool: 2\n', { backup: true })).backupPath).toBe(`${file}.bak.1`);
    expect((await writeFileAtomic(file, 'tool: 3\n', { backup: true })).backupPath).toBe(`${file}.bak.2`);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe('human: 1\n');
    expect(readFileSync(`${file}.bak.1`, 'utf8')).toBe('tool: 1\n');
    expect(readFileSync(`${file}.bak.2`, 'utf8')).toBe('tool: 2\n');
  });

  it('reuses a backup that already holds the same bytes instead of adding another', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    writeFileSync(file, 'human: 1\n');
    await writeFileAtomic(file, 'tool: 1\n', { backup: true });
    await writeFileAtomic(file, 'human: 1\n', { backup: true });
    const third = await writeFileAtomic(file, 'tool: 1\n', { backup: true });
    expect(third.backupPath).toBe(`${file}.bak`);
    expect(ls(repo)).toEqual(['.gitlab-ci.yml', '.gitlab-ci.yml.bak', '.gitlab-ci.yml.bak.1']);
    expect(readFileSync(`${file}.bak.1`, 'utf8')).toBe('tool: 1\n');
  });

  it('copies the previous file byte for byte (CRLF, no final newline, BOM)', async () => {
    const file = join(repo, '.gitlab-ci.yml');
    const original = Buffer.from('\uFEFFa: 1\r\nb: "\u00e9"', 'utf8');
    writeFileSync(file, original);
    await writeFileAtomic(file, 'c: 1\n', { backup: true });
    expect(readFileSync(`${file}.bak`).equals(original)).toBe(true);
  });
});
