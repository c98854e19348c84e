/**
 * The private test PKI shared by the loopback HTTPS servers (oidc-issuer.ts, fake-gitlab.ts):
 * root CA → intermediate CA → leaf for 127.0.0.1/localhost (ECDSA P-256, @peculiar/x509), valid
 * from an hour ago to a day ahead. Trust a server with its root (`caPem`).
 *
 *   const tls = await generateServerTls();
 *   https.createServer({ key: tls.keyPem, cert: tls.certPem }, handler);
 *   await fetch(url, { dispatcher: new Agent({ connect: { ca: tls.caPem } }) });
 */
import { KeyObject, X509Certificate as NodeX509Certificate, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

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

export interface Pki {
  chain: X509.X509Certificate[]; // leaf first
  leafKeyPem: string;
}

const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;

export async function generatePki(noIntermediate: boolean): Promise<Pki> {
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

export function sha1Of(cert: X509.X509Certificate): string {
  // Independent of the code under test: node's own fingerprint, colons removed.
  return new NodeX509Certificate(cert.toString('pem')).fingerprint.replace(/:/g, '').toLowerCase();
}

export interface ServerTlsOptions {
  /**
   * Which certificates the server sends. `leaf+intermediate` (default, like real servers),
   * `full` (also the root), `leaf` (only the leaf). With `noIntermediate`, the root signs the leaf.
   */
  serve?: 'leaf+intermediate' | 'full' | 'leaf';
  /** Build the chain without an intermediate: root → leaf. */
  noIntermediate?: boolean;
}

export interface ServerTls {
  /** The root CA certificate (PEM): pass as `ca` to trust the server. */
  caPem: string;
  /** PEMs leaf first: [leaf, intermediate, root] (or [leaf, root] with noIntermediate). */
  chainPems: string[];
  /** What the server sends (per `serve`), for `https.createServer({ cert })`. */
  certPem: string;
  /** The leaf's private key (PKCS#8 PEM), for `https.createServer({ key })`. */
  keyPem: string;
  /** SHA-1 (40 lower-case hex) of the intermediate CA certificate (undefined with noIntermediate). */
  intermediateSha1: string | undefined;
  /** SHA-1 of the leaf certificate. */
  leafSha1: string;
}

/** A fresh PKI, shaped for `https.createServer`. */
export async function generateServerTls(options: ServerTlsOptions = {}): Promise<ServerTls> {
  const pki = await generatePki(options.noIntermediate ?? false);
  const chainPems = pki.chain.map((c) => c.toString('pem'));
  const serve = options.serve ?? 'leaf+intermediate';
  const served =
    serve === 'leaf' ? chainPems.slice(0, 1) : serve === 'full' ? chainPems : chainPems.slice(0, -1);
  const intermediate = options.noIntermediate ? undefined : pki.chain[1];
  return {
    caPem: chainPems[chainPems.length - 1]!,
    chainPems,
    certPem: served.join('\n'),
    keyPem: pki.leafKeyPem,
    intermediateSha1: intermediate ? sha1Of(intermediate) : undefined,
    leafSha1: sha1Of(pki.chain[0]!),
  };
}
