/**
 * The typed error of a GitLab REST call that GitLab answered with an error status, and the errors of
 * a call that got no usable answer (unreachable, not GitLab). Each names the call as `METHOD /path`
 * (the path without its query string, never a header: the token cannot appear), carries GitLab's own
 * message and a hint that says what to do: which token, which role or scope.
 */
import { CliError } from '../../errors.js';

export interface GitlabCallInfo {
  method: string;
  /** The API path as called, e.g. `/projects/grp%2Fapp/variables` (no query string). */
  path: string;
  /** The instance (`https://gitlab.example.com`), for messages and token links. */
  baseUrl: string;
  /** True when a token was sent. */
  authenticated: boolean;
  /** Where the token came from (`GITLAB_TOKEN`, `--gitlab-token-env CI_API_TOKEN`, …). */
  tokenSource?: string | undefined;
  /** The role and scope the call needs, e.g. `the Maintainer role and the api scope`. */
  needs?: string | undefined;
  /** What the path names, for a 404: `project grp/app`, `group grp`. */
  subject?: string | undefined;
}

export interface GitlabErrorBody {
  /** GitLab's message, flattened to one line (`name has already been taken; key is invalid`). */
  message?: string | undefined;
  /** OAuth-style `error` (`invalid_token`, `insufficient_scope`). */
  error?: string | undefined;
  /** OAuth-style `scope` a 403 `insufficient_scope` names. */
  scope?: string | undefined;
}

const SCOPES_HELP = 'read_api for lookups, api for changes';

/** Turns GitLab's error body (`{"message": …}` or `{"error": …, "error_description": …}`) into one line. */
export function parseGitlabErrorBody(text: string): GitlabErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const line = text
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    return line ? { message: line.slice(0, 200) } : {};
  }
  if (!json || typeof json !== 'object') return {};
  const body = json as Record<string, unknown>;
  const out: GitlabErrorBody = {};
  const message = flattenMessage(body.message);
  const description = typeof body.error_description === 'string' ? body.error_description : undefined;
  if (typeof body.error === 'string') out.error = body.error;
  if (typeof body.scope === 'string') out.scope = body.scope;
  out.message = message ?? description ?? (typeof body.error === 'string' ? body.error : undefined);
  if (message && description) out.message = `${message}: ${description}`;
  return out;
}

/** GitLab's `message` is a string, an array of strings, or an object of field → messages. */
function flattenMessage(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => flattenMessage(v) ?? String(v)).join('; ') || undefined;
  if (value && typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>).map(([field, messages]) => {
      const list = Array.isArray(messages) ? messages.map(String) : [flattenMessage(messages) ?? ''];
      return list.map((m) => `${field} ${m}`.trim()).join('; ');
    });
    return parts.join('; ') || undefined;
  }
  return undefined;
}

function statusCode(status: number): string {
  if (status === 401) return 'GITLAB_UNAUTHORIZED';
  if (status === 403) return 'GITLAB_FORBIDDEN';
  if (status === 404) return 'GITLAB_NOT_FOUND';
  if (status === 409) return 'GITLAB_CONFLICT';
  if (status === 429) return 'GITLAB_RATE_LIMITED';
  if (status >= 500) return 'GITLAB_SERVER_ERROR';
  return 'GITLAB_HTTP_ERROR';
}

function tokenPage(baseUrl: string): string {
  return `${baseUrl}/-/user_settings/personal_access_tokens`;
}

/** The hint for a status: what to change so the call succeeds. */
export function gitlabHint(
  status: number,
  call: GitlabCallInfo,
  body: GitlabErrorBody,
  attempts = 1,
): string {
  const needs = call.needs ?? `a token with the ${SCOPES_HELP} scope`;
  const makeToken = `create a personal access token at ${tokenPage(call.baseUrl)} (scopes: ${SCOPES_HELP}) and export it as GITLAB_TOKEN, or name another variable with --gitlab-token-env`;
  if (status === 401) {
    if (!call.authenticated) return `This call needs a token: ${makeToken}.`;
    return `The token from ${call.tokenSource ?? 'the configured source'} was refused: it is invalid, expired or revoked. Check it, or ${makeToken}.`;
  }
  if (status === 403) {
    if (body.error === 'insufficient_scope') {
      return `The token from ${call.tokenSource ?? 'the configured source'} lacks a scope${body.scope ? ` (needs: ${body.scope})` : ''}; this call needs ${needs}.`;
    }
    if (!call.authenticated) return `This call needs ${needs}, and no token was given: ${makeToken}.`;
    return `The token from ${call.tokenSource ?? 'the configured source'} is not allowed to do this: it needs ${needs}.`;
  }
  if (status === 404) {
    const what = call.subject ?? 'the project or group';
    if (!call.authenticated) {
      return `${capitalize(what)} was not found, or is not public: without a token only public projects are visible. Set GITLAB_TOKEN (read_api scope) to a token that can see it, or check the path.`;
    }
    return `${capitalize(what)} was not found or is not visible to the token from ${call.tokenSource ?? 'the configured source'}. Check the path (or ID) and that the token's user is a member.`;
  }
  if (status === 429) {
    return `GitLab rate-limited this call${attempts > 1 ? ` ${attempts} times` : ''}. Wait a minute and re-run; a re-run is safe, it reads the state again.`;
  }
  if (status >= 500) {
    return `GitLab failed to answer${attempts > 1 ? ` after ${attempts} attempts` : ''}. Check ${call.baseUrl}'s status and re-run; a re-run is safe, it reads the state again.`;
  }
  if (status === 400 || status === 409 || status === 422) {
    return 'GitLab refused the request as it stands (message above). Check the value named in it.';
  }
  return `Unexpected answer from GitLab. Check that ${call.baseUrl} is a GitLab instance (its API answers at /api/v4).`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A GitLab REST call answered with an error status (after any retries). Exit 1. */
export class GitlabApiError extends CliError {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  /** GitLab's own message, one line. */
  readonly gitlabMessage: string | undefined;
  /** Attempts made (more than 1 after 429/5xx retries). */
  readonly attempts: number;

  constructor(
    status: number,
    call: GitlabCallInfo,
    body: GitlabErrorBody,
    options: { attempts?: number; hint?: string; cause?: unknown } = {},
  ) {
    const attempts = options.attempts ?? 1;
    const said = body.message ? `: ${body.message}` : '';
    super(statusCode(status), `GitLab ${call.method} ${call.path} answered HTTP ${status}${said}`, {
      hint: options.hint ?? gitlabHint(status, call, body, attempts),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.status = status;
    this.method = call.method;
    this.path = call.path;
    this.gitlabMessage = body.message;
    this.attempts = attempts;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      status: this.status,
      method: this.method,
      path: this.path,
      ...(this.gitlabMessage ? { gitlabMessage: this.gitlabMessage } : {}),
      ...(this.attempts > 1 ? { attempts: this.attempts } : {}),
    };
  }
}
