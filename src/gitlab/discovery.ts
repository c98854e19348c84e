/**
 * OIDC discovery: `<issuer>/.well-known/openid-configuration`, checked the way STS will use it.
 */
import { CliError, UsageError } from '../errors.js';
import { fetchJson, type HttpOptions } from './http.js';

export type { FetchLike, HttpOptions } from './http.js';

export interface DiscoveryDocument {
  issuer: string;
  jwks_uri: string;
  [key: string]: unknown;
}

export const GITLAB_COM_URL = 'https://gitlab.com';

/**
 * Normalises a GitLab/issuer URL the way IAM and GitLab spell it: https, lower-case host, no
 * trailing slash, no query, fragment or credentials. A path (relative URL install) is kept.
 * A port is kept too (discovery works), but IAM cannot register it: callers warn about that.
 */
export function normalizeIssuerUrl(input: string, field = 'GitLab URL'): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw UsageError.field(
      field,
      `"${input}" is not a URL`,
      'Use the instance URL, for example https://gitlab.example.com',
    );
  }
  if (url.protocol !== 'https:') {
    throw UsageError.field(
      field,
      `must use https:// (got ${url.protocol}//)`,
      'IAM only accepts https issuer URLs.',
    );
  }
  if (url.username || url.password) throw UsageError.field(field, 'must not contain credentials');
  if (url.search || url.hash) throw UsageError.field(field, 'must not have a query or fragment');
  const path = url.pathname.replace(/\/+$/, '');
  return `https://${url.host}${path}`;
}

/** Where the discovery document lives for an issuer (OIDC Discovery §4: appended to the path). */
export function discoveryUrl(issuerUrl: string): string {
  return `${issuerUrl.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/** The discovery document names a different issuer than the URL we asked. */
export class IssuerMismatchError extends CliError {
  readonly expected: string;
  readonly actual: string;

  constructor(expected: string, actual: string) {
    super(
      'DISCOVERY_ISSUER_MISMATCH',
      `The discovery document at ${discoveryUrl(expected)} names issuer "${actual}", not "${expected}".`,
      { hint: explainIssuerMismatch(expected, actual) },
    );
    this.expected = expected;
    this.actual = actual;
  }

  override details(): string[] {
    return [`expected: ${this.expected}`, `actual:   ${this.actual}`];
  }
}

/** Why an issuer string differs, in words that lead to the fix. */
export function explainIssuerMismatch(expected: string, actual: string): string {
  const strip = (s: string) => s.replace(/\/+$/, '');
  if (strip(expected) === strip(actual)) {
    return (
      'They differ only by a trailing slash. Tokens carry the issuer exactly as the instance states it and ' +
      'STS compares strings exactly, so use the issuer exactly as the discovery document spells it.'
    );
  }
  let e: URL;
  let a: URL;
  try {
    e = new URL(expected);
    a = new URL(actual);
  } catch {
    return 'The instance reports an issuer that is not a URL: check its external_url setting.';
  }
  if (a.protocol === 'http:' && e.protocol === 'https:' && a.host === e.host) {
    return (
      'The instance believes it is served over plain http (its external_url starts with http://), so its tokens ' +
      'carry an http issuer, which IAM cannot register. Set external_url to https://… and reconfigure GitLab.'
    );
  }
  if (a.host !== e.host) {
    return (
      `The instance calls itself ${a.host}. Use "${actual}" as the GitLab URL if that is the public address ` +
      '(tokens carry that issuer); otherwise fix external_url, or the published issuer URL (GitLab 18.1+).'
    );
  }
  if (strip(a.pathname) !== strip(e.pathname)) {
    return `The paths differ: the instance is installed under "${a.pathname}". Use "${actual}" as the GitLab URL.`;
  }
  return `Use "${actual}" as the GitLab URL: it is what the instance puts in its tokens.`;
}

/**
 * Fetches and validates the discovery document: it must be JSON, name `issuerUrl` as its issuer
 * (exact match after removing a trailing slash from the input) and give an https `jwks_uri`.
 */
export async function fetchDiscovery(
  issuerUrl: string,
  options: HttpOptions = {},
): Promise<DiscoveryDocument> {
  const expected = issuerUrl.replace(/\/+$/, '');
  const url = discoveryUrl(expected);
  const doc = await fetchJson(url, 'OIDC discovery document', 'DISCOVERY', options);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new CliError('DISCOVERY_INVALID', `The OIDC discovery document at ${url} is not a JSON object.`, {
      hint: 'A proxy may be answering instead of GitLab.',
    });
  }
  const record = doc as Record<string, unknown>;
  if (typeof record.issuer !== 'string' || !record.issuer) {
    throw new CliError('DISCOVERY_INVALID', `The OIDC discovery document at ${url} has no "issuer".`);
  }
  if (record.issuer !== expected) throw new IssuerMismatchError(expected, record.issuer);
  const jwksUri = record.jwks_uri;
  if (typeof jwksUri !== 'string' || !isHttpsUrl(jwksUri)) {
    throw new CliError(
      'DISCOVERY_INVALID',
      `The OIDC discovery document at ${url} has no https "jwks_uri" (got ${JSON.stringify(jwksUri)}).`,
      { hint: 'STS reads the signing keys from jwks_uri; GitLab serves them at <url>/oauth/discovery/keys.' },
    );
  }
  return { ...record, issuer: record.issuer, jwks_uri: jwksUri };
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}
