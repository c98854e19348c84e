/**
 * Throw-away git repositories in os.tmpdir() for tests.
 *
 *   const repo = await createGitRepo({ branch: 'trunk', origin: 'git@gitlab.com:acme/api.git' });
 *   try { … detectGitContext(repo.dir) … } finally { await repo.cleanup(); }
 *
 * Runs the real `git` with a private HOME/XDG config (the developer's ~/.gitconfig cannot leak in),
 * no network. `originHead` writes refs/remotes/origin/HEAD as `git clone` would.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface GitRepoOptions {
  /** Initial branch (git init -b). Default `main`. */
  branch?: string;
  /** URL for the `origin` remote. None when absent. */
  origin?: string;
  /** Make refs/remotes/origin/HEAD point at origin/<this> (needs a commit; one is made). */
  originHead?: string;
  /** `init.defaultBranch` in the repository's config. */
  initDefaultBranch?: string;
  /** Make one empty commit. */
  commit?: boolean;
  /** Leave HEAD detached (after a commit). */
  detach?: boolean;
}

export interface GitRepo {
  dir: string;
  /**
   * The isolated environment git runs with. Code under test inherits process.env, so stub these
   * (vi.stubEnv) to keep the developer's global git config out of the result.
   */
  env: Record<string, string>;
  /** Runs git in the repository with the isolated environment. */
  git(...args: string[]): Promise<string>;
  cleanup(): Promise<void>;
}

export async function createGitRepo(options: GitRepoOptions = {}): Promise<GitRepo> {
  const base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'gao-git-')));
  const dir = path.join(base, 'repo');
  const home = path.join(base, 'home');
  const env: Record<string, string> = {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CEILING_DIRECTORIES: base,
  };
  const run = (cwd: string, args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile(
        'git',
        args,
        { cwd, env: { ...process.env, ...env }, timeout: 10_000 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`git ${args.join(' ')} failed: ${stderr || error.message}`));
          else resolve(stdout.trim());
        },
      );
    });
  const cleanup = () => rm(base, { recursive: true, force: true });

  try {
    await run(base, ['init', '-q', '-b', options.branch ?? 'main', dir]);
    const git = (...args: string[]) => run(dir, args);
    if (options.initDefaultBranch) await git('config', 'init.defaultBranch', options.initDefaultBranch);
    if (options.origin) await git('remote', 'add', 'origin', options.origin);
    if (options.commit || options.originHead || options.detach) {
      await git('commit', '-q', '--allow-empty', '-m', 'initial');
    }
    if (options.originHead) {
      await git('update-ref', `refs/remotes/origin/${options.originHead}`, 'HEAD');
      await git('symbolic-ref', 'refs/remotes/origin/HEAD', `refs/remotes/origin/${options.originHead}`);
    }
    if (options.detach) await git('checkout', '-q', '--detach');
    return { dir, env, git, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** An empty temporary directory that is not inside any repository (for "not a repo" tests). */
export async function createTempDir(): Promise<{
  dir: string;
  /** Stops git from looking above the directory for a repository. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'gao-nogit-')));
  return {
    dir,
    env: { GIT_CEILING_DIRECTORIES: path.dirname(dir) },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
