/**
 * The GitLab port as commands build it: the token and the API base are resolved at once (a bad
 * --gitlab-token-env or --gitlab-api-url is a usage error before any call), the client itself on
 * first use through a dynamic import of the factory, so `--help` and `--offline` never load undici.
 * The loader builds one port per run and hands the same one to every caller.
 */
import { resolveGitlabApiBase } from '../../options/gitlab-api.js';
import type { GitlabPort } from './ports.js';
import { type ResolvedGitlabToken, resolveGitlabToken } from './token-source.js';

export interface LazyGitlabPortInput {
  /** The GitLab URL (the issuer): glab's config is keyed by its host. */
  gitlabUrl: string;
  gitlabApiUrl?: string | undefined;
  gitlabTokenEnv?: string | undefined;
  env: NodeJS.ProcessEnv;
  homedir: string;
  /** Every call is cancelled by the run's signal. */
  signal: AbortSignal | undefined;
  onRetry?: ((info: { status: number; delayMs: number; attempt: number; path: string }) => void) | undefined;
}

export interface LazyGitlabPort {
  /** Builds the port on first call (loads the client), then returns the same one. */
  (): Promise<GitlabPort>;
  /** True when a token was found; without one, lookups are anonymous (public projects only). */
  readonly authenticated: boolean;
  /** Where the token came from (never the token), for messages and --json. */
  readonly tokenSource: string | undefined;
  readonly apiBase: string;
}

export function lazyGitlabPort(input: LazyGitlabPortInput): LazyGitlabPort {
  const apiBase = resolveGitlabApiBase(input.gitlabUrl, input.gitlabApiUrl);
  const token: ResolvedGitlabToken | undefined = resolveGitlabToken({
    flagEnvName: input.gitlabTokenEnv,
    env: input.env,
    host: new URL(input.gitlabUrl).host,
    homedir: input.homedir,
  });
  let port: Promise<GitlabPort> | undefined;
  const load = () => {
    port ??= import('./factory.js').then(({ createGitlabPort }) =>
      createGitlabPort({
        apiBase,
        token,
        env: input.env,
        signal: input.signal,
        onRetry: input.onRetry,
      }),
    );
    return port;
  };
  return Object.assign(load, { authenticated: token !== undefined, tokenSource: token?.source, apiBase });
}
