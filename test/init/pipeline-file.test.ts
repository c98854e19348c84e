/**
 * init and the bytes of .gitlab-ci.yml (issue 7, defect 1): a file that is not UTF-8 is refused before
 * any AWS call with every byte left as it was, and the backup of what the user wrote is a true copy that
 * later runs never overwrite.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { BASE_FLAGS, runInitWith, tempDir } from './helpers.js';

let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  aws = createFakeAws({ account: '111122223333' });
  tmp = tempDir();
});
afterEach(() => {
  aws.restore();
  tmp.cleanup();
});

const ciPath = () => join(tmp.dir, '.gitlab-ci.yml');

describe('init refuses a pipeline file that is not UTF-8', () => {
  // Windows-1252 "naïve" (0xEF 0x76 is no UTF-8 sequence) in a comment, and a CRLF file.
  const bytes = Buffer.concat([
    Buffer.from('# na'),
    Buffer.from([0xef, 0x76]),
    Buffer.from('e\r\nbuild:\r\n  script: [make]\r\n'),
  ]);

  it('exits 2 naming the file and the byte, with zero AWS calls and the bytes unchanged', async () => {
    writeFileSync(ciPath(), bytes);
    const error = await runInitWith(BASE_FLAGS, tmp.dir, { aws }).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('.gitlab-ci.yml is not valid UTF-8: byte 0xef at offset 4 (line 1, column 5)');
    expect(aws.calls()).toEqual([]);
    expect(readFileSync(ciPath()).equals(bytes)).toBe(true);
    expect(readdirSync(tmp.dir)).toEqual(['.gitlab-ci.yml']);
  });

  it('refuses it under --dry-run too (the plan would show a lossy diff)', async () => {
    writeFileSync(ciPath(), bytes);
    await expect(runInitWith({ ...BASE_FLAGS, dryRun: true }, tmp.dir, { aws })).rejects.toBeInstanceOf(
      UsageError,
    );
    expect(aws.calls()).toEqual([]);
  });
});

describe('init keeps the backup of what the user wrote', () => {
  it('the .bak stays byte-identical to the original across two --force runs', async () => {
    // A hand-written job with the tool's name, no final newline, a non-ASCII comment.
    const original = Buffer.from('# déploiement\naws-oidc-check:\n  script: [echo mine]', 'utf8');
    writeFileSync(ciPath(), original);
    const first = await runInitWith({ ...BASE_FLAGS, force: true }, tmp.dir, { aws });
    expect(first.result.ciFile?.backupPath).toBe(`${ciPath()}.bak`);
    const afterFirst = readFileSync(ciPath());

    // A later run that changes the file (another branch) must not replace the only copy of the job.
    // (A new branch widens the role's trust: --allow-widening.)
    const second = await runInitWith(
      { ...BASE_FLAGS, branch: ['main', 'release'], force: true, allowWidening: true },
      tmp.dir,
      { aws },
    );
    expect(second.result.ciFile?.written).toBe(true);
    expect(readFileSync(`${ciPath()}.bak`).equals(original)).toBe(true);
    expect(second.result.ciFile?.backupPath).toBe(`${ciPath()}.bak.1`);
    expect(readFileSync(`${ciPath()}.bak.1`).equals(afterFirst)).toBe(true);
    expect(second.result.nextSteps).toContain(
      'Keep the backup .gitlab-ci.yml.bak.1 out of git: add *.bak and *.bak.* to .gitignore (delete it once you no longer need it).',
    );

    // Same inputs again: nothing written, no new backup.
    await runInitWith({ ...BASE_FLAGS, branch: ['main', 'release'], force: true }, tmp.dir, { aws });
    expect(readdirSync(tmp.dir).sort()).toEqual([
      '.gitlab-ci.yml',
      '.gitlab-ci.yml.bak',
      '.gitlab-ci.yml.bak.1',
    ]);
  });
});
