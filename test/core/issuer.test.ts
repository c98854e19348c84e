import { describe, expect, it } from 'vitest';
import {
  issuerFromProviderUrl,
  issuerFromUrl,
  parseIssuerUrl,
  providerArnFor,
  providerHost,
} from '../../src/core/issuer.js';
import { UsageError } from '../../src/errors.js';

describe('parseIssuerUrl', () => {
  it.each([
    ['https://gitlab.com', 'https://gitlab.com', 'gitlab.com', true],
    ['https://gitlab.com/', 'https://gitlab.com', 'gitlab.com', true],
    ['  https://GitLab.COM  ', 'https://gitlab.com', 'gitlab.com', true],
    ['HTTPS://gitlab.com', 'https://gitlab.com', 'gitlab.com', true],
    ['https://gitlab.example.com', 'https://gitlab.example.com', 'gitlab.example.com', false],
    ['https://Git.Example.com/GitLab/', 'https://git.example.com/GitLab', 'git.example.com/GitLab', false],
    [
      'https://example.com/tools/gitlab//',
      'https://example.com/tools/gitlab',
      'example.com/tools/gitlab',
      false,
    ],
    ['https://www.gitlab.com', 'https://www.gitlab.com', 'www.gitlab.com', false],
    ['https://gitlab.com/gitlab', 'https://gitlab.com/gitlab', 'gitlab.com/gitlab', false],
  ])('%s → %s', (raw, url, hostPath, isGitlabCom) => {
    expect(parseIssuerUrl(raw)).toEqual({ url, hostPath, isGitlabCom });
  });

  it.each([
    ['', /empty/],
    ['gitlab.com', /no https:\/\/ scheme/],
    ['http://gitlab.example.com', /must use https/],
    ['ftp://gitlab.example.com', /must use https/],
    ['https://gitlab.example.com:8443', /port/],
    ['https://gitlab.example.com:443/', /port/],
    ['https://gitlab.example.com/?x=1', /query or fragment/],
    ['https://gitlab.example.com/#top', /query or fragment/],
    ['https://user:pw@gitlab.example.com', /credentials/],
    ['https://gitlab_example.com', /not a valid host/],
    ['https://', /not a valid host/],
    ['https://[::1]/', /port/],
    ['https://example.com/a//b', /empty path segment/],
    ['https://example.com/a/../b', /unsupported path segment/],
    ['https://example.com/a%20b', /unsupported path segment/],
    [`https://example.com/${'a'.repeat(250)}`, /longer than 255/],
  ])('rejects %j', (raw, message) => {
    let caught: unknown;
    try {
      parseIssuerUrl(raw);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const error = caught as UsageError;
    expect(error.issues[0]?.field).toBe('--gitlab-url');
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(/https:\/\/<host>\[\/<path>\]/);
  });
});

describe('issuerFromProviderUrl', () => {
  it('accepts the scheme-less URL IAM returns', () => {
    expect(issuerFromProviderUrl('gitlab.example.com/gitlab')).toEqual(
      parseIssuerUrl('https://gitlab.example.com/gitlab'),
    );
    expect(issuerFromProviderUrl('gitlab.com').isGitlabCom).toBe(true);
  });
});

describe('providerArnFor', () => {
  it.each([
    ['aws', 'https://gitlab.com', 'arn:aws:iam::123456789012:oidc-provider/gitlab.com'],
    ['aws-cn', 'https://git.example.cn/gl', 'arn:aws-cn:iam::123456789012:oidc-provider/git.example.cn/gl'],
    [
      'aws-us-gov',
      'https://gitlab.example.gov',
      'arn:aws-us-gov:iam::123456789012:oidc-provider/gitlab.example.gov',
    ],
  ])('%s %s', (partition, url, arn) => {
    expect(providerArnFor(partition, '123456789012', parseIssuerUrl(url))).toBe(arn);
  });
});

describe('issuerFromUrl (lenient: simulated jobs and token iss)', () => {
  it.each([
    ['https://gitlab.com', { url: 'https://gitlab.com', hostPath: 'gitlab.com', isGitlabCom: true }],
    ['https://gitlab.com/', { url: 'https://gitlab.com', hostPath: 'gitlab.com', isGitlabCom: true }],
    ['gitlab.com', { url: 'https://gitlab.com', hostPath: 'gitlab.com', isGitlabCom: true }],
    [
      'https://Git.Example.com/gitlab/',
      { url: 'https://git.example.com/gitlab', hostPath: 'git.example.com/gitlab', isGitlabCom: false },
    ],
    [
      'https://gitlab.com/sub',
      { url: 'https://gitlab.com/sub', hostPath: 'gitlab.com/sub', isGitlabCom: false },
    ],
  ])('%s', (raw, expected) => {
    expect(issuerFromUrl(raw)).toEqual(expected);
  });

  it('keeps a port (a loopback test issuer maps to itself), unlike parseIssuerUrl', () => {
    expect(issuerFromUrl('https://127.0.0.1:8443/')).toEqual({
      url: 'https://127.0.0.1:8443',
      hostPath: '127.0.0.1:8443',
      isGitlabCom: false,
    });
    expect(() => parseIssuerUrl('https://127.0.0.1:8443')).toThrow(UsageError);
  });
});

describe('providerHost (condition-key form of a provider URL)', () => {
  it.each([
    ['gitlab.com', 'gitlab.com'],
    ['https://gitlab.com', 'gitlab.com'],
    ['HTTPS://GitLab.com/', 'gitlab.com'],
    ['http://gitlab.example.com/GitLab//', 'gitlab.example.com/gitlab'],
    // Only http(s) is a scheme here: anything else stays, so it never equals a real provider host.
    ['ftp://gitlab.com', 'ftp://gitlab.com'],
  ])('%s → %s', (url, expected) => {
    expect(providerHost(url)).toBe(expected);
  });
});
