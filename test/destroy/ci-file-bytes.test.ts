/**
 * destroy and the bytes of the pipeline file (issue 7, defects 1 and 8): init then destroy gives the
 * file back byte for byte, a file init created is deleted (not left empty), and a --ci-file that is not
 * UTF-8 is refused before any AWS call.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDestroyCommand } from '../../src/destroy/command.js';
import { parseDestroyFlags } from '../../src/destroy/options.js';
import { runDestroy } from '../../src/destroy/run.js';
import { PartialApplyError, UsageError } from '../../src/errors.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { BASE_FLAGS, runInitWith, tempDir } from '../init/helpers.js';
import { fixture, ROUND_TRIP_FIXTURES, VERIFY_IMAGE, whitespaceVariants } from '../render/helpers.js';

const PROJECT = BASE_FLAGS.project as string;

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
const destroy = (flags: Record<string, unknown> = {}) =>
  runDestroy(parseDestroyFlags({ project: PROJECT, yes: true, ...flags }, { cwd: tmp.dir }), {
    aws: () => aws.ports,
  });

describe('init then destroy round-trips the pipeline file byte for byte', () => {
  for (const name of ROUND_TRIP_FIXTURES) {
    it(`${name}: every whitespace variant`, async () => {
      for (const [variant, text] of Object.entries(whitespaceVariants(fixture(name)))) {
        const original = Buffer.from(text, 'utf8');
        writeFileSync(ciPath(), original);
        await runInitWith({ ...BASE_FLAGS, verifyJob: true, verifyImage: VERIFY_IMAGE }, tmp.dir, { aws });
        expect(readFileSync(ciPath()).equals(original), variant).toBe(false);
        // realistic.yml has a job that extends .aws-oidc: only --ci-file … --force removes it.
        const result = await destroy(
          name === 'realistic.yml' ? { ciFile: '.gitlab-ci.yml', force: true } : {},
        );
        expect(result.ciFile?.written, variant).toBe(true);
        expect(JSON.stringify(readFileSync(ciPath(), 'utf8')), variant).toBe(JSON.stringify(text));
        expect(readFileSync(ciPath()).equals(original), variant).toBe(true);
      }
    });
  }
});

describe('a pipeline file init created', () => {
  it('is deleted by destroy, its content kept as .bak, and the plan says so', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    const created = readFileSync(ciPath());
    const io = captureContext({ cwd: tmp.dir });
    await runDestroyCommand({ project: PROJECT, dryRun: true }, io.context);
    expect(io.out()).toContain('- delete  .gitlab-ci.yml (it only holds the generated jobs');
    expect(io.out()).toContain('+++ /dev/null');
    expect(existsSync(ciPath())).toBe(true);

    const result = await destroy();
    expect(result.ciFile).toMatchObject({ action: 'delete', written: true, backupPath: `${ciPath()}.bak` });
    expect(result.ciFile?.warnings).toEqual([]);
    expect(result.done.at(-1)).toBe('delete .gitlab-ci.yml');
    expect(existsSync(ciPath())).toBe(false);
    expect(readFileSync(`${ciPath()}.bak`).equals(created)).toBe(true);
    expect(readdirSync(tmp.dir)).toEqual(['.gitlab-ci.yml.bak']);
  });

  it('is not deleted when it changed after planning (edited while the user was confirming)', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    const edited = `${readFileSync(ciPath(), 'utf8')}\nlate:\n  script: [echo late]\n`;
    const error = await runDestroy(parseDestroyFlags({ project: PROJECT }, { cwd: tmp.dir }), {
      aws: () => aws.ports,
      confirm: async () => {
        writeFileSync(ciPath(), edited);
        return true;
      },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(PartialApplyError);
    expect(error.message).toMatch(/changed since it was read; nothing was deleted/);
    expect(error.notDone).toEqual(['delete .gitlab-ci.yml']);
    expect(readFileSync(ciPath(), 'utf8')).toBe(edited);
    expect(existsSync(`${ciPath()}.bak`)).toBe(false);
  });

  it('is kept when the user added anything, even a comment', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    writeFileSync(ciPath(), `# notes\n\n${readFileSync(ciPath(), 'utf8')}`);
    const result = await destroy();
    expect(result.ciFile?.action).toBe('update');
    expect(readFileSync(ciPath(), 'utf8')).toBe('# notes\n');
  });
});

describe('destroy refuses a pipeline file that is not UTF-8', () => {
  const bytes = Buffer.concat([
    Buffer.from('build:\n  script: [echo '),
    Buffer.from([0xff]),
    Buffer.from(']\n'),
  ]);

  it('--ci-file: exit 2 naming the file and the byte, zero AWS calls, the bytes unchanged', async () => {
    writeFileSync(ciPath(), bytes);
    const error = await destroy({ ciFile: '.gitlab-ci.yml' }).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      '.gitlab-ci.yml is not valid UTF-8: byte 0xff at offset 23 (line 2, column 17)',
    );
    expect(aws.calls()).toEqual([]);
    expect(readFileSync(ciPath()).equals(bytes)).toBe(true);
  });

  it('found on its own: left alone, and the plan says why', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    writeFileSync(ciPath(), bytes);
    const result = await destroy();
    expect(result.ciFile).toMatchObject({ action: 'skipped' });
    expect(result.ciFile?.reason).toMatch(/not valid UTF-8: byte 0xff/);
    expect(readFileSync(ciPath()).equals(bytes)).toBe(true);
  });
});
