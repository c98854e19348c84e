/**
 * One GitLab REST call over undici's fetch: auth header, per-request timeout, abort, the 16.7+
 * redirect of a moved project (same origin only, a few hops), bounded retries (429 honouring
 * Retry-After, 5xx with full jitter, never a non-idempotent call GitLab may have applied), pagination
 * (`Link: rel="next"`, else `X-Next-Page`) with a hard page cap, and the typed errors. Reached only
 * through `client.ts` (and so only through `factory.ts`): `--help` never loads undici.
 *
 * Proxy: one EnvHttpProxyAgent per client, which honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY (lower or
 * upper case, lower first, like curl). TLS: Node's roots plus NODE_EXTRA_CA_CERTS, or `ca` when given.
 */
import { type Dispatcher, EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import type * as z from 'zod';
import { AbortError, CliError, TimeoutError } from '../../errors.js';
import { sleepUnlessAborted } from '../../io/sleep.js';
import { resolveTimeouts, TIMEOUT_ENV } from '../../io/timeouts.js';
import { VERSION } from '../../version.js';
import { knownNetworkHint } from '../http.js';
import { GitlabApiError, type GitlabCallInfo, parseGitlabErrorBody } from './errors.js';
import type { GitlabClientOptions } from './ports.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type Query = Record<string, string | number | boolean | undefined>;

export interface CallSpec {
  method: Method;
  /** Encoded API path below /api/v4, e.g. `/projects/grp%2Fapp`. */
  path: string;
  query?: Query | undefined;
  body?: unknown;
  /** The role and scope the call needs, for a 401/403 hint. */
  needs?: string | undefined;
  /** What the path names, for a 404 hint (`project grp/app`). */
  subject?: string | undefined;
  /**
   * A POST that may be retried on 5xx because a repeat is harmless (the caller turns GitLab's
   * "already exists" into the existing object). Other POSTs are never retried on 5xx.
   */
  retrySafe?: boolean | undefined;
}

export interface CallResult {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
  /** Set when a redirect was followed: the URL answered in the end. */
  redirectedTo?: string | undefined;
  /** Attempts made (1 unless retried). */
  attempts: number;
}

export const DEFAULT_MAX_RETRIES = 4;
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
export const DEFAULT_MAX_PAGES = 500;
export const PER_PAGE = 100;
const MAX_REDIRECTS = 3;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 8_000;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Full jitter: a uniform wait in [0, min(cap, base·2^(attempt-1))]. */
export function backoffDelayMs(attempt: number, random: () => number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** `<https://…>; rel="next", <…>; rel="last"` → the next URL. */
export function parseNextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;(.*)$/.exec(part.trim());
    if (m && /\brel\s*=\s*"?(?:[^";]*\s)?next(?=[\s";]|$)/.test(m[2] ?? '')) return m[1];
  }
  return undefined;
}

/** `https://user:pass@proxy:3128` → `https://proxy:3128` (for messages). */
function safeProxy(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'the configured proxy';
  }
}

type FetchFn = (url: string, init: Record<string, unknown>) => Promise<Response>;

export class GitlabTransport {
  readonly baseUrl: string;
  readonly apiBase: string;
  readonly authenticated: boolean;
  private readonly origin: string;
  private readonly token: string | undefined;
  private readonly options: GitlabClientOptions;
  private readonly fetchFn: FetchFn;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxRetryAfterMs: number;
  private readonly maxPages: number;
  private readonly sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  private readonly random: () => number;
  private readonly proxy: string | undefined;

  constructor(options: GitlabClientOptions) {
    this.options = options;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '').replace(/\/api\/v4$/, '');
    this.apiBase = `${this.baseUrl}/api/v4`;
    this.origin = new URL(this.apiBase).origin;
    this.token = options.token || undefined;
    this.authenticated = this.token !== undefined;
    this.timeoutMs = options.timeoutMs ?? resolveTimeouts(options.env ?? process.env).httpMs;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    this.maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    this.sleep = options.sleep ?? sleepUnlessAborted;
    this.random = options.random ?? Math.random;
    const env = options.env ?? process.env;
    const httpsProxy = env.https_proxy ?? env.HTTPS_PROXY;
    const httpProxy = env.http_proxy ?? env.HTTP_PROXY;
    this.proxy = safeProxy(
      new URL(this.apiBase).protocol === 'https:' ? (httpsProxy ?? httpProxy) : httpProxy,
    );
    if (options.fetchImpl) {
      this.fetchFn = options.fetchImpl as unknown as FetchFn;
    } else {
      // Values from `env` (not undici's own process.env read), so a test env and the real one agree;
      // '' means "none" to undici.
      const tls = options.ca === undefined ? {} : { ca: options.ca };
      this.dispatcher = new EnvHttpProxyAgent({
        httpProxy: httpProxy ?? '',
        httpsProxy: httpsProxy ?? '',
        noProxy: env.no_proxy ?? env.NO_PROXY ?? '',
        connect: { ...tls, timeout: Math.min(this.timeoutMs, resolveTimeouts(env).connectMs) },
        requestTls: tls,
      });
      this.fetchFn = undiciFetch as unknown as FetchFn;
    }
  }

  /** Closes the pooled connections (tests; a CLI run just exits). */
  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  callInfo(spec: CallSpec): GitlabCallInfo {
    return {
      method: spec.method,
      path: spec.path,
      baseUrl: this.baseUrl,
      authenticated: this.authenticated,
      tokenSource: this.options.tokenSource,
      needs: spec.needs,
      subject: spec.subject,
    };
  }

  urlFor(spec: CallSpec): string {
    const url = new URL(`${this.apiBase}${spec.path}`);
    for (const [k, v] of Object.entries(spec.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return url.toString();
  }

  /** The token must never surface, even if a server echoes it. */
  redact(text: string): string {
    return this.token ? text.split(this.token).join('[redacted]') : text;
  }

  /**
   * One call with retries and redirects. Resolves with any status GitLab answered in the end except
   * an error status, which becomes a GitlabApiError (unless listed in `accept`, e.g. 404 for a lookup).
   */
  async call(spec: CallSpec, accept: readonly number[] = [], url = this.urlFor(spec)): Promise<CallResult> {
    const idempotent = spec.method !== 'POST' || spec.retrySafe === true;
    for (let attempt = 1; ; attempt++) {
      const res = await this.followRedirects(spec, url);
      const retriesLeft = attempt <= this.maxRetries;
      if (res.status === 429 && retriesLeft) {
        const asked = parseRetryAfter(res.headers.get('retry-after'));
        if (asked === undefined || asked <= this.maxRetryAfterMs) {
          await this.wait(spec, 429, asked ?? backoffDelayMs(attempt, this.random), attempt);
          continue;
        }
        throw this.error(spec, res, attempt, {
          hint: `GitLab asks to wait ${Math.ceil(asked / 1000)} s before the next call, longer than this tool waits (${Math.ceil(this.maxRetryAfterMs / 1000)} s). Re-run later; a re-run is safe, it reads the state again.`,
        });
      }
      if (res.status >= 500 && res.status <= 599 && idempotent && retriesLeft) {
        await this.wait(spec, res.status, backoffDelayMs(attempt, this.random), attempt);
        continue;
      }
      if (res.status >= 400 && !accept.includes(res.status)) {
        const unsafe = res.status >= 500 && !idempotent;
        throw this.error(
          spec,
          res,
          attempt,
          unsafe
            ? {
                hint: `GitLab failed while handling ${spec.method} ${spec.path}; it was not retried because a repeat could apply it twice. Re-run the same command: it reads the state again and finishes.`,
              }
            : {},
        );
      }
      return { ...res, attempts: attempt };
    }
  }

  /** Every page of a list call, items as GitLab returned them (validated per page by the caller). */
  async listPages(spec: CallSpec): Promise<unknown[]> {
    const items: unknown[] = [];
    let url: string | undefined = this.urlFor({ ...spec, query: { per_page: PER_PAGE, ...spec.query } });
    for (let page = 1; url !== undefined; page++) {
      if (page > this.maxPages) {
        throw new CliError(
          'GITLAB_TOO_MANY_PAGES',
          `GitLab ${spec.method} ${spec.path} returned more than ${this.maxPages} pages (${this.maxPages * PER_PAGE} items); stopped.`,
          {
            hint: 'Narrow the request (a subgroup instead of the top group), or check that the server pages correctly (a server that always answers a next page loops).',
          },
        );
      }
      const res = await this.call(spec, [], url);
      const body = this.parseJson(spec, res);
      if (!Array.isArray(body)) throw this.badResponse(spec, 'a list (JSON array)', 'not an array');
      items.push(...body);
      url = this.nextPage(spec, url, res);
    }
    return items;
  }

  private nextPage(spec: CallSpec, current: string, res: CallResult): string | undefined {
    const link = parseNextLink(res.headers.get('link'));
    if (link) {
      const next = new URL(link, current);
      if (next.origin !== this.origin) {
        throw new CliError(
          'GITLAB_BAD_RESPONSE',
          `GitLab ${spec.method} ${spec.path}: the next page link points to another host (${next.origin}); not followed.`,
          { hint: `Check --gitlab-api-url: the API must be served from ${this.origin}.` },
        );
      }
      return next.toString();
    }
    const page = res.headers.get('x-next-page')?.trim();
    if (page && /^\d+$/.test(page)) {
      const next = new URL(current);
      next.searchParams.set('page', page);
      return next.toString();
    }
    return undefined;
  }

  parseJson(spec: CallSpec, res: CallResult): unknown {
    try {
      return JSON.parse(res.text) as unknown;
    } catch {
      const start = this.redact(res.text.slice(0, 60).replace(/\s+/g, ' '));
      throw this.badResponse(spec, 'JSON', `starts with "${start}"`);
    }
  }

  /** Validates the minimal fields with `schema` so a non-GitLab server gives a clear error. */
  parse<S extends z.ZodType>(spec: CallSpec, schema: S, value: unknown, what: string): z.output<S> {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const fields = result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw this.badResponse(spec, what, fields);
  }

  badResponse(spec: CallSpec, expected: string, detail: string): CliError {
    return new CliError(
      'GITLAB_BAD_RESPONSE',
      `GitLab ${spec.method} ${spec.path} did not answer with ${expected} (${detail}).`,
      {
        hint: `Check that ${this.apiBase} is a GitLab API (--gitlab-url, --gitlab-api-url); a proxy or sign-in page may be answering instead.`,
      },
    );
  }

  /** The typed error for an error answer (GitLab's message, the token redacted). */
  errorFor(spec: CallSpec, res: { status: number; text: string; attempts?: number }): GitlabApiError {
    return this.error(spec, res, res.attempts ?? 1);
  }

  private error(
    spec: CallSpec,
    res: { status: number; text: string },
    attempts: number,
    extra: { hint?: string } = {},
  ): GitlabApiError {
    const body = parseGitlabErrorBody(res.text);
    if (body.message) body.message = this.redact(body.message);
    return new GitlabApiError(res.status, this.callInfo(spec), body, { attempts, ...extra });
  }

  private async wait(spec: CallSpec, status: number, delayMs: number, attempt: number): Promise<void> {
    this.options.onRetry?.({ status, delayMs, attempt, path: spec.path });
    await this.sleep(delayMs, this.options.signal);
  }

  private async followRedirects(spec: CallSpec, start: string): Promise<Omit<CallResult, 'attempts'>> {
    let url = start;
    let redirectedTo: string | undefined;
    for (let hop = 0; ; hop++) {
      const res = await this.once(spec, url);
      const location = res.headers.get('location');
      const follow =
        REDIRECT_STATUSES.has(res.status) &&
        location &&
        (spec.method === 'GET' || res.status === 307 || res.status === 308);
      if (!follow) return { ...res, redirectedTo };
      const next = new URL(location, url);
      if (next.origin !== this.origin) {
        throw new CliError(
          'GITLAB_REDIRECT',
          `GitLab ${spec.method} ${spec.path} redirects to another host (${next.origin}); not followed, the token is only sent to ${this.origin}.`,
          {
            hint: `If the instance moved, point --gitlab-url (or --gitlab-api-url) at ${next.origin}.`,
          },
        );
      }
      if (hop >= MAX_REDIRECTS) {
        throw new CliError(
          'GITLAB_REDIRECT',
          `GitLab ${spec.method} ${spec.path} redirected more than ${MAX_REDIRECTS} times; stopped.`,
          { hint: 'Look the project up by its numeric ID (--project-id), or check the path.' },
        );
      }
      url = next.toString();
      redirectedTo = url;
    }
  }

  /** One HTTP exchange, body read included, bounded by the timeout and the run's signal. */
  private async once(spec: CallSpec, url: string): Promise<Omit<CallResult, 'attempts'>> {
    const signal = this.options.signal;
    const what = `GitLab ${spec.method} ${spec.path}`;
    const changesNothing = spec.method === 'GET';
    if (signal?.aborted) throw new AbortError(`Interrupted before ${what}: nothing was changed by it.`);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.timeoutMs);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': `gitlab-aws-oidc/${VERSION}`,
    };
    if (this.token) {
      if (this.options.tokenKind === 'oauth') headers.authorization = `Bearer ${this.token}`;
      else headers['private-token'] = this.token;
    }
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await this.fetchFn(url, {
        method: spec.method,
        headers,
        redirect: 'manual',
        signal: signal ? AbortSignal.any([timeout.signal, signal]) : timeout.signal,
        ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text };
    } catch (error) {
      if (signal?.aborted) {
        throw new AbortError(
          `Interrupted: ${what} was cancelled; ${changesNothing ? 'nothing was changed by it' : 'GitLab may or may not have applied it (a re-run reads the state again)'}.`,
        );
      }
      if (timeout.signal.aborted) {
        throw new TimeoutError(
          {
            operation: what,
            endpoint: this.apiBase,
            timeoutMs: this.timeoutMs,
            changesNothing,
            service: 'GitLab API',
          },
          {
            hint: `Check that ${this.origin} is reachable from here (VPN, firewall${this.proxy ? `, the proxy ${this.proxy}` : ', HTTPS_PROXY'}), or raise the limit with ${TIMEOUT_ENV} (milliseconds).`,
            cause: error,
          },
        );
      }
      throw this.unreachable(what, url, error);
    } finally {
      clearTimeout(timer);
    }
  }

  private unreachable(what: string, url: string, error: unknown): CliError {
    // undici: TypeError('fetch failed') with the socket error as `cause`.
    const inner = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const detail = this.redact(inner instanceof Error ? inner.message : String(inner));
    const viaProxy = this.proxy
      ? ` through the proxy ${this.proxy} (HTTPS_PROXY/HTTP_PROXY; NO_PROXY bypasses it)`
      : '';
    const hint =
      knownNetworkHint(inner, url) ??
      `Could not reach ${this.origin}${viaProxy}. Check the URL (--gitlab-url, --gitlab-api-url), VPN and proxy settings.`;
    return new CliError(
      'GITLAB_UNREACHABLE',
      `${what} failed: could not reach ${this.origin}${viaProxy}: ${detail}`,
      {
        hint,
        cause: error,
      },
    );
  }
}
