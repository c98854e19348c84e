/**
 * The GitLab API as `init` uses it: one lazy port per instance URL for the whole run (resolve's lookup
 * and runInit's reads and writes share it), built only when first asked for (never with --offline).
 *
 * Which instances get one: gitlab.com always (without a token a public project is still looked up
 * anonymously), another instance only with a token or an explicit --gitlab-api-url (anonymous lookups
 * there would mostly end in 404 for private projects, or reach an API the laptop cannot).
 * `GITLAB_AWS_OIDC_GITLAB_ANONYMOUS=off` turns the anonymous lookups off (air-gapped networks; the test
 * suite, which must never reach gitlab.com): without a token and --gitlab-api-url, no GitLab call.
 */
export const ANONYMOUS_ENV = 'GITLAB_AWS_OIDC_GITLAB_ANONYMOUS';

import type { GitlabPort } from '../gitlab/api/ports.js';
import { lazyGitlabPortFor } from '../gitlab/api/with-token.js';
import type { CommandContext } from '../io/context.js';
import { GITLAB_COM } from './resolve.js';

export function initGitlabPorts(
  context: Pick<CommandContext, 'env' | 'signal'>,
  flags: { gitlabTokenEnv?: string | undefined; gitlabApiUrl?: string | undefined },
  onRetry?: (info: { status: number; delayMs: number; attempt: number; path: string }) => void,
): (gitlabUrl: string) => Promise<GitlabPort | undefined> {
  const ports = new Map<string, Promise<GitlabPort | undefined>>();
  return (gitlabUrl) => {
    let port = ports.get(gitlabUrl);
    if (!port) {
      const lazy = lazyGitlabPortFor(context, flags, gitlabUrl, onRetry);
      const anonymous = gitlabUrl === GITLAB_COM && context.env[ANONYMOUS_ENV]?.toLowerCase() !== 'off';
      const usable = anonymous || lazy.authenticated || flags.gitlabApiUrl !== undefined;
      port = usable ? lazy() : Promise.resolve(undefined);
      ports.set(gitlabUrl, port);
    }
    return port;
  };
}
