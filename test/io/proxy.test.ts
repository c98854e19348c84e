/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY for the AWS SDK clients, OIDC discovery + JWKS and the thumbprint
 * TLS probe, against a loopback CONNECT proxy. The environment is passed in (`env`), never set on
 * process.env; only the SDK's own endpoint and credential variables are stubbed, as in factory.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAwsPorts } from '../../src/aws/factory.js';
import { CliError, TimeoutError, UsageError } from '../../src/errors.js';
import { fetchDiscovery } from '../../src/gitlab/discovery.js';
import { fetchJson } from '../../src/gitlab/http.js';
import { inspectThumbprint } from '../../src/gitlab/thumbprint.js';
import { proxyFor, validateProxyEnv } from '../../src/io/proxy.js';
import { startBlackHole } from '../helpers/black-hole.js';
import { type ConnectProxy, startConnectProxy } from '../helpers/connect-proxy.js';
import { type IamServer, startIamServer } from '../helpers/iam-server.js';
import { type OidcIssuer, startOidcIssuer } from '../helpers/oidc-issuer.js';

/** The rejection of `promise` (a resolution fails the test). */
async function failure(promise: Promise<unknown>): Promise<CliError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as CliError,
  );
}

const proxies: ConnectProxy[] = [];
async function proxy(options: Parameters<typeof startConnectProxy>[0] = {}): Promise<ConnectProxy> {
  const p = await startConnectProxy(options);
  proxies.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

describe('proxyFor (proxy-from-env against an explicit env)', () => {
  const P = 'http://proxy.corp:3128/';
  it.each<[string, string, Record<string, string>, string | undefined]>([
    ['https → HTTPS_PROXY', 'https://gitlab.example.com', { HTTPS_PROXY: P }, P],
    ['https ignores HTTP_PROXY', 'https://gitlab.example.com', { HTTP_PROXY: P }, undefined],
    ['http → HTTP_PROXY', 'http://127.0.0.1:4566', { HTTP_PROXY: P }, P],
    ['http ignores HTTPS_PROXY', 'http://127.0.0.1:4566', { HTTPS_PROXY: P }, undefined],
    ['lower case is read too', 'https://sts.amazonaws.com', { https_proxy: P }, P],
    ['ALL_PROXY is the fallback', 'https://sts.amazonaws.com', { ALL_PROXY: P }, P],
    ['loopback is proxied unless NO_PROXY says so', 'https://127.0.0.1:8443', { HTTPS_PROXY: P }, P],
    [
      'NO_PROXY exact host',
      'https://127.0.0.1:8443',
      { HTTPS_PROXY: P, NO_PROXY: 'localhost,127.0.0.1' },
      undefined,
    ],
    ['no_proxy lower case', 'https://127.0.0.1:8443', { HTTPS_PROXY: P, no_proxy: '127.0.0.1' }, undefined],
    [
      'NO_PROXY .suffix',
      'https://gitlab.corp.example',
      { HTTPS_PROXY: P, NO_PROXY: '.corp.example' },
      undefined,
    ],
    [
      'NO_PROXY host:port of another port',
      'https://gitlab.corp:443',
      { HTTPS_PROXY: P, NO_PROXY: 'gitlab.corp:8443' },
      P,
    ],
    ['NO_PROXY *', 'https://iam.amazonaws.com', { HTTPS_PROXY: P, NO_PROXY: '*' }, undefined],
    [
      'a value without a scheme is http://',
      'https://iam.amazonaws.com',
      { HTTPS_PROXY: 'proxy.corp:3128' },
      P,
    ],
    ['nothing set', 'https://iam.amazonaws.com', {}, undefined],
  ])('%s', (_name, url, env, expected) => {
    expect(proxyFor(url, env)?.href).toBe(expected);
  });

  it('reads only the env it is given: process.env is untouched and unused', () => {
    const before = { ...process.env };
    expect(proxyFor('https://iam.amazonaws.com', { HTTPS_PROXY: P })?.href).toBe(P);
    expect(process.env).toEqual(before);
    expect(process.env.HTTPS_PROXY).toBeUndefined();
    expect(proxyFor('https://iam.amazonaws.com', {})).toBeUndefined();
  });

  it.each([
    ['HTTPS_PROXY', 'socks5://127.0.0.1:1080', /only http:\/\/ and https:\/\/ proxies/],
    ['http_proxy', 'http://[not a url', /is not a proxy URL/],
  ])('%s=%s is a usage error naming the variable', (name, value, message) => {
    const error = (() => {
      try {
        validateProxyEnv({ [name]: value });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).issues[0]).toMatchObject({
      field: name,
      message: expect.stringMatching(message),
    });
    expect((error as UsageError).exitCode).toBe(2);
  });

  it('a usage error never prints the credentials of the proxy URL', () => {
    const error = (() => {
      try {
        validateProxyEnv({ HTTPS_PROXY: 'socks5://alice:s3cret@proxy:1080' });
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(JSON.stringify(error?.toJSON())).not.toContain('s3cret');
  });
});

describe('the AWS SDK clients (createAwsPorts) behind a proxy', () => {
  let server: IamServer;
  let dir: string;
  beforeAll(async () => {
    server = await startIamServer({ account: '123412341234' });
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gao-proxy-'));
    for (const name of [
      'AWS_PROFILE',
      'AWS_REGION',
      'AWS_ENDPOINT_URL',
      'AWS_SESSION_TOKEN',
      'AWS_ROLE_ARN',
    ]) {
      vi.stubEnv(name, undefined);
    }
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFAKEFAKEFAKEFAKE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'fake-secret-access-key');
    vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
    vi.stubEnv('AWS_ENDPOINT_URL_IAM', server.url);
    vi.stubEnv('AWS_ENDPOINT_URL_STS', server.url);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });
  const host = () => new URL(server.url).host;

  // The loopback Query server speaks plain http://, so HTTP_PROXY is the variable that applies to it
  // (HTTPS_PROXY covers the real https:// AWS endpoints); both are set, as a corporate shell does.
  it('STS GetCallerIdentity and an IAM read go through the proxy (127.0.0.1 is not in NO_PROXY)', async () => {
    const p = await proxy();
    const env = { HTTPS_PROXY: p.url, HTTP_PROXY: p.url };
    const { iam, sts } = createAwsPorts({ env });
    expect(await sts.getCallerIdentity()).toMatchObject({ account: '123412341234' });
    expect(await iam.listOidcProviderArns()).toEqual([]);
    // Both clients tunnelled to the endpoint the SDK resolved from AWS_ENDPOINT_URL_*; keep-alive
    // reuses a tunnel, so there are at most as many tunnels as requests.
    expect(p.tunnels.length).toBeGreaterThanOrEqual(1);
    expect(new Set(p.tunnels)).toEqual(new Set([host()]));
    expect(p.requests).toEqual([]);
    expect(server.requests.slice(-2)).toEqual(['GetCallerIdentity', 'ListOpenIDConnectProviders']);
  });

  it('NO_PROXY naming the endpoint host sends the calls directly', async () => {
    const p = await proxy();
    const { sts } = createAwsPorts({
      env: { HTTPS_PROXY: p.url, HTTP_PROXY: p.url, NO_PROXY: 'localhost,127.0.0.1' },
    });
    expect(await sts.getCallerIdentity()).toMatchObject({ account: '123412341234' });
    expect(p.tunnels).toEqual([]);
  });

  it('HTTPS_PROXY alone leaves an http:// endpoint direct (the scheme picks the variable, as in the AWS CLI)', async () => {
    const p = await proxy();
    const { sts } = createAwsPorts({ env: { HTTPS_PROXY: p.url } });
    expect(await sts.getCallerIdentity()).toMatchObject({ account: '123412341234' });
    expect(p.tunnels).toEqual([]);
  });

  it('a proxy that refuses the tunnel fails the call (nothing reaches AWS)', async () => {
    const p = await proxy({ refuse: 403 });
    const before = server.requests.length;
    const { sts } = createAwsPorts({ env: { HTTP_PROXY: p.url } });
    await expect(sts.getCallerIdentity()).rejects.toBeInstanceOf(CliError);
    expect(p.refused).toEqual([host()]);
    expect(server.requests.length).toBe(before);
  });

  it('a proxy that never answers CONNECT ends in the usual TimeoutError (the SDK timeouts still apply)', async () => {
    const hole = await startBlackHole();
    try {
      const { sts } = createAwsPorts({
        env: { HTTP_PROXY: hole.url },
        timeouts: { connectMs: 100, awsRequestMs: 300, httpMs: 300 },
      });
      const began = Date.now();
      await expect(sts.getCallerIdentity()).rejects.toBeInstanceOf(TimeoutError);
      expect(Date.now() - began).toBeLessThan(5_000);
      expect(hole.connections()).toBe(1);
    } finally {
      await hole.close();
    }
  });

  it('a bad proxy variable is a usage error when the clients are built, before any call', () => {
    const before = server.requests.length;
    expect(() => createAwsPorts({ env: { HTTPS_PROXY: 'socks5://127.0.0.1:1080' } })).toThrow(UsageError);
    expect(server.requests.length).toBe(before);
  });
});

describe('OIDC discovery, JWKS and the thumbprint probe behind a proxy', () => {
  let issuer: OidcIssuer;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
  });
  afterAll(async () => {
    await issuer?.close();
  });
  const target = () => `127.0.0.1:${issuer.port}`;

  it('discovery and JWKS are fetched through the tunnel, with the issuer CA still verified', async () => {
    const p = await proxy();
    const env = { HTTPS_PROXY: p.url };
    const doc = await fetchDiscovery(issuer.url, { ca: issuer.caPem, env });
    expect(doc.jwks_uri).toBe(issuer.jwksUri);
    const jwks = (await fetchJson(doc.jwks_uri, 'JSON Web Key Set', 'JWKS', { ca: issuer.caPem, env })) as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.map((k) => k.kid)).toEqual([issuer.kid]);
    expect(p.tunnels).toEqual([target(), target()]);
    expect(issuer.requests.slice(-2)).toEqual(['/.well-known/openid-configuration', '/oauth/discovery/keys']);
  });

  it('through the proxy, an untrusted certificate is still refused (TLS is end to end)', async () => {
    const p = await proxy();
    const error = await failure(fetchDiscovery(issuer.url, { env: { HTTPS_PROXY: p.url } }));
    expect(error).toMatchObject({ code: 'DISCOVERY_UNREACHABLE' });
    expect((error as CliError).hint).toMatch(/not trusted here .*NODE_EXTRA_CA_CERTS/);
    expect((error as CliError).hint).toContain(`through the proxy ${p.url} from HTTPS_PROXY`);
    expect(p.tunnels).toEqual([target()]);
  });

  it('NO_PROXY matching the issuer fetches directly', async () => {
    const p = await proxy();
    await fetchDiscovery(issuer.url, {
      ca: issuer.caPem,
      env: { HTTPS_PROXY: p.url, NO_PROXY: '127.0.0.1' },
    });
    expect(p.tunnels).toEqual([]);
  });

  it('a refused CONNECT is reported as the proxy refusing, not as an HTTP answer of GitLab', async () => {
    const p = await proxy({ refuse: 403 });
    const error = await failure(
      fetchDiscovery(issuer.url, { ca: issuer.caPem, env: { HTTPS_PROXY: p.url } }),
    );
    expect(error).toMatchObject({ code: 'DISCOVERY_UNREACHABLE' });
    expect((error as CliError).message).toContain(
      `the proxy ${p.url} refused to tunnel to ${target()} (HTTP 403`,
    );
    expect((error as CliError).hint).toMatch(/allowed through the proxy, or add the host to NO_PROXY/);
  });

  it('proxy credentials come from the URL in HTTPS_PROXY (407 without them), and are never printed', async () => {
    const p = await proxy({ credentials: 'alice:s3cret' });
    const denied = await failure(
      fetchDiscovery(issuer.url, { ca: issuer.caPem, env: { HTTPS_PROXY: p.url } }),
    );
    expect(denied?.message).toContain('HTTP 407');
    expect(denied?.hint).toMatch(/needs credentials: put them in HTTPS_PROXY/);
    const withAuth = p.url.replace('http://', 'http://alice:s3cret@');
    const error = await failure(
      fetchDiscovery(`${issuer.url}/nope`, {
        ca: issuer.caPem,
        env: { HTTPS_PROXY: withAuth },
      }),
    );
    expect(error?.message).toContain('HTTP 404'); // GitLab's own answer: the tunnel was let through
    expect(JSON.stringify(error?.toJSON())).not.toContain('s3cret');
    expect(p.tunnels).toEqual([target()]);
  });

  it('the thumbprint probe tunnels with CONNECT and pins the same certificate as a direct probe', async () => {
    const p = await proxy();
    const direct = await inspectThumbprint(issuer.jwksUri, { ca: issuer.caPem });
    const proxied = await inspectThumbprint(issuer.jwksUri, {
      ca: issuer.caPem,
      env: { HTTPS_PROXY: p.url },
    });
    expect(proxied).toEqual(direct);
    expect(proxied.thumbprint).toBe(issuer.intermediateSha1);
    expect(proxied.trusted).toBe(true);
    expect(p.tunnels).toEqual([target()]);
  });

  it('the thumbprint probe through a refusing proxy fails with the proxy named', async () => {
    const p = await proxy({ refuse: 403 });
    const error = await failure(inspectThumbprint(issuer.jwksUri, { env: { HTTPS_PROXY: p.url } }));
    expect(error).toMatchObject({ code: 'THUMBPRINT_UNREACHABLE' });
    expect(error?.message).toContain(`the proxy ${p.url} refused to tunnel to ${target()}`);
    expect(error?.hint).toMatch(/--thumbprint/);
  });

  it('the thumbprint probe through a proxy that never answers times out, and closes the connection', async () => {
    const hole = await startBlackHole();
    try {
      const error = await failure(
        inspectThumbprint(issuer.jwksUri, {
          timeoutMs: 150,
          env: { HTTPS_PROXY: `http://127.0.0.1:${hole.port}` },
        }),
      );
      expect(error).toMatchObject({ code: 'TIMEOUT', timeoutMs: 150 });
      await vi.waitFor(() => expect(hole.open()).toBe(0));
    } finally {
      await hole.close();
    }
  });
});
