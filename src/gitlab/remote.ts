/**
 * Git remote URL → GitLab instance URL + project path, and detection from a working copy.
 *
 * Forms understood: `https://[user[:token]@]host[:port]/group/sub/project[.git][/]`, `http://…`,
 * `ssh://[user@]host[:port]/group/project[.git]` (also `git+ssh://`, `ssh+git://`) and scp-like
 * `[user@]host:group/project[.git]`.
 *
 * Ports: an ssh port is never the web port, so ssh remotes give `https://host`. An http(s) port
 * is kept in `gitlabUrl`, with a warning: IAM provider URLs cannot carry a port.
 *
 * Relative-URL installs (GitLab served under `https://host/gitlab`) cannot be told apart from a
 * top-level group called `gitlab` by looking at the URL. Without `relativeUrlRoot` the whole path
 * is taken as the project path (right for gitlab.com and most instances); pass
 * `relativeUrlRoot: '/gitlab'` to strip it from an http(s) path and add it to `gitlabUrl` (for ssh
 * remotes too, whose paths never contain it). Discovery then confirms the choice: the instance's
 * `/.well-known/openid-configuration` names its issuer.
 *
 * Credentials in https remotes are dropped: never returned, never put in an error.
 */
import { execFile } from 'node:child_process';
import { UsageError } from '../errors.js';

export interface GitRemote {
  /** `https`, `http` or `ssh` (scp-like remotes are ssh). */
  protocol: 'https' | 'http' | 'ssh';
  /** Lower-case host name, no port. */
  host: string;
  /** The port written in the remote, if any (for ssh remotes, the ssh port). */
  port?: string;
  /** `group/sub/project`, no `.git`, no leading or trailing slash. */
  projectPath: string;
  /** The web/issuer URL: `https://host[:webport][/relative-root]`. */
  gitlabUrl: string;
  /** Something the user should know (port IAM cannot register, http remote, suspicious scp path). */
  warning?: string;
}

export interface ParseRemoteOptions {
  /** GitLab's relative URL root (`/gitlab`) when the instance is installed under a path. */
  relativeUrlRoot?: string | undefined;
}

/** Replaces any `user:password@` in a URL with `***@`, for messages. */
export function redactRemoteUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}

function invalid(url: string, message: string): UsageError {
  return UsageError.field(
    'git remote',
    `${message}: ${redactRemoteUrl(url)}`,
    'Expected a GitLab remote such as https://gitlab.com/group/project.git or git@gitlab.com:group/project.git',
  );
}

function cleanProjectPath(url: string, rawPath: string): string {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    path = rawPath;
  }
  path = path
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
  const segments = path.split('/');
  if (segments.length < 2 || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw invalid(url, 'the path must be <group>/<project> (subgroups allowed)');
  }
  return segments.join('/');
}

function normalizeRoot(root: string | undefined): string {
  if (!root) return '';
  const trimmed = root.trim().replace(/^\/*/, '/').replace(/\/+$/, '');
  return trimmed === '/' ? '' : trimmed;
}

/** Parses one remote URL. Throws a UsageError (without credentials) when it is not a GitLab-style remote. */
export function parseGitRemote(url: string, options: ParseRemoteOptions = {}): GitRemote {
  const input = url.trim();
  const root = normalizeRoot(options.relativeUrlRoot);
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input);

  if (schemeMatch) {
    const scheme = schemeMatch[1]!.toLowerCase();
    let parsed: URL;
    try {
      parsed = new URL(input);
    } catch {
      throw invalid(input, 'not a valid URL');
    }
    const host = parsed.hostname.toLowerCase();
    if (!host) throw invalid(input, 'no host');
    const port = parsed.port || undefined;

    if (scheme === 'https' || scheme === 'http') {
      let rawPath = parsed.pathname;
      if (root) {
        if (rawPath === root || rawPath.startsWith(`${root}/`)) rawPath = rawPath.slice(root.length);
        else throw invalid(input, `the path does not start with the relative URL root ${root}`);
      }
      const projectPath = cleanProjectPath(input, rawPath);
      const hostPort = port ? `${host}:${port}` : host;
      const warnings: string[] = [];
      if (scheme === 'http') {
        warnings.push(
          `The remote uses plain http; assuming the instance is also served at https://${hostPort} (IAM only accepts https issuers).`,
        );
      }
      if (port) {
        warnings.push(
          `The GitLab URL has port ${port}: an IAM OIDC provider URL cannot carry a port, so AWS cannot reach ` +
            `https://${hostPort} as an issuer. Serve GitLab (or at least its discovery and keys) on port 443.`,
        );
      }
      return {
        protocol: scheme,
        host,
        ...(port ? { port } : {}),
        projectPath,
        gitlabUrl: `https://${hostPort}${root}`,
        ...(warnings.length ? { warning: warnings.join(' ') } : {}),
      };
    }

    if (scheme === 'ssh' || scheme === 'git+ssh' || scheme === 'ssh+git') {
      return {
        protocol: 'ssh',
        host,
        ...(port ? { port } : {}),
        projectPath: cleanProjectPath(input, parsed.pathname),
        gitlabUrl: `https://${host}${root}`,
      };
    }
    throw invalid(input, `unsupported scheme ${scheme}://`);
  }

  // scp-like: [user@]host:path, where the colon comes before any slash (git's own rule).
  const scp = /^(?:[^@/\s]+@)?(\[[^\]]+\]|[^:/\s]+):(?!\/\/)(.+)$/.exec(input);
  if (scp) {
    const host = scp[1]!.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    const rawPath = scp[2]!;
    const projectPath = cleanProjectPath(input, rawPath);
    const first = projectPath.split('/')[0]!;
    const warning = /^\d+$/.test(first)
      ? `"${first}" in "${host}:${first}/…" is read as a group, not a port (git's scp-like syntax has no port). ` +
        `For an ssh port use ssh://git@${host}:${first}/….`
      : undefined;
    return {
      protocol: 'ssh',
      host,
      projectPath,
      gitlabUrl: `https://${host}${root}`,
      ...(warning ? { warning } : {}),
    };
  }
  throw invalid(input, 'not a recognised remote URL (local paths are not GitLab remotes)');
}

// ---------- detection from a working copy ----------

export interface GitContext {
  /** origin's URL with any credentials replaced by `***`. */
  remoteUrl?: string;
  gitlabUrl?: string;
  projectPath?: string;
  /** origin's default branch, from `refs/remotes/origin/HEAD` (as `git clone` sets it); never a guess. */
  defaultBranch?: string;
  /** The checked-out branch (a suggestion at most: it is often a feature branch). */
  currentBranch?: string;
  /** The parser's warning, or why origin could not be parsed. */
  warning?: string;
}

export interface DetectGitOptions extends ParseRemoteOptions {
  /** Per git command. Default 5 s. */
  timeoutMs?: number | undefined;
  /** The git executable. Default `git` from PATH. */
  gitPath?: string | undefined;
  /** The remote to read. Default `origin`. */
  remote?: string | undefined;
}

function runGit(cwd: string, args: string[], options: DetectGitOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      options.gitPath ?? 'git',
      args,
      {
        cwd,
        timeout: options.timeoutMs ?? 5_000,
        windowsHide: true,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
      },
      (error, stdout) => {
        if (error) resolve(undefined);
        else resolve(stdout.trim() || undefined);
      },
    );
  });
}

/**
 * Reads origin and branches from the repository at `cwd`. Never throws: no git, not a repository
 * or a timeout give an empty result; a repository without origin still reports its branches.
 * The default branch comes only from origin/HEAD: `init.defaultBranch` and the current branch say
 * nothing about the project's default branch, so they are not reported as it.
 */
export async function detectGitContext(cwd: string, options: DetectGitOptions = {}): Promise<GitContext> {
  const inside = await runGit(cwd, ['rev-parse', '--is-inside-work-tree'], options);
  if (inside !== 'true') return {};
  return readGitContext(cwd, options);
}

/**
 * `detectGitContext` and `findGitTopLevel` together, one git process fewer: the top level answers
 * whether `cwd` is in a work tree (outside one, a single git process runs).
 */
export async function detectGitWorkTree(
  cwd: string,
  options: DetectGitOptions = {},
): Promise<{ git: GitContext; repoRoot: string | undefined }> {
  const repoRoot = await findGitTopLevel(cwd, options);
  return { git: repoRoot === undefined ? {} : await readGitContext(cwd, options), repoRoot };
}

async function readGitContext(cwd: string, options: DetectGitOptions): Promise<GitContext> {
  const remote = options.remote ?? 'origin';

  const [remoteUrl, originHead, currentBranch] = await Promise.all([
    runGit(cwd, ['remote', 'get-url', remote], options),
    runGit(cwd, ['symbolic-ref', '--quiet', `refs/remotes/${remote}/HEAD`], options),
    runGit(cwd, ['symbolic-ref', '--quiet', '--short', 'HEAD'], options),
  ]);

  const prefix = `refs/remotes/${remote}/`;
  const fromOrigin = originHead?.startsWith(prefix) ? originHead.slice(prefix.length) : undefined;
  const result: GitContext = {
    ...(fromOrigin ? { defaultBranch: fromOrigin } : {}),
    ...(currentBranch ? { currentBranch } : {}),
  };
  if (remoteUrl) {
    result.remoteUrl = redactRemoteUrl(remoteUrl);
    try {
      const parsed = parseGitRemote(remoteUrl, options);
      result.gitlabUrl = parsed.gitlabUrl;
      result.projectPath = parsed.projectPath;
      if (parsed.warning) result.warning = parsed.warning;
    } catch (error) {
      result.warning = error instanceof Error ? error.message : String(error);
    }
  }
  return result;
}

/**
 * The top folder of the git work tree `cwd` is in (`git rev-parse --show-toplevel`), where GitLab reads
 * `.gitlab-ci.yml`. Undefined outside a work tree, without git, or on a timeout; never throws.
 */
export async function findGitTopLevel(
  cwd: string,
  options: DetectGitOptions = {},
): Promise<string | undefined> {
  return runGit(cwd, ['rev-parse', '--show-toplevel'], options);
}
