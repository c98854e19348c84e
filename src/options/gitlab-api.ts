/**
 * The GitLab API flags every command that talks to GitLab shares: `--gitlab-token-env NAME` (which
 * variable holds the token) and `--gitlab-api-url URL` (an API host apart from the issuer, like glab's
 * GITLAB_API_HOST; also how tests reach a fake while the issuer stays https://gitlab.com). Only
 * definitions and validation here: the client itself loads lazily (gitlab/api/lazy-port.ts).
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

export const GITLAB_TOKEN_ENV_FLAG = '--gitlab-token-env';
export const GITLAB_API_URL_FLAG = '--gitlab-api-url';

/** The raw flags, as commander hands them over. */
export interface RawGitlabApiFlags {
  gitlabTokenEnv?: string;
  gitlabApiUrl?: string;
}

/** Adds `--gitlab-token-env` and `--gitlab-api-url` to a command (one wording everywhere). */
export function addGitlabApiOptions(command: Command): Command {
  return command
    .option(
      `${GITLAB_TOKEN_ENV_FLAG} <name>`,
      'environment variable holding the GitLab API token (default: GITLAB_TOKEN, GITLAB_ACCESS_TOKEN, OAUTH_TOKEN, then glab config)',
    )
    .option(
      `${GITLAB_API_URL_FLAG} <url>`,
      'GitLab API base URL when it differs from --gitlab-url (the tool appends /api/v4)',
    );
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `--gitlab-token-env`: a variable name, not a token pasted by mistake. */
export function validateTokenEnvName(raw: string): string {
  const name = raw.trim();
  if (!ENV_NAME.test(name)) {
    // Never echo the value: a token pasted here instead of a variable name must not be printed.
    throw UsageError.field(
      GITLAB_TOKEN_ENV_FLAG,
      'must be the name of an environment variable (letters, digits, _), not the token itself',
      `For example ${GITLAB_TOKEN_ENV_FLAG} CI_API_TOKEN, with the token in $CI_API_TOKEN.`,
    );
  }
  return name;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * `--gitlab-api-url`: https (plain http only for a loopback host: a token must not cross a network in
 * the clear), no credentials, query or fragment; a trailing `/api/v4` and slashes are dropped.
 * Returns the normal form (`https://gitlab-api.example.com[/path]`).
 */
export function parseGitlabApiUrl(raw: string): string {
  const fail = (message: string): never => {
    throw UsageError.field(
      GITLAB_API_URL_FLAG,
      message,
      'Use https://<host>[:<port>][/<path>], e.g. https://gitlab-api.example.com (http only for 127.0.0.1 or localhost).',
    );
  };
  const input = raw.trim();
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return fail(`"${input}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`"${input}" must use https`);
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname.toLowerCase())) {
    fail(`"${input}" uses plain http, which would send the token unencrypted; use https`);
  }
  if (url.username || url.password) fail('must not contain credentials (give the token via GITLAB_TOKEN)');
  if (url.search || url.hash || input.includes('?') || input.includes('#'))
    fail(`"${input}" has a query or fragment`);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api\/v4$/, '');
  return `${url.protocol}//${url.host.toLowerCase()}${path}`;
}

/** The API base the client calls: `--gitlab-api-url` when given, else the GitLab URL (the issuer). */
export function resolveGitlabApiBase(gitlabUrl: string, apiUrl?: string | undefined): string {
  return apiUrl === undefined ? gitlabUrl.replace(/\/+$/, '') : parseGitlabApiUrl(apiUrl);
}
