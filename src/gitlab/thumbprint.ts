/**
 * IAM OIDC provider thumbprints: SHA-1 (40 lower-case hex, no colons) of the top intermediate CA
 * certificate of the JWKS host's TLS chain.
 *
 * Which certificate: AWS's own procedure (`openssl s_client -showcerts`, take the last certificate
 * shown) pins the last certificate the server sends, and servers normally send leaf + intermediates
 * but not the root. Node may append the root from its trust store (or from `ca`), so this module
 * walks the chain Node reports, drops a self-signed root at the top, and takes the last remaining
 * certificate:
 *   leaf → intermediate(s) → [root]  → the top intermediate (the one the root signed)
 *   leaf → [root] (no intermediate)  → the leaf itself (what the AWS procedure yields)
 *   self-signed leaf                 → the leaf itself (AWS's documented example)
 * When the leaf is pinned, the thumbprint changes at every certificate renewal: `pinsLeaf` says so.
 */
import { createHash, X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls, { type DetailedPeerCertificate } from 'node:tls';
import type { Issuer } from '../core/types.js';
import { AbortError, CliError, TimeoutError, UsageError } from '../errors.js';
import { connectTlsThroughProxy, type ProxyEnv, ProxyRefusedError, proxyFor } from '../io/proxy.js';
import { TIMEOUT_ENV } from '../io/timeouts.js';
import { fetchDiscovery, GITLAB_COM_URL, normalizeIssuerUrl } from './discovery.js';
import {
  errorCode,
  type FetchLike,
  httpTimeoutMs,
  isAbortError,
  networkHint,
  throwIfAborted,
  viaProxyNote,
} from './http.js';

export const MAX_THUMBPRINTS = 5;

export interface ThumbprintOptions {
  /** PEM CA(s) to verify the chain against (replaces Node's default roots for this connection). */
  ca?: string | string[] | undefined;
  /** Default 10 s, or GITLAB_AWS_OIDC_TIMEOUT_MS. */
  timeoutMs?: number | undefined;
  /** Cancels the probe (SIGINT/SIGTERM). */
  signal?: AbortSignal | undefined;
  /** Where HTTPS_PROXY / NO_PROXY are read: through a proxy the probe tunnels with CONNECT. Default process.env. */
  env?: ProxyEnv | undefined;
}

export interface ThumbprintInfo {
  /** 40 lower-case hex characters. */
  thumbprint: string;
  host: string;
  port: number;
  /** Subject and issuer of the pinned certificate, as Node prints them (`CN=…`). */
  subject: string;
  issuer: string;
  validTo: string;
  /** The pinned certificate is the server's own (no intermediate CA was available). */
  pinsLeaf: boolean;
  /** Subjects of the chain as seen, leaf first. */
  chainSubjects: string[];
  /** This machine verified the chain and host name (with `ca`, or its own trust store). */
  trusted: boolean;
  /** Why it was not trusted (node's code, e.g. SELF_SIGNED_CERT_IN_CHAIN). */
  authorizationError?: string | undefined;
}

/** A certificate in the chain, minimal shape (so the selection logic is testable without TLS). */
export interface ChainCertificate {
  raw: Buffer;
}

/** SHA-1 of a DER certificate: 40 lower-case hex characters. */
export function sha1Thumbprint(der: Uint8Array): string {
  return createHash('sha1').update(der).digest('hex');
}

function isSelfSigned(der: Buffer): boolean {
  try {
    const cert = new X509Certificate(der);
    return cert.checkIssued(cert) && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

/**
 * Picks the certificate to pin from a chain ordered leaf first (see the module comment).
 * Returns its index.
 */
export function pickThumbprintIndex(chain: readonly ChainCertificate[]): number {
  if (chain.length === 0) throw new Error('empty certificate chain');
  const last = chain.length - 1;
  const top = chain[last];
  if (last > 0 && top && isSelfSigned(top.raw)) return last - 1;
  return last;
}

/** Walks `getPeerCertificate(true)` into an array, leaf first, stopping at a self-reference. */
export function walkPeerChain(leaf: DetailedPeerCertificate): DetailedPeerCertificate[] {
  const chain: DetailedPeerCertificate[] = [];
  const seen = new Set<string>();
  let cert: DetailedPeerCertificate | undefined = leaf;
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    chain.push(cert);
    seen.add(cert.fingerprint256);
    cert = cert.issuerCertificate;
  }
  return chain;
}

function nameOf(name: object | undefined): string {
  if (!name) return '';
  return Object.entries(name as Record<string, unknown>)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}

/** Connects to the JWKS host and describes the certificate to pin. */
export async function inspectThumbprint(
  jwksUri: string,
  options: ThumbprintOptions = {},
): Promise<ThumbprintInfo> {
  let url: URL;
  try {
    url = new URL(jwksUri);
  } catch {
    throw new CliError('THUMBPRINT_BAD_URL', `"${jwksUri}" is not a URL.`);
  }
  if (url.protocol !== 'https:') {
    throw new CliError('THUMBPRINT_BAD_URL', `The JWKS URL ${jwksUri} is not https.`, {
      hint: 'IAM fetches the keys over HTTPS only.',
    });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : 443;
  const timeoutMs = httpTimeoutMs(options.timeoutMs);
  const { signal } = options;
  throwIfAborted(signal, `reading the TLS certificate of ${host}:${port}`);

  const proxy = proxyFor(url, options.env ?? process.env);

  const peer = await new Promise<{ leaf: DetailedPeerCertificate; authorized: boolean; error?: string }>(
    (resolve, reject) => {
      let socket: tls.TLSSocket | undefined;
      let settled = false;
      // Ends a CONNECT tunnel still being set up (timeout, abort, or a result already in).
      const tunnel = new AbortController();
      const finish = (
        error: unknown,
        result?: { leaf: DetailedPeerCertificate; authorized: boolean; error?: string },
      ) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // The tunnel's own socket is ended only through the TLS socket on top of it once there is one:
        // destroying it underneath a live TLS socket crashes Node 20 (segfault).
        if (socket) socket.destroy();
        else tunnel.abort();
        if (result) resolve(result);
        else reject(error);
      };
      const onAbort = () => finish(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => {
        finish(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { code: 'TIMEOUT' }));
      }, timeoutMs);
      const attach = (s: tls.TLSSocket) => {
        if (settled) {
          s.destroy();
          return;
        }
        socket = s;
        s.once('secureConnect', () => {
          const leaf = s.getPeerCertificate(true);
          if (!leaf?.raw) finish(new Error('the server sent no certificate'));
          else
            finish(undefined, {
              leaf,
              authorized: s.authorized,
              ...(s.authorizationError ? { error: String(s.authorizationError) } : {}),
            });
        });
        s.once('error', (error) => finish(error));
      };
      // rejectUnauthorized: false on purpose: a private-CA chain (the case that needs a thumbprint) is
      // usually untrusted here. Trust is reported, not enforced; callers warn when it is missing.
      const tlsOptions = {
        ...(net.isIP(host) ? {} : { servername: host }),
        ca: options.ca,
        rejectUnauthorized: false,
      };
      if (!proxy) attach(tls.connect({ host, port, ...tlsOptions }));
      else
        connectTlsThroughProxy(proxy, { host, port }, tlsOptions, tunnel.signal).then(attach, (error) =>
          finish(error),
        );
    },
  ).catch((error: unknown) => {
    if (isAbortError(error)) {
      throw new AbortError(
        `Interrupted: reading the TLS certificate of ${host}:${port} was cancelled; nothing was changed.`,
      );
    }
    if (errorCode(error) === 'TIMEOUT') {
      throw new TimeoutError(
        {
          operation: 'TLS handshake (thumbprint)',
          endpoint: `${host}:${port}`,
          timeoutMs,
          changesNothing: true,
        },
        {
          hint: `${networkHint(error, jwksUri)} Raise the limit with ${TIMEOUT_ENV} (milliseconds), or pass the thumbprint yourself with --thumbprint.`,
          cause: error,
        },
      );
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw new CliError(
      'THUMBPRINT_UNREACHABLE',
      `Could not read the TLS certificate of ${host}:${port}: ${detail}`,
      {
        hint: `${networkHint(error, jwksUri)} Or pass the thumbprint yourself with --thumbprint.${error instanceof ProxyRefusedError ? '' : viaProxyNote(jwksUri, options.env)}`,
        cause: error,
      },
    );
  });

  const chain = walkPeerChain(peer.leaf);
  const index = pickThumbprintIndex(chain);
  const pinned = chain[index]!;
  return {
    thumbprint: sha1Thumbprint(pinned.raw),
    host,
    port,
    subject: nameOf(pinned.subject),
    issuer: nameOf(pinned.issuer),
    validTo: pinned.valid_to,
    pinsLeaf: index === 0,
    chainSubjects: chain.map((c) => nameOf(c.subject)),
    trusted: peer.authorized,
    authorizationError: peer.error,
  };
}

/** The thumbprint IAM expects for the host serving `jwksUri`: 40 lower-case hex characters. */
export async function computeThumbprint(jwksUri: string, options: ThumbprintOptions = {}): Promise<string> {
  return (await inspectThumbprint(jwksUri, options)).thumbprint;
}

/**
 * Validates `--thumbprint` values: 40 hex characters each (colons, as `openssl -fingerprint`
 * prints them, are accepted and removed), at most 5 once duplicates are removed. Returns them
 * lower-cased.
 */
export function normalizeThumbprints(values: readonly string[], field = '--thumbprint'): string[] {
  const out: string[] = [];
  for (const value of values) {
    const clean = value
      .trim()
      .replace(/^sha1 fingerprint=/i, '')
      .replace(/:/g, '')
      .toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(clean)) {
      throw UsageError.field(
        field,
        `"${value}" is not a SHA-1 thumbprint (40 hex characters)`,
        'Get it with: openssl x509 -in ca.pem -noout -fingerprint -sha1',
      );
    }
    if (!out.includes(clean)) out.push(clean);
  }
  if (out.length > MAX_THUMBPRINTS) {
    throw UsageError.field(field, `IAM accepts at most ${MAX_THUMBPRINTS} thumbprints (got ${out.length})`);
  }
  return out;
}

export interface ResolveThumbprintsInput {
  /** The issuer URL (`https://gitlab.example.com[/path]`) or the domain Issuer. */
  issuer: string | Pick<Issuer, 'url'>;
  /** `--thumbprint` values: when given, used as they are and nothing is fetched. */
  override?: readonly string[] | undefined;
  ca?: string | string[] | undefined;
  timeoutMs?: number | undefined;
  /** Cancels the fetches and probes (SIGINT/SIGTERM). */
  signal?: AbortSignal | undefined;
  fetchImpl?: FetchLike | undefined;
  /** Injected for tests and offline runs; defaults to `inspectThumbprint`. */
  inspect?: typeof inspectThumbprint | undefined;
  /** Where HTTPS_PROXY / NO_PROXY are read. Default process.env. */
  env?: ProxyEnv | undefined;
}

export interface ThumbprintResolution {
  /** What to put in the provider's ThumbprintList (may be empty). */
  thumbprints: string[];
  source: 'not-needed' | 'override' | 'computed';
  jwksUri?: string | undefined;
  /** Per host, what was pinned (when computed). */
  details: ThumbprintInfo[];
  /** Human lines worth showing (leaf pinned, chain not verified here, …). */
  warnings: string[];
}

/**
 * Decides the thumbprint list for an issuer.
 * - gitlab.com: none (AWS validates its public CA itself; nothing is fetched). Overrides are kept
 *   but flagged as unused.
 * - overrides: validated and used; nothing is fetched.
 * - self-managed: discovery → jwks_uri → thumbprint of that host, plus the issuer host's when it
 *   differs (AWS then checks both). Harmless when the instance uses a public CA: AWS ignores them.
 */
export async function resolveThumbprints(input: ResolveThumbprintsInput): Promise<ThumbprintResolution> {
  const issuerUrl = normalizeIssuerUrl(typeof input.issuer === 'string' ? input.issuer : input.issuer.url);
  const isGitlabCom = issuerUrl === GITLAB_COM_URL;
  if (input.override && input.override.length > 0) {
    const thumbprints = normalizeThumbprints(input.override);
    const warnings = isGitlabCom
      ? ['gitlab.com uses a public CA: AWS validates it itself and ignores these thumbprints.']
      : [];
    return { thumbprints, source: 'override', details: [], warnings };
  }
  if (isGitlabCom) return { thumbprints: [], source: 'not-needed', details: [], warnings: [] };

  const inspect = input.inspect ?? inspectThumbprint;
  const { signal } = input;
  const { env } = input;
  const httpOptions = { ca: input.ca, timeoutMs: input.timeoutMs, fetchImpl: input.fetchImpl, signal, env };
  const discovery = await fetchDiscovery(issuerUrl, httpOptions);
  const jwksHost = new URL(discovery.jwks_uri).host;
  const targets = [discovery.jwks_uri];
  if (new URL(issuerUrl).host !== jwksHost) targets.push(issuerUrl);

  const details: ThumbprintInfo[] = [];
  for (const target of targets)
    details.push(await inspect(target, { ca: input.ca, timeoutMs: input.timeoutMs, signal, env }));
  const thumbprints = [...new Set(details.map((d) => d.thumbprint))];
  const warnings: string[] = [];
  for (const d of details) {
    if (d.pinsLeaf) {
      warnings.push(
        `${d.host}: no intermediate CA in the chain, so the thumbprint pins the server certificate itself ` +
          `(${d.subject}, valid to ${d.validTo}); update the provider's thumbprints when it is renewed.`,
      );
    }
    if (!d.trusted) {
      warnings.push(
        `${d.host}: the certificate chain was not verified on this machine (${d.authorizationError ?? 'untrusted'}); ` +
          `compare thumbprint ${d.thumbprint} with your CA before trusting it.`,
      );
    }
  }
  if (targets.length > 1) {
    warnings.push(
      `Discovery and keys are on different hosts: both thumbprints are needed (${targets.join(', ')}).`,
    );
  }
  return { thumbprints, source: 'computed', jwksUri: discovery.jwks_uri, details, warnings };
}
