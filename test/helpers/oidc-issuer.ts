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
 * It generates a private PKI (root CA → intermediate CA → leaf for 127.0.0.1/localhost) with
 * @peculiar/x509, serves `/.well-known/openid-configuration` and `/oauth/discovery/keys` on
 * 127.0.0.1 (ephemeral port, optional path prefix), and mints RS256 ID tokens with GitLab's real
 * claim set. Trust it with `ca: issuer.caPem` (the root). Binds 127.0.0.1 only; always close().
 */
import { KeyObject, X509Certificate as NodeX509Certificate, randomUUID, webcrypto } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type * as X509 from '@peculiar/x509';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/**
 * @peculiar/x509 2.x uses tsyringe, which refuses to load without a Reflect metadata API, and
 * `reflect-metadata` is not a dependency. Its algorithm classes take no constructor parameters,
 * so a minimal WeakMap-backed API is enough. Installed only when none exists; x509 is then
 * imported dynamically (a static import would be evaluated before this runs).
 */
function installReflectMetadata(): void {
  const R = Reflect as unknown as Record<string, unknown>;
  if (typeof R.getMetadata === 'function') return;
  const store = new WeakMap<object, Map<unknown, Map<unknown, unknown>>>();
  const own = (target: object, prop: unknown, create: boolean) => {
    let byProp = store.get(target);
    if (!byProp) {
      if (!create) return undefined;
      byProp = new Map();
      store.set(target, byProp);
    }
    let byKey = byProp.get(prop);
    if (!byKey && create) {
      byKey = new Map();
      byProp.set(prop, byKey);
    }
    return byKey;
  };
  R.defineMetadata = (key: unknown, value: unknown, target: object, prop?: unknown) => {
    own(target, prop, true)!.set(key, value);
  };
  R.getOwnMetadata = (key: unknown, target: object, prop?: unknown) => own(target, prop, false)?.get(key);
  R.getMetadata = (key: unknown, target: object, prop?: unknown) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const map = own(t, prop, false);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };
  R.hasMetadata = (key: unknown, target: object, prop?: unknown) =>
    (R.getMetadata as (k: unknown, t: object, p?: unknown) => unknown)(key, target, prop) !== undefined;
  R.metadata = (key: unknown, value: unknown) => (target: object, prop?: unknown) => {
    own(target, prop, true)!.set(key, value);
  };
}

let x509Module: Promise<typeof X509> | undefined;
function loadX509(): Promise<typeof X509> {
  x509Module ??= (async () => {
    installReflectMetadata();
    const mod = await import('@peculiar/x509');
    mod.cryptoProvider.set(webcrypto as unknown as Parameters<typeof mod.cryptoProvider.set>[0]);
    return mod;
  })();
  return x509Module;
}

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

interface Pki {
  chain: X509.X509Certificate[]; // leaf first
  leafKeyPem: string;
}

const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;

async function generatePki(noIntermediate: boolean): Promise<Pki> {
  const x509 = await loadX509();
  const now = Date.now();
  const notBefore = new Date(now - 60 * 60 * 1000);
  const notAfter = new Date(now + 24 * 60 * 60 * 1000);
  const newKeys = () =>
    webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;

  const rootKeys = await newKeys();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=gitlab-aws-oidc Test Root CA, O=Test',
    keys: rootKeys,
    notBefore,
    notAfter,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });

  let issuerCert = root;
  let issuerKeys = rootKeys;
  const cas: X509.X509Certificate[] = [root];
  if (!noIntermediate) {
    const interKeys = await newKeys();
    const inter = await x509.X509CertificateGenerator.create({
      subject: 'CN=gitlab-aws-oidc Test Intermediate CA, O=Test',
      issuer: root.subject,
      publicKey: interKeys.publicKey,
      signingKey: rootKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: SIGN_ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(interKeys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
      ],
    });
    cas.unshift(inter);
    issuerCert = inter;
    issuerKeys = interKeys;
  }

  const leafKeys = await newKeys();
  const leaf = await x509.X509CertificateGenerator.create({
    subject: 'CN=127.0.0.1',
    issuer: issuerCert.subject,
    publicKey: leafKeys.publicKey,
    signingKey: issuerKeys.privateKey,
    notBefore,
    notAfter,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuerKeys.publicKey),
    ],
  });

  const leafKeyPem = KeyObject.from(leafKeys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { chain: [leaf, ...cas], leafKeyPem };
}

function sha1Of(cert: X509.X509Certificate): string {
  // Independent of the code under test: node's own fingerprint, colons removed.
  return new NodeX509Certificate(cert.toString('pem')).fingerprint.replace(/:/g, '').toLowerCase();
}

async function newSigningKeys(): Promise<{ signing: KeyPair; rogue: KeyPair }> {
  const [signing, rogue] = await Promise.all([
    generateKeyPair('RS256', { extractable: true }),
    generateKeyPair('RS256', { extractable: true }),
  ]);
  return { signing, rogue };
}
let sharedKeys: Promise<{ signing: KeyPair; rogue: KeyPair }> | undefined;

export async function startOidcIssuer(options: OidcIssuerOptions = {}): Promise<OidcIssuer> {
  const pki = await generatePki(options.noIntermediate ?? false);
  const chainPems = pki.chain.map((c) => c.toString('pem'));
  const rootPem = chainPems[chainPems.length - 1]!;
  const serve = options.serve ?? 'leaf+intermediate';
  const served =
    serve === 'leaf' ? chainPems.slice(0, 1) : serve === 'full' ? chainPems : chainPems.slice(0, -1);

  const kid = options.kid ?? 'gitlab-test-key-1';
  if (!options.freshKeys) sharedKeys ??= newSigningKeys();
  const { signing, rogue } = await (options.freshKeys ? newSigningKeys() : sharedKeys!);
  const publicJwk: JWK = { ...(await exportJWK(signing.publicKey)), kid, use: 'sig', alg: 'RS256' };

  const prefix = (options.pathPrefix ?? '').replace(/\/+$/, '').replace(/^(?=[^/])/, '/');
  const hostname = options.hostname ?? '127.0.0.1';
  const requests: string[] = [];
  let url = '';

  const server = https.createServer({ key: pki.leafKeyPem, cert: served.join('\n') }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(path);
    const send = (status: number, body: string, contentType = 'application/json') => {
      res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (path === `${prefix}/.well-known/openid-configuration`) {
      if (options.discoveryResponse) {
        const { status, body, contentType } = options.discoveryResponse;
        send(status, body, contentType);
        return;
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
      return;
    }
    if (path === `${prefix}/oauth/discovery/keys`) {
      send(200, JSON.stringify({ keys: [publicJwk] }));
      return;
    }
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

  const defaultClaims = (now: Date = new Date()): Record<string, unknown> => {
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

  const mintToken = async (claims: Record<string, unknown> = {}, mint: MintOptions = {}): Promise<string> => {
    const now = mint.now ?? new Date();
    const nowSec = Math.floor(now.getTime() / 1000);
    const merged: Record<string, unknown> = { ...defaultClaims(now), ...claims };
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

  let closing: Promise<void> | undefined;
  const leaf = pki.chain[0]!;
  const intermediate = options.noIntermediate ? undefined : pki.chain[1];
  return {
    url,
    port,
    jwksUri: `${url}/oauth/discovery/keys`,
    kid,
    caPem: rootPem,
    chainPems,
    intermediateSha1: intermediate ? sha1Of(intermediate) : undefined,
    leafSha1: sha1Of(leaf),
    requests,
    defaultClaims,
    mintToken,
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
