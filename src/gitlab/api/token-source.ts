/**
 * Where the GitLab API token comes from, in glab's order: `--gitlab-token-env NAME`, else
 * GITLAB_TOKEN, GITLAB_ACCESS_TOKEN, OAUTH_TOKEN, else glab's config file (`hosts: <host>: token:`).
 * The token is returned to the caller only; `source` names where it came from for messages, and
 * nothing here ever puts the token in a message.
 *
 * How it is sent: personal/project/group access tokens as `PRIVATE-TOKEN`; OAUTH_TOKEN and a glab
 * OAuth login (`is_oauth2: true`) as `Authorization: Bearer` (GitLab takes OAuth tokens only there).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { UsageError } from '../../errors.js';
import { validateTokenEnvName } from '../../options/gitlab-api.js';

export const TOKEN_ENV_FLAG = '--gitlab-token-env';
/** glab's order. */
export const TOKEN_ENV_VARS = ['GITLAB_TOKEN', 'GITLAB_ACCESS_TOKEN', 'OAUTH_TOKEN'] as const;

export interface ResolvedGitlabToken {
  token: string;
  /** `GITLAB_TOKEN`, `--gitlab-token-env CI_API_TOKEN`, `glab config (/home/me/.config/glab-cli/config.yml)`. */
  source: string;
  kind: 'private-token' | 'oauth';
}

export interface TokenSourceInput {
  /** The variable named by `--gitlab-token-env`, if given. */
  flagEnvName?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** The instance host as glab keys it: `gitlab.com`, `gitlab.example.com:8443`. */
  host: string;
  homedir: string;
}

const nonEmpty = (v: string | undefined): string | undefined => {
  const t = v?.trim();
  return t ? t : undefined;
};

/** The token for `host`, or undefined (anonymous: public projects only). */
export function resolveGitlabToken(input: TokenSourceInput): ResolvedGitlabToken | undefined {
  const { env } = input;
  if (input.flagEnvName !== undefined) {
    // A token pasted in place of the name is refused before it could reach a message.
    const name = validateTokenEnvName(input.flagEnvName);
    const token = nonEmpty(env[name]);
    if (token === undefined) {
      throw UsageError.field(
        TOKEN_ENV_FLAG,
        `the variable ${name} is ${env[name] === undefined ? 'not set' : 'empty'}`,
        `Export ${name} with a GitLab access token (read_api scope for lookups, api for changes), or drop ${TOKEN_ENV_FLAG} to use GITLAB_TOKEN.`,
      );
    }
    return { token, source: `${TOKEN_ENV_FLAG} ${name}`, kind: 'private-token' };
  }
  for (const name of TOKEN_ENV_VARS) {
    const token = nonEmpty(env[name]);
    if (token) return { token, source: name, kind: name === 'OAUTH_TOKEN' ? 'oauth' : 'private-token' };
  }
  const config = readGlabConfig(input);
  if (config?.token) {
    return {
      token: config.token,
      source: `glab config (${config.path}, host ${config.hostKey})`,
      kind: config.oauth ? 'oauth' : 'private-token',
    };
  }
  return undefined;
}

/**
 * For "this needs a token" messages: how to give one, and, when glab knows the host but keeps its
 * token in the OS keyring (not in the file), that this tool cannot read it there.
 */
export function gitlabTokenHint(input: Omit<TokenSourceInput, 'flagEnvName'>): string {
  const base = `Set GITLAB_TOKEN (or name another variable with ${TOKEN_ENV_FLAG}) to a GitLab access token: read_api scope for lookups, api for changes.`;
  const config = readGlabConfig(input);
  if (config?.hostKey && !config.token) {
    return `${base} glab is logged in to ${config.hostKey} (${config.path}) but keeps the token in the OS keyring, which this tool does not read: export it as GITLAB_TOKEN ('glab auth status --show-token' prints it).`;
  }
  return base;
}

/** glab's search order: $GLAB_CONFIG_DIR, ~/.config/glab-cli (legacy, first on every OS), $XDG_CONFIG_HOME. */
export function glabConfigCandidates(env: NodeJS.ProcessEnv, homedir: string): string[] {
  const dirs = [
    nonEmpty(env.GLAB_CONFIG_DIR),
    join(homedir, '.config', 'glab-cli'),
    nonEmpty(env.XDG_CONFIG_HOME) ? join(env.XDG_CONFIG_HOME as string, 'glab-cli') : undefined,
  ].filter((d): d is string => d !== undefined);
  return [...new Set(dirs.map((d) => join(d, 'config.yml')))];
}

interface GlabHost {
  path: string;
  hostKey?: string | undefined;
  token?: string | undefined;
  oauth: boolean;
}

function readGlabConfig(input: Omit<TokenSourceInput, 'flagEnvName'>): GlabHost | undefined {
  const path = glabConfigCandidates(input.env, input.homedir).find((p) => existsSync(p));
  if (!path) return undefined;
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch {
    // An unreadable glab config is glab's problem; without it the run is anonymous, and says so.
    return { path, oauth: false };
  }
  const hosts = (doc as { hosts?: unknown } | null)?.hosts;
  if (!hosts || typeof hosts !== 'object') return { path, oauth: false };
  const wanted = input.host.toLowerCase();
  const entry = Object.entries(hosts as Record<string, unknown>).find(
    ([key]) => key.toLowerCase() === wanted,
  );
  if (!entry?.[1] || typeof entry[1] !== 'object') return { path, oauth: false };
  const host = entry[1] as Record<string, unknown>;
  const token = typeof host.token === 'string' ? nonEmpty(host.token) : undefined;
  const oauth = host.is_oauth2 === true || host.is_oauth2 === 'true';
  return { path, hostKey: entry[0], token, oauth };
}
