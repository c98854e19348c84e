/**
 * The GitLab instance as an OIDC issuer, in the form IAM expects.
 * IAM provider URLs are https, may carry a path (relative-URL GitLab), and have no port,
 * query or fragment. The IAM "host" (condition-key prefix) is the URL without the scheme.
 */
import { UsageError } from '../errors.js';
import { GITLAB_COM_HOST } from './gitlab-claims.js';
import type { Issuer } from './types.js';

const FIELD = '--gitlab-url';
const ALLOWED_FORM = 'use https://<host>[/<path>] with no port, query or fragment, e.g. https://gitlab.com';
/** IAM limit on an OIDC provider URL. */
const MAX_URL_LENGTH = 255;
const HOST_RE = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
/** Path characters GitLab's relative_url_root can use; no percent-encoding, no dot segments. */
const PATH_SEGMENT_RE = /^[A-Za-z0-9._-]+$/;

function fail(message: string): never {
  throw UsageError.field(FIELD, message, ALLOWED_FORM);
}

/**
 * Parses and normalises the GitLab URL: https only, lower-case host, no port, query, fragment or
 * credentials, trailing slashes stripped. `isGitlabCom` is true only for exactly https://gitlab.com.
 */
export function parseIssuerUrl(raw: string): Issuer {
  const input = raw.trim();
  if (input === '') fail('it is empty');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input);
  if (!scheme) fail(`"${input}" has no https:// scheme`);
  if (scheme[1]!.toLowerCase() !== 'https')
    fail(`"${input}" must use https (IAM only accepts https issuers)`);
  if (/[?#]/.test(input)) fail(`"${input}" has a query or fragment`);

  const rest = input.slice(scheme[0].length);
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const rawPath = slash === -1 ? '' : rest.slice(slash);
  if (authority.includes('@')) fail(`"${input}" contains credentials`);
  if (authority.includes(':') || authority.includes('[')) fail(`"${input}" has a port (IAM rejects ports)`);
  const host = authority.toLowerCase();
  if (!HOST_RE.test(host)) fail(`"${authority}" is not a valid host name`);

  const path = rawPath.replace(/\/+$/, '');
  if (path.includes('//')) fail(`"${input}" has an empty path segment`);
  const segments = path.split('/').filter((s) => s !== '');
  for (const segment of segments) {
    if (!PATH_SEGMENT_RE.test(segment) || segment === '.' || segment === '..') {
      fail(`"${input}" has an unsupported path segment "${segment}"`);
    }
  }

  const issuer = issuerForHostPath([host, ...segments].join('/'));
  if (issuer.url.length > MAX_URL_LENGTH) fail(`it is longer than ${MAX_URL_LENGTH} characters`);
  return issuer;
}

function issuerForHostPath(hostPath: string): Issuer {
  return { url: `https://${hostPath}`, hostPath, isGitlabCom: hostPath === GITLAB_COM_HOST };
}

/**
 * Lenient issuer facts from any GitLab URL or token `iss` (for simulating and explaining, never for
 * creating a provider): scheme optional, trailing slashes dropped, host lower-cased, and a port kept
 * so that a loopback test issuer maps to itself. `https://gitlab.example.com/gitlab/` → hostPath
 * `gitlab.example.com/gitlab`. Use parseIssuerUrl for what IAM will accept.
 */
export function issuerFromUrl(raw: string): Issuer {
  const trimmed = raw.trim().replace(/\/+$/, '');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  const u = new URL(withScheme);
  return issuerForHostPath(`${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, '')}`);
}

/**
 * The issuer for a provider URL as IAM returns it (no scheme: `gitlab.example.com/gitlab`).
 * Useful to compare an existing provider with the desired one.
 */
export function issuerFromProviderUrl(providerUrl: string): Issuer {
  const withScheme = /^https:\/\//i.test(providerUrl) ? providerUrl : `https://${providerUrl}`;
  return parseIssuerUrl(withScheme);
}

/** `arn:<partition>:iam::<account>:oidc-provider/<host>[/<path>]`. */
export function providerArnFor(partition: string, account: string, issuer: Issuer): string {
  return `arn:${partition}:iam::${account}:oidc-provider/${issuer.hostPath}`;
}

/**
 * A provider URL (with or without `http(s)://`) in the form condition keys and provider ARNs are
 * compared in: `https://GitLab.example.com/gitlab/` → `gitlab.example.com/gitlab` (lower case, as IAM
 * treats condition keys case-insensitively).
 */
export function providerHost(url: string): string {
  return url
    .replace(/^https?:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}

/**
 * A GitLab URL whose path is a project (or group) rather than the instance: what a user gets by pasting
 * the project page's address into `--gitlab-url`. Its issuer would never match a job's token.
 *
 * - `https://gitlab.com/<anything>`: gitlab.com is served at the root, so any path is a namespace or
 *   project; the instance is `https://gitlab.com` and the project is the path.
 * - another host: a path can be a relative-URL install (`https://example.com/gitlab`), so the URL is
 *   refused only when its path is, or ends with, one of the `projects` we know of (the `--project` given,
 *   the git remote's) and has at least two segments (a project path always has a group).
 *
 * Returns the instance URL and the project to suggest instead, or undefined when the URL looks sound.
 */
export function findProjectInIssuerUrl(
  issuer: Issuer,
  projects: readonly (string | undefined)[],
): { instanceUrl: string; project: string } | undefined {
  const [host, ...segments] = issuer.hostPath.split('/');
  if (segments.length === 0 || host === undefined) return undefined;
  const path = segments.join('/');
  if (host === GITLAB_COM_HOST) return { instanceUrl: `https://${GITLAB_COM_HOST}`, project: path };
  if (segments.length < 2) return undefined;
  const lower = path.toLowerCase();
  for (const project of projects) {
    const p = project?.trim().toLowerCase();
    if (!p || p.split('/').length < 2) continue;
    if (lower === p || lower.endsWith(`/${p}`)) {
      const root = path.slice(0, path.length - p.length).replace(/\/$/, '');
      return {
        instanceUrl: `https://${host}${root ? `/${root}` : ''}`,
        project: path.slice(path.length - p.length),
      };
    }
  }
  return undefined;
}
