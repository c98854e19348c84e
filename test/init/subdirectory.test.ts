/**
 * Issue 7, defect 7: run from a subdirectory of a clone, init wrote .gitlab-ci.yml there (GitLab only
 * reads the one at the top level). The default pipeline file is now the repository's; a relative
 * --ci-file stays relative to the working folder as typed, and "outside the repository" is judged
 * against the git top level. Outside a repository: the working folder, as before. Same for destroy.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runDestroyCommand } from '../../src/destroy/command.js';
import { UsageError } from '../../src/errors.js';
import { findGitTopLevel } from '../../src/gitlab/remote.js';
import { runInitCommand } from '../../src/init/command.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { createGitRepo, createTempDir, type GitRepo } from '../helpers/git-repo.js';

const FLAGS = { project: 'acme/web', branch: ['main'], yes: true, region: 'eu-west-1' };

let aws: FakeAws;
let repo: GitRepo;
let sub: string;
beforeEach(async () => {
  aws = createFakeAws({ account: '111122223333' });
  repo = await createGitRepo({ origin: 'git@gitlab.com:acme/web.git' });
  // Code under test inherits process.env: keep the developer's git config out.
  for (const [k, v] of Object.entries(repo.env)) vi.stubEnv(k, v);
  sub = join(repo.dir, 'services', 'api');
  mkdirSync(sub, { recursive: true });
});
afterEach(async () => {
  vi.unstubAllEnvs();
  aws.restore();
  await repo.cleanup();
});

const top = (name = '.gitlab-ci.yml') => join(repo.dir, name);

describe('findGitTopLevel', () => {
  it('is the top of the work tree from any folder in it, and undefined outside one', async () => {
    expect(await findGitTopLevel(sub)).toBe(repo.dir);
    expect(await findGitTopLevel(repo.dir)).toBe(repo.dir);
    const outside = await createTempDir();
    try {
      vi.stubEnv('GIT_CEILING_DIRECTORIES', outside.env.GIT_CEILING_DIRECTORIES);
      expect(await findGitTopLevel(outside.dir)).toBeUndefined();
    } finally {
      await outside.cleanup();
    }
  });
});

describe('init from a subdirectory', () => {
  it('writes the top-level .gitlab-ci.yml and names it as seen from the working folder', async () => {
    const io = captureContext({ cwd: sub });
    await runInitCommand({ ...FLAGS, json: true }, io.context);
    expect(existsSync(top())).toBe(true);
    expect(existsSync(join(sub, '.gitlab-ci.yml'))).toBe(false);
    const doc = JSON.parse(io.out());
    expect(doc.ciFile.path).toBe('../../.gitlab-ci.yml');
    // Diff labels are repository-relative, as in `git diff`.
    expect(doc.ciFile.diff.split('\n').slice(0, 2)).toEqual(['--- /dev/null', '+++ b/.gitlab-ci.yml']);
  });

  it('a relative --ci-file is resolved from the working folder as typed (not from the top level)', async () => {
    // `ci/aws.yml` typed in services/api means services/api/ci/aws.yml, whose folder does not exist.
    mkdirSync(join(repo.dir, 'ci'));
    const io = captureContext({ cwd: sub });
    const error = await runInitCommand({ ...FLAGS, ciFile: 'ci/aws.yml' }, io.context).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.issues[0].field).toBe('--ci-file');
    expect(error.message).toContain(join(sub, 'ci'));
    expect(aws.calls()).toEqual([]);
    expect(existsSync(top('ci/aws.yml'))).toBe(false);
  });

  it('--ci-file elsewhere in the repository is not "outside the repository"', async () => {
    mkdirSync(join(repo.dir, 'ci'));
    writeFileSync(top('ci/aws.yml'), 'build:\n  script: [make]\n');
    const io = captureContext({ cwd: sub });
    await runInitCommand({ ...FLAGS, ciFile: '../../ci/aws.yml', json: true }, io.context);
    expect(readFileSync(top('ci/aws.yml'), 'utf8')).toContain('.aws-oidc:');
    expect(JSON.parse(io.out()).ciFile.path).toBe('../../ci/aws.yml');
    expect(existsSync(top())).toBe(false);
  });

  it('still refuses a --ci-file outside the repository, before any AWS call', async () => {
    const outside = await createTempDir();
    try {
      const io = captureContext({ cwd: sub });
      const error = await runInitCommand({ ...FLAGS, ciFile: join(outside.dir, 'x.yml') }, io.context).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toMatch(/outside the repository/);
      expect(aws.calls()).toEqual([]);
    } finally {
      await outside.cleanup();
    }
  });

  it('outside a git repository: the working folder, as before', async () => {
    const outside = await createTempDir();
    try {
      vi.stubEnv('GIT_CEILING_DIRECTORIES', outside.env.GIT_CEILING_DIRECTORIES);
      const io = captureContext({ cwd: outside.dir });
      await runInitCommand(FLAGS, io.context);
      expect(existsSync(join(outside.dir, '.gitlab-ci.yml'))).toBe(true);
    } finally {
      await outside.cleanup();
    }
  });
});

describe('destroy from a subdirectory', () => {
  it('cleans the top-level .gitlab-ci.yml by default, and names it as seen from the working folder', async () => {
    const original = 'build:\n  script: [make]\n';
    writeFileSync(top(), original);
    await runInitCommand(FLAGS, captureContext({ cwd: repo.dir }).context);
    const io = captureContext({ cwd: sub });
    await runDestroyCommand({ project: 'acme/web', yes: true, json: true }, io.context);
    const doc = JSON.parse(io.out());
    expect(doc.ciFile).toMatchObject({ path: '../../.gitlab-ci.yml', action: 'update', written: true });
    expect(doc.ciFile.diff.split('\n').slice(0, 2)).toEqual(['--- a/.gitlab-ci.yml', '+++ b/.gitlab-ci.yml']);
    expect(readFileSync(top(), 'utf8')).toBe(original);
  });

  it('--ci-file elsewhere in the repository is accepted (relative to the working folder)', async () => {
    mkdirSync(join(repo.dir, 'ci'));
    writeFileSync(top('ci/aws.yml'), 'build:\n  script: [make]\n');
    await runInitCommand({ ...FLAGS, ciFile: 'ci/aws.yml' }, captureContext({ cwd: repo.dir }).context);
    const io = captureContext({ cwd: sub });
    await runDestroyCommand({ project: 'acme/web', yes: true, ciFile: '../../ci/aws.yml' }, io.context);
    expect(readFileSync(top('ci/aws.yml'), 'utf8')).toBe('build:\n  script: [make]\n');
  });
});
