import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { detectGitContext, detectGitWorkTree, findGitTopLevel } from '../../src/gitlab/remote.js';
import { createGitRepo, createTempDir, type GitRepo } from '../helpers/git-repo.js';

const cleanups: Array<() => Promise<void>> = [];

async function repo(options: Parameters<typeof createGitRepo>[0]): Promise<GitRepo> {
  const r = await createGitRepo(options);
  cleanups.push(r.cleanup);
  // detectGitContext inherits process.env: isolate it from the developer's global git config.
  for (const [k, v] of Object.entries(r.env)) vi.stubEnv(k, v);
  return r;
}

afterEach(async () => {
  vi.unstubAllEnvs();
  while (cleanups.length) await cleanups.pop()!();
});

describe('detectGitContext', () => {
  it('reads origin and the default branch from origin/HEAD', async () => {
    const r = await repo({
      branch: 'feature/x',
      origin: 'git@gitlab.example.com:acme/platform/api.git',
      originHead: 'trunk',
    });
    await expect(detectGitContext(r.dir)).resolves.toEqual({
      remoteUrl: 'git@gitlab.example.com:acme/platform/api.git',
      gitlabUrl: 'https://gitlab.example.com',
      projectPath: 'acme/platform/api',
      defaultBranch: 'trunk',
      currentBranch: 'feature/x',
    });
  });

  it('redacts credentials from the remote URL it reports', async () => {
    const r = await repo({ origin: 'https://oauth2:glpat-SECRET@gitlab.com/acme/api.git', commit: true });
    const ctx = await detectGitContext(r.dir);
    expect(ctx.remoteUrl).toBe('https://***@gitlab.com/acme/api.git');
    expect(JSON.stringify(ctx)).not.toContain('SECRET');
    expect(ctx.projectPath).toBe('acme/api');
  });

  // A guess is not the default branch: `init --yes` on a feature branch must not trust that branch.
  it('reports no default branch without origin/HEAD, not init.defaultBranch nor the current branch', async () => {
    const r = await repo({
      branch: 'work',
      origin: 'https://gitlab.com/acme/api.git',
      initDefaultBranch: 'develop',
      commit: true,
    });
    const ctx = await detectGitContext(r.dir);
    expect(ctx.defaultBranch).toBeUndefined();
    expect(ctx.currentBranch).toBe('work');
  });

  it('reports the current branch (even unborn) and nothing when detached', async () => {
    const unborn = await repo({ branch: 'trunk' });
    await expect(detectGitContext(unborn.dir)).resolves.toEqual({ currentBranch: 'trunk' });

    const detached = await repo({ branch: 'trunk', commit: true, detach: true });
    await expect(detectGitContext(detached.dir)).resolves.toEqual({});
  });

  it('keeps the branches and explains an origin that is not a GitLab remote', async () => {
    const r = await repo({ branch: 'main', origin: '/srv/git/api.git' });
    const ctx = await detectGitContext(r.dir);
    expect(ctx.remoteUrl).toBe('/srv/git/api.git');
    expect(ctx.gitlabUrl).toBeUndefined();
    expect(ctx.warning).toMatch(/not a recognised remote URL/);
    expect(ctx.currentBranch).toBe('main');
    expect(ctx.defaultBranch).toBeUndefined();
  });

  it('returns an empty result outside a repository', async () => {
    const tmp = await createTempDir();
    cleanups.push(tmp.cleanup);
    for (const [k, v] of Object.entries(tmp.env)) vi.stubEnv(k, v);
    await expect(detectGitContext(tmp.dir)).resolves.toEqual({});
  });

  it('returns an empty result when git is missing, without throwing', async () => {
    const tmp = await createTempDir();
    cleanups.push(tmp.cleanup);
    await expect(detectGitContext(tmp.dir, { gitPath: '/nonexistent/bin/git' })).resolves.toEqual({});
  });

  it('returns an empty result for a directory that does not exist', async () => {
    await expect(detectGitContext('/nonexistent/dir/for/sure')).resolves.toEqual({});
  });
});

describe('detectGitWorkTree', () => {
  it('gives what detectGitContext and findGitTopLevel give, from a subfolder as from the top', async () => {
    const r = await repo({ origin: 'git@gitlab.example.com:acme/api.git', originHead: 'main' });
    const sub = join(r.dir, 'deploy', 'aws');
    mkdirSync(sub, { recursive: true });
    for (const cwd of [r.dir, sub]) {
      const both = await detectGitWorkTree(cwd);
      expect(both).toEqual({ git: await detectGitContext(cwd), repoRoot: await findGitTopLevel(cwd) });
      expect(both.repoRoot).toBe(realpathSync(r.dir));
      expect(both.git.projectPath).toBe('acme/api');
    }
  });

  it('outside a work tree: nothing, and one git process (not two)', async () => {
    const dir = await createTempDir();
    cleanups.push(dir.cleanup);
    for (const [k, v] of Object.entries(dir.env)) vi.stubEnv(k, v);
    const calls: string[] = [];
    const gitPath = join(dir.dir, 'git-spy');
    writeFileSync(gitPath, `#!/bin/sh\necho "$@" >> "${join(dir.dir, 'calls')}"\nexec git "$@"\n`, {
      mode: 0o755,
    });
    await expect(detectGitWorkTree(dir.dir, { gitPath })).resolves.toEqual({ git: {}, repoRoot: undefined });
    calls.push(...readFileSync(join(dir.dir, 'calls'), 'utf8').trim().split('\n'));
    expect(calls).toEqual(['rev-parse --show-toplevel']);
  });
});
