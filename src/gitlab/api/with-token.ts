/**
 * The GitLab port for `verify` and `audit`, which use GitLab only to read, and only with a token: a
 * function of the instance URL that gives the lazy port when a token for it resolves (--gitlab-token-env,
 * GITLAB_TOKEN, GITLAB_ACCESS_TOKEN, OAUTH_TOKEN, glab's config for that host), undefined otherwise.
 * Nothing loads, and no request is made, until the port is first called.
 */
import { homedir } from 'node:os';
import type { CommandContext } from '../../io/context.js';
import { type LazyGitlabPort, type LazyGitlabPortInput, lazyGitlabPort } from './lazy-port.js';
import type { GitlabPort } from './ports.js';

export function gitlabWithToken(
  context: Pick<CommandContext, 'env' | 'signal'>,
  flags: { gitlabTokenEnv?: string | undefined; gitlabApiUrl?: string | undefined },
): (gitlabUrl: string) => (() => Promise<GitlabPort>) | undefined {
  return (gitlabUrl) => {
    const port = lazyGitlabPortFor(context, flags, gitlabUrl);
    return port.authenticated ? port : undefined;
  };
}

/** The lazy port of one instance, from a command's context and its --gitlab-token-env/--gitlab-api-url. */
export function lazyGitlabPortFor(
  context: Pick<CommandContext, 'env' | 'signal'>,
  flags: { gitlabTokenEnv?: string | undefined; gitlabApiUrl?: string | undefined },
  gitlabUrl: string,
  onRetry?: LazyGitlabPortInput['onRetry'],
): LazyGitlabPort {
  return lazyGitlabPort({
    gitlabUrl,
    gitlabApiUrl: flags.gitlabApiUrl,
    gitlabTokenEnv: flags.gitlabTokenEnv,
    env: context.env,
    homedir: context.env.HOME || homedir(),
    signal: context.signal,
    onRetry,
  });
}
