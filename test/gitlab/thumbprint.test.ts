import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError, UsageError } from '../../src/errors.js';
import type { FetchLike } from '../../src/gitlab/http.js';
import {
  computeThumbprint,
  inspectThumbprint,
  normalizeThumbprints,
  pickThumbprintIndex,
  resolveThumbprints,
  type ThumbprintInfo,
} from '../../src/gitlab/thumbprint.js';
import { type OidcIssuer, startOidcIssuer } from '../helpers/oidc-issuer.js';

/** Independent of the code under test: node's X509Certificate fingerprint, colons removed. */
function sha1(pem: string): string {
  return new X509Certificate(pem).fingerprint.replace(/:/g, '').toLowerCase();
}

const servers: OidcIssuer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});
async function start(opts: Parameters<typeof startOidcIssuer>[0] = {}): Promise<OidcIssuer> {
  const s = await startOidcIssuer(opts);
  servers.push(s);
  return s;
}

describe('computeThumbprint against a loopback server', () => {
  let issuer: OidcIssuer;
  beforeAll(async () => {
    issuer = await start();
  });

  it('returns the SHA-1 of the intermediate CA (trusted via the test root)', async () => {
    const expected = sha1(issuer.chainPems[1]!);
    expect(issuer.intermediateSha1).toBe(expected);
    const thumbprint = await computeThumbprint(issuer.jwksUri, { ca: issuer.caPem });
    expect(thumbprint).toBe(expected);
    expect(thumbprint).toMatch(/^[0-9a-f]{40}$/);

    const info = await inspectThumbprint(issuer.jwksUri, { ca: issuer.caPem });
    expect(info).toMatchObject({ host: '127.0.0.1', port: issuer.port, pinsLeaf: false, trusted: true });
    expect(info.subject).toContain('Test Intermediate CA');
    expect(info.chainSubjects).toHaveLength(3); // node appends the root from `ca`
  });

  it('gives the same thumbprint without trusting the CA, and says it is unverified', async () => {
    const info = await inspectThumbprint(issuer.jwksUri);
    expect(info.thumbprint).toBe(issuer.intermediateSha1);
    expect(info.trusted).toBe(false);
    expect(info.authorizationError).toMatch(/UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED|UNABLE_TO_VERIFY/);
  });

  it('reports an unreachable host as a typed error suggesting --thumbprint', async () => {
    const closed = await start();
    const url = closed.jwksUri;
    await closed.close();
    const err = await computeThumbprint(url, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).code).toBe('THUMBPRINT_UNREACHABLE');
    expect((err as CliError).hint).toMatch(/--thumbprint/);
  });

  it('refuses a non-https JWKS URL', async () => {
    await expect(computeThumbprint('http://127.0.0.1:1/keys')).rejects.toMatchObject({
      code: 'THUMBPRINT_BAD_URL',
    });
  });
});

describe('which certificate is pinned', () => {
  it('still pins the intermediate when the server also sends the root', async () => {
    const s = await start({ serve: 'full' });
    expect(await computeThumbprint(s.jwksUri)).toBe(sha1(s.chainPems[1]!));
  });

  it('pins the leaf when the root signs it directly (no intermediate), and flags it', async () => {
    const s = await start({ noIntermediate: true });
    expect(s.chainPems).toHaveLength(2);
    const info = await inspectThumbprint(s.jwksUri, { ca: s.caPem });
    expect(info.thumbprint).toBe(sha1(s.chainPems[0]!));
    expect(info.thumbprint).toBe(s.leafSha1);
    expect(info.pinsLeaf).toBe(true);
  });

  it('pins the last certificate sent when the server sends only the leaf', async () => {
    const s = await start({ serve: 'leaf' });
    const info = await inspectThumbprint(s.jwksUri);
    expect(info.thumbprint).toBe(s.leafSha1);
    expect(info.pinsLeaf).toBe(true);
    expect(info.trusted).toBe(false);
  });

  it('pickThumbprintIndex: drops a self-signed top, keeps a lone certificate', async () => {
    const s = await start();
    const [leaf, inter, root] = s.chainPems.map((pem) => ({ raw: new X509Certificate(pem).raw }));
    expect(pickThumbprintIndex([leaf!, inter!, root!])).toBe(1);
    expect(pickThumbprintIndex([leaf!, inter!])).toBe(1);
    expect(pickThumbprintIndex([leaf!])).toBe(0);
    expect(pickThumbprintIndex([root!])).toBe(0);
    expect(() => pickThumbprintIndex([])).toThrow();
  });
});

describe('resolveThumbprints', () => {
  const noNetwork = () => {
    const fetchImpl = vi.fn<FetchLike>(async () => {
      throw new Error('network used');
    });
    const inspect = vi.fn<typeof inspectThumbprint>(async () => {
      throw new Error('TLS used');
    });
    return { fetchImpl, inspect };
  };

  it('needs nothing for gitlab.com and touches no network', async () => {
    const { fetchImpl, inspect } = noNetwork();
    const result = await resolveThumbprints({ issuer: 'https://gitlab.com/', fetchImpl, inspect });
    expect(result).toEqual({ thumbprints: [], source: 'not-needed', details: [], warnings: [] });
    expect(fetchImpl).not.toHaveBeenCalled();
    expect(inspect).not.toHaveBeenCalled();
  });

  it('uses validated overrides without any network call', async () => {
    const { fetchImpl, inspect } = noNetwork();
    const colon = '99:0F:41:93:97:2F:2B:EC:F1:2D:DE:DA:52:37:F9:C9:52:F2:0D:9E';
    const result = await resolveThumbprints({
      issuer: { url: 'https://gitlab.example.com' },
      override: [colon, '990f4193972f2becf12ddeda5237f9c952f20d9e', 'A'.repeat(40)],
      fetchImpl,
      inspect,
    });
    expect(result.source).toBe('override');
    expect(result.thumbprints).toEqual(['990f4193972f2becf12ddeda5237f9c952f20d9e', 'a'.repeat(40)]);
    expect(fetchImpl).not.toHaveBeenCalled();
    expect(inspect).not.toHaveBeenCalled();
  });

  it('flags overrides on gitlab.com as unused', async () => {
    const result = await resolveThumbprints({ issuer: 'https://gitlab.com', override: ['b'.repeat(40)] });
    expect(result.thumbprints).toEqual(['b'.repeat(40)]);
    expect(result.warnings[0]).toMatch(/ignores these thumbprints/);
  });

  it('discovers the JWKS host of a self-managed issuer and pins its intermediate', async () => {
    const s = await start({ pathPrefix: '/gitlab' });
    const result = await resolveThumbprints({ issuer: `${s.url}/`, ca: s.caPem });
    expect(result).toMatchObject({
      source: 'computed',
      thumbprints: [s.intermediateSha1],
      jwksUri: `${s.url}/oauth/discovery/keys`,
      warnings: [],
    });
    expect(s.requests).toContain('/gitlab/.well-known/openid-configuration');
  });

  it('warns when the leaf is pinned and when the chain is not verified here', async () => {
    const s = await start({ noIntermediate: true });
    // Discovery needs trust; the TLS inspection then runs untrusted through an injected inspector.
    const inspect = vi.fn<typeof inspectThumbprint>((url) => inspectThumbprint(url));
    const result = await resolveThumbprints({ issuer: s.url, ca: s.caPem, inspect });
    expect(result.thumbprints).toEqual([s.leafSha1]);
    expect(result.warnings.join('\n')).toMatch(/pins the server certificate itself/);
    expect(result.warnings.join('\n')).toMatch(/not verified on this machine/);
  });

  it('pins both hosts when discovery and keys live on different hosts', async () => {
    const body = JSON.stringify({
      issuer: 'https://gitlab.example.com',
      jwks_uri: 'https://keys.example.net/jwks',
    });
    const fetchImpl: FetchLike = async () => ({ status: 200, text: async () => body });
    const info = (thumbprint: string, host: string): ThumbprintInfo => ({
      thumbprint,
      host,
      port: 443,
      subject: 'CN=CA',
      issuer: 'CN=Root',
      validTo: 'never',
      pinsLeaf: false,
      chainSubjects: [],
      trusted: true,
    });
    const inspect = vi.fn<typeof inspectThumbprint>(async (url) =>
      url.includes('keys.example.net')
        ? info('1'.repeat(40), 'keys.example.net')
        : info('2'.repeat(40), 'gitlab.example.com'),
    );
    const result = await resolveThumbprints({ issuer: 'https://gitlab.example.com', fetchImpl, inspect });
    expect(inspect.mock.calls.map((c) => c[0])).toEqual([
      'https://keys.example.net/jwks',
      'https://gitlab.example.com',
    ]);
    expect(result.thumbprints).toEqual(['1'.repeat(40), '2'.repeat(40)]);
    expect(result.warnings.join('\n')).toMatch(/different hosts/);
  });
});

describe('normalizeThumbprints', () => {
  it.each([['abc'], ['g'.repeat(40)], ['a'.repeat(41)], ['']])('rejects %j', (value) => {
    expect(() => normalizeThumbprints([value])).toThrow(UsageError);
  });

  it('accepts openssl output and refuses more than 5', () => {
    expect(normalizeThumbprints([`SHA1 Fingerprint=${'AB:'.repeat(19)}AB`])).toEqual(['ab'.repeat(20)]);
    const six = ['1', '2', '3', '4', '5', '6'].map((d) => d.repeat(40));
    expect(() => normalizeThumbprints(six)).toThrow(/at most 5/);
    expect(normalizeThumbprints([...six.slice(0, 5), six[0]!])).toHaveLength(5);
  });
});
