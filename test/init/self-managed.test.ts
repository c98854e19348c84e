/**
 * init for a self-managed GitLab: the provider gets the thumbprint of the JWKS host's top intermediate CA,
 * computed over TLS from a loopback issuer with a generated CA chain. (IAM provider URLs cannot carry a
 * port, so the test points the thumbprint lookup at the loopback issuer that stands in for the instance.)
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveThumbprints } from '../../src/gitlab/thumbprint.js';
import { runInit } from '../../src/init/run.js';
import { createMemoryLogger } from '../../src/io/logger.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type OidcIssuer, startOidcIssuer } from '../helpers/oidc-issuer.js';
import { resolveFlags, tempDir, virtualClock } from './helpers.js';

let issuer: OidcIssuer;
let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(() => issuer.close());
beforeEach(() => {
  aws = createFakeAws();
  tmp = tempDir();
});
afterEach(() => {
  aws.restore();
  tmp.cleanup();
});

describe('init for a self-managed GitLab', () => {
  it('pins the top intermediate CA of the JWKS host and scopes the keys to the instance host', async () => {
    const options = await resolveFlags(
      {
        gitlabUrl: 'https://gitlab.example.com/gitlab',
        project: 'ops/infra',
        branch: ['main'],
        yes: true,
        ciFile: false,
      },
      tmp.dir,
    );
    const seen: string[] = [];
    const result = await runInit(options, {
      logger: createMemoryLogger(),
      interactive: false,
      aws: async () => aws.ports,
      resolveThumbprints: (target, override) => {
        seen.push(target.url);
        return resolveThumbprints({ issuer: issuer.url, override, ca: issuer.caPem });
      },
      retry: virtualClock(),
    });
    expect(seen).toEqual(['https://gitlab.example.com/gitlab']);
    expect(result.thumbprints.source).toBe('computed');
    const provider = aws.state.providers.get(result.providerArn);
    expect(result.providerArn).toMatch(/:oidc-provider\/gitlab\.example\.com\/gitlab$/);
    expect(provider?.thumbprints).toEqual([issuer.intermediateSha1]);
    const trust = JSON.stringify(result.plan.trustPolicy.after);
    expect(trust).toContain('"gitlab.example.com/gitlab:sub"');
    expect(trust).toContain('"gitlab.example.com/gitlab:aud"');
    expect(trust).not.toContain('gitlab.com:project_id');
    expect(issuer.requests).toContain('/.well-known/openid-configuration');
  });

  it('uses --thumbprint as given without any network call', async () => {
    const before = issuer.requests.length;
    const options = await resolveFlags(
      {
        gitlabUrl: 'https://gitlab.example.com',
        project: 'ops/infra',
        branch: ['main'],
        thumbprint: ['AB'.repeat(20)],
        yes: true,
        ciFile: false,
      },
      tmp.dir,
    );
    const result = await runInit(options, {
      logger: createMemoryLogger(),
      interactive: false,
      aws: async () => aws.ports,
      resolveThumbprints: (target, override) => resolveThumbprints({ issuer: target, override }),
      retry: virtualClock(),
    });
    expect(aws.state.providers.get(result.providerArn)?.thumbprints).toEqual(['ab'.repeat(20)]);
    expect(issuer.requests.length).toBe(before);
  });
});
