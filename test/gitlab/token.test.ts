import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeGitlabToken,
  formatDuration,
  redactClaims,
  SAFE_CLAIMS,
  TokenError,
  verifyGitlabToken,
} from '../../src/gitlab/token.js';
import { type OidcIssuer, startOidcIssuer } from '../helpers/oidc-issuer.js';

async function failure(promise: Promise<unknown>): Promise<TokenError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TokenError);
    return error as TokenError;
  }
  throw new Error('expected verification to fail');
}

describe('verifyGitlabToken against a loopback issuer', () => {
  let issuer: OidcIssuer;
  let other: OidcIssuer;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
    other = await startOidcIssuer({ kid: 'other-instance-key' });
  });
  afterAll(async () => {
    await Promise.all([issuer?.close(), other?.close()]);
  });

  it('returns the verified claims of a good token, with GitLab claim shapes', async () => {
    const token = await issuer.mintToken({ ref: 'release', ref_protected: 'false' });
    const claims = await verifyGitlabToken(token, {
      issuerUrl: issuer.url,
      audience: issuer.url,
      ca: issuer.caPem,
    });
    expect(claims.sub).toBe('project_path:acme/platform/api:ref_type:branch:ref:release');
    expect(claims.iss).toBe(issuer.url);
    expect(claims.project_id).toBe('20');
    expect(claims.namespace_id).toBe('72');
    expect(claims.ref_protected).toBe('false');
    expect(claims.runner_id).toBe(1);
    expect(claims.nbf).toBe((claims.iat as number) - 5);
    expect(claims.exp).toBe((claims.iat as number) + 300);
    expect(issuer.requests).toEqual(
      expect.arrayContaining(['/.well-known/openid-configuration', '/oauth/discovery/keys']),
    );
  });

  it("verifies against the token's own issuer when none is given", async () => {
    const token = await issuer.mintToken();
    await expect(verifyGitlabToken(token, { ca: issuer.caPem })).resolves.toMatchObject({ iss: issuer.url });
  });

  it('says how long ago an expired token expired', async () => {
    const now = new Date();
    const token = await issuer.mintToken({}, { expired: true, expiredBySec: 192, now });
    const err = await failure(verifyGitlabToken(token, { issuerUrl: issuer.url, ca: issuer.caPem, now }));
    expect(err.reason).toBe('expired');
    expect(err.code).toBe('TOKEN_EXPIRED');
    expect(err.message).toMatch(/expired 3m 12s ago \(exp \d{4}-\d\d-\d\dT/);
    expect(err.hint).toMatch(/job timeout/);
  });

  it('reports a token that is not valid yet', async () => {
    const token = await issuer.mintToken({}, { notBeforeInSec: 90 });
    const err = await failure(verifyGitlabToken(token, { issuerUrl: issuer.url, ca: issuer.caPem }));
    expect(err.reason).toBe('not-yet-valid');
    expect(err.message).toMatch(/becomes valid in 1m 30s|becomes valid in 1m 29s/);
  });

  it('reports a bad signature (right kid, wrong key)', async () => {
    const token = await issuer.mintToken({}, { wrongKey: true });
    const err = await failure(verifyGitlabToken(token, { issuerUrl: issuer.url, ca: issuer.caPem }));
    expect(err.reason).toBe('bad-signature');
    expect(err.message).toContain(`key "${issuer.kid}"`);
  });

  it('reports a tampered payload as a bad signature', async () => {
    const token = await issuer.mintToken();
    const [h, , s] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...decodeGitlabToken(token), project_path: 'evil/api' }),
    ).toString('base64url');
    const err = await failure(
      verifyGitlabToken(`${h}.${forged}.${s}`, { issuerUrl: issuer.url, ca: issuer.caPem }),
    );
    expect(err.reason).toBe('bad-signature');
  });

  it('reports an unknown kid and lists the published ones', async () => {
    const token = await issuer.mintToken({}, { kid: 'rotated-away' });
    const err = await failure(verifyGitlabToken(token, { issuerUrl: issuer.url, ca: issuer.caPem }));
    expect(err.reason).toBe('unknown-kid');
    expect(err.message).toContain('"rotated-away"');
    expect(err.message).toContain(issuer.kid);
  });

  it('reports a token from another instance as an issuer mismatch, before any network call', async () => {
    const token = await other.mintToken();
    const before = issuer.requests.length;
    const err = await failure(verifyGitlabToken(token, { issuerUrl: issuer.url, ca: issuer.caPem }));
    expect(err.reason).toBe('issuer-mismatch');
    expect(err.message).toContain(other.url);
    expect(err.hint).toMatch(/another GitLab instance/);
    expect(issuer.requests.length).toBe(before);
  });

  it('explains an issuer that differs only by a trailing slash', async () => {
    const token = await issuer.mintToken({ iss: `${issuer.url}/` });
    const err = await failure(verifyGitlabToken(token, { issuerUrl: issuer.url, ca: issuer.caPem }));
    expect(err.reason).toBe('issuer-mismatch');
    expect(err.hint).toMatch(/trailing slash/);
  });

  it('reports an audience mismatch with both values', async () => {
    const token = await issuer.mintToken({ aud: 'https://vault.example.com' });
    const err = await failure(
      verifyGitlabToken(token, { issuerUrl: issuer.url, audience: 'sts.amazonaws.com', ca: issuer.caPem }),
    );
    expect(err.reason).toBe('audience-mismatch');
    expect(err.message).toBe(
      'The token\'s audience ["https://vault.example.com"] does not include "sts.amazonaws.com".',
    );
  });

  it('never puts the raw token in the error', async () => {
    const token = await issuer.mintToken({}, { expired: true });
    const err = await failure(verifyGitlabToken(token, { issuerUrl: issuer.url, ca: issuer.caPem }));
    const text = JSON.stringify(err.toJSON()) + err.message + (err.hint ?? '');
    expect(text).not.toContain(token.split('.')[2]!);
    expect(text).not.toContain('sample-user@example.com');
    expect(err.toJSON()).toMatchObject({ reason: 'expired', claims: { project_path: 'acme/platform/api' } });
  });

  it('rejects something that is not a JWT', async () => {
    const err = await failure(verifyGitlabToken('not-a-token', { issuerUrl: issuer.url, ca: issuer.caPem }));
    expect(err.reason).toBe('malformed');
    expect(err.message).not.toContain('not-a-token');
  });
});

describe('decodeGitlabToken / redactClaims', () => {
  let issuer: OidcIssuer;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
  });
  afterAll(async () => {
    await issuer?.close();
  });

  it('decodes without verifying and keeps only the safe claims', async () => {
    const token = await issuer.mintToken({ environment: 'production' }, { wrongKey: true });
    const claims = decodeGitlabToken(token);
    expect(claims.user_email).toBe('sample-user@example.com');
    const safe = redactClaims(claims);
    expect(Object.keys(safe).sort()).toEqual([...SAFE_CLAIMS].sort());
    expect(safe).toMatchObject({
      environment: 'production',
      ref: 'main',
      ref_protected: 'true',
      aud: issuer.url,
    });
    for (const dropped of ['user_email', 'user_login', 'user_id', 'jti', 'runner_id', 'sha', 'job_id']) {
      expect(safe).not.toHaveProperty(dropped);
    }
  });

  it('omits absent claims instead of inventing them', () => {
    expect(redactClaims({ sub: 'x', user_email: 'a@b' })).toEqual({ sub: 'x' });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [45, '45s'],
    [192, '3m 12s'],
    [3600, '1h'],
    [7500, '2h 5m'],
    [90061, '1d 1h'],
  ])('%i s → %s', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });
});
