/**
 * A loopback HTTPS GitLab OIDC issuer for tests.
 *
 *   const issuer = await startOidcIssuer();
 *   try {
 *     const token = await issuer.mintToken({ ref: 'release' });
 *     await verifyGitlabToken(token, { issuerUrl: issuer.url, ca: issuer.caPem });
 *   } finally {
 *     await issuer.close();
 *   }
 *
 * It generates a private PKI (test-pki.ts: root CA → intermediate CA → leaf for 127.0.0.1/localhost), serves `/.well-known/openid-configuration` and `/oauth/discovery/keys` on
 * 127.0.0.1 (ephemeral port, optional path prefix), and mints RS256 ID tokens with GitLab's real
 * claim set. Trust it with `ca: issuer.caPem` (the root). Binds 127.0.0.1 only; always close().
 * `createOidcIssuerCore` is the same documents and minting without a server, so another loopback
 * server (fake-gitlab.ts) can be API and issuer on one URL, as a self-managed GitLab is.
 */
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { generateServerTls } from './test-pki.js';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

export interface OidcIssuerOptions {
  /** Serve under a path (a relative URL install): `/gitlab` → issuer `https://127.0.0.1:<port>/gitlab`. */
  pathPrefix?: string;
  /** Host name in the issuer URL: `127.0.0.1` (default) or `localhost`. Both are in the certificate. */
  hostname?: '127.0.0.1' | 'localhost';
  /** The `issuer` the discovery document claims (to test mismatches). Default: the real URL. */
  discoveryIssuer?: string | ((url: string) => string);
  /** Replace the discovery response entirely (to test 404, bad JSON, …). */
  discoveryResponse?: { status: number; body: string; contentType?: string };
  /** The kid of the published signing key. Default `gitlab-test-key-1`. */
  kid?: string;
  /**
   * Which certificates the server sends. `leaf+intermediate` (default, like real servers),
   * `full` (also the root), `leaf` (only the leaf). With `noIntermediate`, the root signs the leaf.
   */
  serve?: 'leaf+intermediate' | 'full' | 'leaf';
  /** Build the chain without an intermediate: root → leaf. */
  noIntermediate?: boolean;
  /**
   * Generate new RSA keys instead of reusing this module's shared pair (RSA generation is slow).
   * Issuers started without it share signing keys: differ them by `kid` if that matters.
   */
  freshKeys?: boolean;
}

export interface MintOptions {
  /** Already expired: exp = now - `expiredBySec` (default 120). */
  expired?: boolean;
  expiredBySec?: number;
  /** Not valid yet: nbf = now + this many seconds. */
  notBeforeInSec?: number;
  /** Sign with a second key the issuer does not publish, but with the published kid (bad signature). */
  wrongKey?: boolean;
  /** kid in the header (default: the published one). An unknown kid gives "no matching key". */
  kid?: string;
  /** Token lifetime in seconds (default 300, GitLab's default without a job timeout). */
  lifetimeSec?: number;
  /** Time the token is minted at (default now). */
  now?: Date;
}

export interface OidcIssuer {
  /** `https://127.0.0.1:<port>[/prefix]`, no trailing slash. */
  url: string;
  port: number;
  jwksUri: string;
  kid: string;
  /** The root CA certificate (PEM): pass as `ca` to trust the server. */
  caPem: string;
  /** PEMs leaf first: [leaf, intermediate, root] (or [leaf, root] with noIntermediate). */
  chainPems: string[];
  /** SHA-1 (40 lower-case hex) of the intermediate CA certificate (undefined with noIntermediate). */
  intermediateSha1: string | undefined;
  /** SHA-1 of the leaf certificate. */
  leafSha1: string;
  /** Paths requested so far, in order. */
  requests: string[];
  /** The default claim set for a mint at `now` (before overrides). */
  defaultClaims(now?: Date): Record<string, unknown>;
  /**
   * Mints an RS256 ID token. `claims` override the defaults; a claim set to `undefined` is removed.
   * `sub` is rebuilt from project_path/ref_type/ref unless given.
   */
  mintToken(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;
  /** Stops the server (idempotent). */
  close(): Promise<void>;
}

async function newSigningKeys(): Promise<{ signing: KeyPair; rogue: KeyPair }> {
  const [signing, rogue] = await Promise.all([
    generateKeyPair('RS256', { extractable: true }),
    generateKeyPair('RS256', { extractable: true }),
  ]);
  return { signing, rogue };
}
let sharedKeys: Promise<{ signing: KeyPair; rogue: KeyPair }> | undefined;

/** The issuer's documents and token minting, without a server (so another loopback server can serve them). */
export interface OidcIssuerCore {
  kid: string;
  /**
   * Answers `<prefix>/.well-known/openid-configuration` and `<prefix>/oauth/discovery/keys`; returns
   * false (and sends nothing) for any other path. `url` is the issuer URL (`https://host:port<prefix>`).
   */
  handle(
    path: string,
    url: string,
    prefix: string,
    send: (status: number, body: string, contentType?: string) => void,
  ): boolean;
  defaultClaims(url: string, now?: Date): Record<string, unknown>;
  mintToken(url: string, claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;
}

export type OidcIssuerCoreOptions = Pick<
  OidcIssuerOptions,
  'discoveryIssuer' | 'discoveryResponse' | 'kid' | 'freshKeys'
>;

/** The discovery + JWKS routes and the minting of startOidcIssuer, for composing into another server. */
export async function createOidcIssuerCore(options: OidcIssuerCoreOptions = {}): Promise<OidcIssuerCore> {
  const kid = options.kid ?? 'gitlab-test-key-1';
  if (!options.freshKeys) sharedKeys ??= newSigningKeys();
  const { signing, rogue } = await (options.freshKeys ? newSigningKeys() : sharedKeys!);
  const publicJwk: JWK = { ...(await exportJWK(signing.publicKey)), kid, use: 'sig', alg: 'RS256' };

  const handle: OidcIssuerCore['handle'] = (path, url, prefix, send) => {
    if (path === `${prefix}/.well-known/openid-configuration`) {
      if (options.discoveryResponse) {
        const { status, body, contentType } = options.discoveryResponse;
        send(status, body, contentType);
        return true;
      }
      const claimed =
        typeof options.discoveryIssuer === 'function'
          ? options.discoveryIssuer(url)
          : (options.discoveryIssuer ?? url);
      send(
        200,
        JSON.stringify({
          issuer: claimed,
          authorization_endpoint: `${url}/oauth/authorize`,
          token_endpoint: `${url}/oauth/token`,
          jwks_uri: `${url}/oauth/discovery/keys`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
      return true;
    }
    if (path === `${prefix}/oauth/discovery/keys`) {
      send(200, JSON.stringify({ keys: [publicJwk] }));
      return true;
    }
    return false;
  };

  const defaultClaims = (url: string, now: Date = new Date()): Record<string, unknown> => {
    const iat = Math.floor(now.getTime() / 1000);
    return {
      namespace_id: '72',
      namespace_path: 'acme/platform',
      project_id: '20',
      project_path: 'acme/platform/api',
      user_id: '1',
      user_login: 'sample-user',
      user_email: 'sample-user@example.com',
      user_access_level: 'maintainer',
      pipeline_id: '574',
      pipeline_source: 'push',
      job_id: '302',
      ref: 'main',
      ref_type: 'branch',
      ref_path: 'refs/heads/main',
      ref_protected: 'true',
      runner_id: 1,
      runner_environment: 'self-hosted',
      sha: '714a629c0b401fdce83e847fc9589983fc6f46bc',
      ci_config_ref_uri: `${new URL(url).host}/acme/platform/api//.gitlab-ci.yml@refs/heads/main`,
      ci_config_sha: '714a629c0b401fdce83e847fc9589983fc6f46bc',
      project_visibility: 'private',
      jti: randomUUID(),
      iss: url,
      iat,
      nbf: iat - 5,
      exp: iat + 300,
      aud: url,
    };
  };

  const mintToken = async (
    url: string,
    claims: Record<string, unknown> = {},
    mint: MintOptions = {},
  ): Promise<string> => {
    const now = mint.now ?? new Date();
    const nowSec = Math.floor(now.getTime() / 1000);
    const merged: Record<string, unknown> = { ...defaultClaims(url, now), ...claims };
    if (mint.lifetimeSec !== undefined) merged.exp = nowSec + mint.lifetimeSec;
    if (mint.expired) {
      const by = mint.expiredBySec ?? 120;
      merged.exp = nowSec - by;
      merged.iat = nowSec - by - 300;
      merged.nbf = nowSec - by - 305;
    }
    if (mint.notBeforeInSec !== undefined) merged.nbf = nowSec + mint.notBeforeInSec;
    if (!('sub' in claims)) {
      merged.sub = `project_path:${merged.project_path}:ref_type:${merged.ref_type}:ref:${merged.ref}`;
    }
    for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
    const key = mint.wrongKey ? rogue.privateKey : signing.privateKey;
    return new SignJWT(merged as JWTPayload)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: mint.kid ?? kid })
      .sign(key);
  };

  return { kid, handle, defaultClaims, mintToken };
}

/** `/gitlab/` → `/gitlab`, `gitlab` → `/gitlab`, undefined → ``. */
export function normalizePathPrefix(prefix: string | undefined): string {
  return (prefix ?? '').replace(/\/+$/, '').replace(/^(?=[^/])/, '/');
}

export async function startOidcIssuer(options: OidcIssuerOptions = {}): Promise<OidcIssuer> {
  const tls = await generateServerTls(options);
  const core = await createOidcIssuerCore(options);
  const prefix = normalizePathPrefix(options.pathPrefix);
  const hostname = options.hostname ?? '127.0.0.1';
  const requests: string[] = [];
  let url = '';

  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(path);
    const send = (status: number, body: string, contentType = 'application/json') => {
      res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (core.handle(path, url, prefix, send)) return;
    send(404, JSON.stringify({ error: '404 Not Found' }));
  });
  // Keep-alive sockets would hold close() open.
  server.keepAliveTimeout = 1;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  url = `https://${hostname}:${port}${prefix}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    jwksUri: `${url}/oauth/discovery/keys`,
    kid: core.kid,
    caPem: tls.caPem,
    chainPems: tls.chainPems,
    intermediateSha1: tls.intermediateSha1,
    leafSha1: tls.leafSha1,
    requests,
    defaultClaims: (now?: Date) => core.defaultClaims(url, now),
    mintToken: (claims?: Record<string, unknown>, options?: MintOptions) =>
      core.mintToken(url, claims, options),
    close: () => {
      // Idempotent: a test may close early and afterAll close again.
      closing ??= new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
      return closing;
    },
  };
}
