import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError, UsageError } from '../../src/errors.js';
import {
  discoveryUrl,
  explainIssuerMismatch,
  type FetchLike,
  fetchDiscovery,
  IssuerMismatchError,
  normalizeIssuerUrl,
} from '../../src/gitlab/discovery.js';
import { type OidcIssuer, startOidcIssuer } from '../helpers/oidc-issuer.js';

async function rejection(promise: Promise<unknown>): Promise<CliError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  }
  throw new Error('expected a rejection');
}

describe('fetchDiscovery against a loopback issuer', () => {
  let issuer: OidcIssuer;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
  });
  afterAll(async () => {
    await issuer?.close();
  });

  it('returns the document when the issuer matches (trusting the test CA)', async () => {
    const doc = await fetchDiscovery(issuer.url, { ca: issuer.caPem });
    expect(doc.issuer).toBe(issuer.url);
    expect(doc.jwks_uri).toBe(issuer.jwksUri);
    expect(doc.id_token_signing_alg_values_supported).toEqual(['RS256']);
    expect(issuer.requests).toContain('/.well-known/openid-configuration');
  });

  it('accepts the URL with a trailing slash (the input is normalised)', async () => {
    const doc = await fetchDiscovery(`${issuer.url}/`, { ca: issuer.caPem });
    expect(doc.issuer).toBe(issuer.url);
  });

  it('fails with a TLS hint when the CA is not trusted', async () => {
    const err = await rejection(fetchDiscovery(issuer.url));
    expect(err.code).toBe('DISCOVERY_UNREACHABLE');
    expect(err.hint).toMatch(/not trusted here .*NODE_EXTRA_CA_CERTS/);
  });

  it('fails with a 404 and a hint about the URL', async () => {
    const err = await rejection(fetchDiscovery(`${issuer.url}/nope`, { ca: issuer.caPem }));
    expect(err.code).toBe('DISCOVERY_HTTP_STATUS');
    expect(err.message).toContain('HTTP 404');
    expect(err.message).toContain(`${issuer.url}/nope/.well-known/openid-configuration`);
    expect(err.hint).toMatch(/relative URL path/);
  });
});

describe('fetchDiscovery: mismatches and bad answers', () => {
  const servers: OidcIssuer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const start = async (opts: Parameters<typeof startOidcIssuer>[0]) => {
    const s = await startOidcIssuer(opts);
    servers.push(s);
    return s;
  };

  it('reports an issuer that differs by a trailing slash, and says so', async () => {
    const s = await start({ discoveryIssuer: (url) => `${url}/` });
    const err = await rejection(fetchDiscovery(s.url, { ca: s.caPem }));
    expect(err).toBeInstanceOf(IssuerMismatchError);
    expect(err.code).toBe('DISCOVERY_ISSUER_MISMATCH');
    expect(err.hint).toMatch(/only by a trailing slash/);
    expect((err as IssuerMismatchError).actual).toBe(`${s.url}/`);
  });

  it('reports an http issuer as an external_url problem', async () => {
    const s = await start({ discoveryIssuer: (url) => url.replace('https://', 'http://') });
    const err = await rejection(fetchDiscovery(s.url, { ca: s.caPem }));
    expect(err.code).toBe('DISCOVERY_ISSUER_MISMATCH');
    expect(err.hint).toMatch(/external_url starts with http:\/\//);
  });

  it('serves and validates an issuer under a path prefix', async () => {
    const s = await start({ pathPrefix: '/gitlab' });
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/gitlab$/);
    const doc = await fetchDiscovery(s.url, { ca: s.caPem });
    expect(doc.jwks_uri).toBe(`${s.url}/oauth/discovery/keys`);
    // Without the prefix, the instance is not found.
    const err = await rejection(fetchDiscovery(s.url.replace('/gitlab', ''), { ca: s.caPem }));
    expect(err.code).toBe('DISCOVERY_HTTP_STATUS');
  });

  it('reports bad JSON (a sign-in page answering instead)', async () => {
    const s = await start({
      discoveryResponse: { status: 200, body: '<html>Sign in</html>', contentType: 'text/html' },
    });
    const err = await rejection(fetchDiscovery(s.url, { ca: s.caPem }));
    expect(err.code).toBe('DISCOVERY_BAD_JSON');
    expect(err.message).toContain('<html>Sign in</html>');
    expect(err.hint).toMatch(/proxy or sign-in page/);
  });

  it('reports a 401 as a document that must be public', async () => {
    const s = await start({ discoveryResponse: { status: 401, body: '{}' } });
    const err = await rejection(fetchDiscovery(s.url, { ca: s.caPem }));
    expect(err.code).toBe('DISCOVERY_HTTP_STATUS');
    expect(err.hint).toMatch(/without authentication/);
  });

  it('rejects a document without an https jwks_uri', async () => {
    const body = JSON.stringify({
      issuer: 'https://gitlab.example.com',
      jwks_uri: 'http://gitlab.example.com/keys',
    });
    const fetchImpl: FetchLike = async () => ({ status: 200, text: async () => body });
    const err = await rejection(fetchDiscovery('https://gitlab.example.com', { fetchImpl }));
    expect(err.code).toBe('DISCOVERY_INVALID');
    expect(err.message).toMatch(/no https "jwks_uri"/);
  });
});

describe('fetchDiscovery with an injected fetch', () => {
  it('calls the discovery URL and maps transport errors', async () => {
    const fetchImpl = vi.fn<FetchLike>(async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND gitlab.invalid'), { code: 'ENOTFOUND' });
    });
    const err = await rejection(fetchDiscovery('https://gitlab.invalid', { fetchImpl }));
    expect(fetchImpl).toHaveBeenCalledWith(
      'https://gitlab.invalid/.well-known/openid-configuration',
      expect.anything(),
    );
    expect(err.code).toBe('DISCOVERY_UNREACHABLE');
    expect(err.hint).toMatch(/does not resolve/);
  });

  it('times out a request that never answers', async () => {
    const fetchImpl: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) =>
        init.signal.addEventListener('abort', () => reject(init.signal.reason)),
      );
    const err = await rejection(fetchDiscovery('https://gitlab.example.com', { fetchImpl, timeoutMs: 50 }));
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toMatch(/did not answer within 50 ms/);
    expect(err.message).toContain('https://gitlab.example.com/.well-known/openid-configuration');
    expect(err.hint).toMatch(/did not answer in time/);
  });
});

describe('issuer URL helpers', () => {
  it.each([
    ['https://gitlab.example.com/', 'https://gitlab.example.com'],
    ['https://GitLab.Example.com', 'https://gitlab.example.com'],
    ['https://host.example/gitlab/', 'https://host.example/gitlab'],
    ['https://host.example:8443', 'https://host.example:8443'],
  ])('normalizes %s', (input, expected) => {
    expect(normalizeIssuerUrl(input)).toBe(expected);
  });

  it.each([
    ['http://gitlab.example.com'],
    ['https://u:p@gitlab.example.com'],
    ['https://g.example/?x=1'],
    ['nope'],
  ])('refuses %s', (input) => {
    expect(() => normalizeIssuerUrl(input)).toThrow(UsageError);
  });

  it('builds the discovery URL under a path', () => {
    expect(discoveryUrl('https://h.example/gitlab/')).toBe(
      'https://h.example/gitlab/.well-known/openid-configuration',
    );
  });

  it('explains host and path mismatches', () => {
    expect(explainIssuerMismatch('https://a.example', 'https://b.example')).toMatch(
      /calls itself b\.example/,
    );
    expect(explainIssuerMismatch('https://a.example', 'https://a.example/gitlab')).toMatch(
      /installed under "\/gitlab"/,
    );
  });
});
