/**
 * Builds the GitLab port once per run. The ONLY module that imports `client.ts` (and with it undici);
 * callers reach it through `lazy-port.ts`'s dynamic import, so `--help` and `--offline` runs never
 * load it.
 */
import { createGitlabClient, type GitlabClient } from './client.js';
import type { GitlabClientOptions } from './ports.js';
import type { ResolvedGitlabToken } from './token-source.js';

export interface GitlabPortInput
  extends Omit<GitlabClientOptions, 'baseUrl' | 'token' | 'tokenSource' | 'tokenKind'> {
  /** The API base (`resolveGitlabApiBase`: --gitlab-api-url, else the GitLab URL), without /api/v4. */
  apiBase: string;
  /** From `resolveGitlabToken`; undefined: anonymous (public projects only). */
  token: ResolvedGitlabToken | undefined;
}

export function createGitlabPort(input: GitlabPortInput): GitlabClient {
  const { apiBase, token, ...rest } = input;
  return createGitlabClient({
    ...rest,
    baseUrl: apiBase,
    token: token?.token,
    tokenSource: token?.source,
    tokenKind: token?.kind,
  });
}
