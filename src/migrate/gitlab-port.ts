/** The GitLab port of a `migrate` run (find, --apply, --retire): built lazily from the flags, retries said on stderr. */
import { homedir } from 'node:os';
import { lazyGitlabPort } from '../gitlab/api/lazy-port.js';
import type { GitlabPort } from '../gitlab/api/ports.js';
import type { CommandContext } from '../io/context.js';
import type { MigrateFindOptions } from './options.js';

export function migrateGitlabPort(
  options: Pick<MigrateFindOptions, 'gitlabUrl' | 'gitlabApiUrl' | 'gitlabTokenEnv'>,
  context: Pick<CommandContext, 'env' | 'signal'>,
  progress: (line: string) => void,
): () => Promise<GitlabPort> {
  return lazyGitlabPort({
    gitlabUrl: options.gitlabUrl,
    gitlabApiUrl: options.gitlabApiUrl,
    gitlabTokenEnv: options.gitlabTokenEnv,
    env: context.env,
    homedir: context.env.HOME ?? homedir(),
    signal: context.signal,
    onRetry: ({ status, delayMs }) =>
      progress(`GitLab answered ${status}; retrying in ${Math.ceil(delayMs / 1000)}s…`),
  });
}
