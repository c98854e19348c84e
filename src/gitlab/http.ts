/**
 * A tiny HTTPS GET used for OIDC discovery and JWKS.
 *
 * Node 20's global fetch cannot be given a CA without undici's Agent (not a dependency), so the
 * default transport is node:https, which takes `ca`. Callers (and tests) may inject a fetch-like
 * function instead. Redirects are not followed: a GitLab instance serves both documents directly,
 * and IAM/STS would not follow one either.
 */
import https from 'node:https';
import { AbortError, CliError, TimeoutError } from '../errors.js';
import {
  createProxyAgent,
  describeProxy,
  type ProxyEnv,
  ProxyRefusedError,
  proxyFor,
  proxyRefusalHint,
  proxyVariableFor,
} from '../io/proxy.js';
import { resolveTimeouts, TIMEOUT_ENV } from '../io/timeouts.js';

/** The subset of `fetch` this module needs; the global `fetch` satisfies it. */
export type FetchLike = (
  url: string,
  init: { signal: AbortSignal; headers: Record<string, string> },
) => Promise<{ status: number; headers?: { get(name: string): string | null }; text(): Promise<string> }>;

export interface HttpOptions {
  /** Use this instead of node:https (for instance the global `fetch`, or a test double). */
  fetchImpl?: FetchLike | undefined;
  /**
   * PEM CA certificate(s) to trust for this request. Replaces Node's default roots (like the `ca`
   * option of node:https); NODE_EXTRA_CA_CERTS keeps working when this is not given.
   */
  ca?: string | string[] | undefined;
  /** Whole-request timeout. Default 10 s, or GITLAB_AWS_OIDC_TIMEOUT_MS. */
  timeoutMs?: number | undefined;
  /** Cancels the request (SIGINT/SIGTERM). */
  signal?: AbortSignal | undefined;
  /** Where HTTPS_PROXY / NO_PROXY are read (src/io/proxy.ts). Default process.env. */
  env?: ProxyEnv | undefined;
}

/** This run's limit for one HTTPS fetch or TLS probe: `timeoutMs`, else GITLAB_AWS_OIDC_TIMEOUT_MS, else 10 s. */
export function httpTimeoutMs(timeoutMs: number | undefined): number {
  return timeoutMs ?? resolveTimeouts().httpMs;
}

/** Rejects when `signal` is already aborted: a cancelled run starts no new request. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AbortError(`Interrupted before ${what}: nothing was changed.`);
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpResponse {
  status: number;
  location?: string | undefined;
  body: string;
}

/** TLS verification failures, as node reports them in `error.code`. */
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A one-line hint for a network error, keyed on node's error code. */
export function networkHint(error: unknown, url: string): string {
  if (error instanceof ProxyRefusedError) return proxyRefusalHint(error, url);
  return (
    knownNetworkHint(error, url) ??
    `Could not reach ${safeHost(url)}. The discovery document and keys must be reachable over HTTPS (AWS fetches them too).`
  );
}

/** The hint for a network error node names (timeout, DNS, refused, TLS trust); undefined otherwise. */
export function knownNetworkHint(error: unknown, url: string): string | undefined {
  const code = errorCode(error);
  const host = safeHost(url);
  if (code === 'TIMEOUT')
    return `${host} did not answer in time. Check the URL, VPN and firewall, or raise the timeout.`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `The host name ${host} does not resolve. Check the GitLab URL.`;
  if (code === 'ECONNREFUSED') return `Nothing listens on ${host}. Check the URL and port.`;
  if (code && TLS_TRUST_CODES.has(code)) {
    return (
      `The TLS certificate of ${host} is not trusted here (${code}). If the instance uses a private CA, ` +
      'point NODE_EXTRA_CA_CERTS at the CA bundle (PEM) and retry. AWS must also be able to reach it: a private ' +
      'CA needs a thumbprint on the IAM provider.'
    );
  }
  return undefined;
}

/**
 * Appended to a network hint when the request went through a proxy, so the hint is read with the
 * proxy in mind (a refused connection may be the proxy's).
 */
export function viaProxyNote(url: string, env: ProxyEnv | undefined): string {
  let proxy: URL | undefined;
  try {
    proxy = proxyFor(url, env ?? process.env);
  } catch {
    return '';
  }
  if (!proxy) return '';
  return ` (This went through the proxy ${describeProxy(proxy)} from ${proxyVariableFor(url)}; NO_PROXY lists the hosts reached directly.)`;
}

export function errorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string')
    return error.code;
  return undefined;
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Transport-level timeout (mapped to the typed TimeoutError by the callers, who know what was fetched). */
class HttpTimeout extends Error {
  readonly code = 'TIMEOUT';
}

/**
 * GET `url`. Resolves with any HTTP status; rejects only on transport failure (raw error, with
 * `code` TIMEOUT on timeout). Callers turn both into CliErrors with their own wording.
 */
export async function httpGet(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const timeoutMs = httpTimeoutMs(options.timeoutMs);
  const headers = { accept: 'application/json', 'user-agent': 'gitlab-aws-oidc' };
  if (options.fetchImpl) {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new HttpTimeout(`timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const signal = options.signal ? AbortSignal.any([controller.signal, options.signal]) : controller.signal;
    try {
      const res = await options.fetchImpl(url, { signal, headers });
      const body = await res.text();
      return { status: res.status, location: res.headers?.get('location') ?? undefined, body };
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason;
      if (options.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
  if (new URL(url).protocol !== 'https:') {
    throw new CliError('INSECURE_URL', `Refusing to fetch ${url} over plain HTTP.`, {
      hint: 'GitLab OIDC discovery and keys must be served over HTTPS (IAM requires it).',
    });
  }
  const proxy = proxyFor(url, options.env ?? process.env);
  // One tunnel per fetch (closed with it): discovery and JWKS are two requests per run.
  const agent = proxy ? createProxyAgent(proxy) : undefined;
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'GET',
        headers,
        ca: options.ca,
        timeout: timeoutMs,
        ...(agent ? { agent } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            req.destroy(new Error(`response larger than ${MAX_BODY_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(deadline);
          resolve({
            status: res.statusCode ?? 0,
            location: typeof res.headers.location === 'string' ? res.headers.location : undefined,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    // `timeout` fires on socket inactivity; a whole-request deadline guards slow drips too.
    const deadline = setTimeout(
      () => req.destroy(new HttpTimeout(`timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    deadline.unref();
    req.on('timeout', () => req.destroy(new HttpTimeout(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('close', () => {
      clearTimeout(deadline);
      agent?.destroy();
    });
    // A refused CONNECT (403, 407) is the proxy's answer, not the server's: fail with what it was.
    req.on('proxyConnect', (res: { statusCode?: number; statusText?: string }) => {
      if (proxy && res.statusCode !== 200) {
        const where = new URL(url);
        const target = `${where.hostname}:${where.port || 443}`;
        req.destroy(new ProxyRefusedError(proxy, target, res.statusCode ?? 0, res.statusText ?? ''));
      }
    });
    req.end();
  });
}

/**
 * GET a JSON document, mapping every failure to a CliError `<prefix>_UNREACHABLE`,
 * `<prefix>_HTTP_STATUS` or `<prefix>_BAD_JSON` with a hint. `what` names the document in messages.
 */
export async function fetchJson(
  url: string,
  what: string,
  prefix: string,
  options: HttpOptions = {},
): Promise<unknown> {
  let res: HttpResponse;
  throwIfAborted(options.signal, `fetching the ${what} from ${url}`);
  try {
    res = await httpGet(url, options);
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (isAbortError(error)) {
      throw new AbortError(
        `Interrupted: fetching the ${what} from ${url} was cancelled; nothing was changed.`,
      );
    }
    if (errorCode(error) === 'TIMEOUT') {
      throw new TimeoutError(
        {
          operation: `GET of the ${what}`,
          endpoint: url,
          timeoutMs: httpTimeoutMs(options.timeoutMs),
          changesNothing: true,
        },
        { hint: `${networkHint(error, url)} (${TIMEOUT_ENV}, in milliseconds)`, cause: error },
      );
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw new CliError(`${prefix}_UNREACHABLE`, `Could not fetch the ${what} from ${url}: ${detail}`, {
      hint:
        networkHint(error, url) + (error instanceof ProxyRefusedError ? '' : viaProxyNote(url, options.env)),
      cause: error,
    });
  }
  if (res.status !== 200) {
    const moved = res.location ? ` (redirects to ${res.location})` : '';
    throw new CliError(
      `${prefix}_HTTP_STATUS`,
      `The ${what} at ${url} answered HTTP ${res.status}${moved}.`,
      {
        hint:
          res.status === 404
            ? 'Check the GitLab URL (including any relative URL path such as /gitlab). The instance must serve it publicly.'
            : res.status === 401 || res.status === 403
              ? 'The instance must serve this document without authentication: AWS fetches it anonymously.'
              : 'The instance must answer 200 directly (AWS does not follow redirects or retry errors).',
      },
    );
  }
  try {
    return JSON.parse(res.body) as unknown;
  } catch (error) {
    const start = res.body.slice(0, 60).replace(/\s+/g, ' ');
    throw new CliError(`${prefix}_BAD_JSON`, `The ${what} at ${url} is not JSON (starts with "${start}").`, {
      hint: 'A proxy or sign-in page may be answering instead of GitLab. Open the URL in a browser to see what it serves.',
      cause: error,
    });
  }
}
