/**
 * Default names derived from the project path, and validators for every IAM name-like input.
 * Limits from the IAM quotas page; each error names the flag it came from.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { Tags } from './types.js';

export const DEFAULT_ROLE_PATH = '/gitlab-oidc/';
export const DEFAULT_POLICY_PATH = '/gitlab-oidc/';
export const MAX_ROLE_NAME = 64;
export const MAX_POLICY_NAME = 128;
export const MAX_PATH = 512;
export const MAX_TAGS = 50;
export const MIN_SESSION_DURATION = 3600;
export const MAX_SESSION_DURATION = 43200;

const IAM_NAME_RE = /^[\w+=,.@-]+$/;
const TAG_RE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const PATH_RE = /^\/(?:[\u0021-\u007e]+\/)?$/;

/** First 8 hex characters of sha256(text): a short, stable disambiguator. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * `gitlab-<segments joined by ->` + suffix, at most `max` characters. When too long, the name is
 * truncated and `-<hash of the full path>` appended, so two long paths sharing a prefix still differ.
 * Note: `a/b-c` and `a-b/c` give the same readable name; plan.ts refuses to take over a role tagged
 * for another project, so such a collision stops with an error instead of re-pointing a role.
 */
function deriveName(projectPath: string, suffix: string, max: number): string {
  const base = `gitlab-${projectPath.split('/').join('-')}`.replace(/[^\w+=,.@-]/g, '-');
  const full = `${base}${suffix}`;
  if (full.length <= max) return full;
  const tail = `-${shortHash(projectPath)}${suffix}`;
  const head = base.slice(0, max - tail.length).replace(/[-.]+$/, '');
  return `${head}${tail}`;
}

/** Default role name: `gitlab-group-sub-project`, ≤64 characters, stable. */
export function defaultRoleName(projectPath: string): string {
  return deriveName(projectPath, '', MAX_ROLE_NAME);
}

/** Default policy name: `gitlab-group-sub-project-permissions`, ≤128 characters, stable. */
export function defaultPolicyName(projectPath: string): string {
  return deriveName(projectPath, '-permissions', MAX_POLICY_NAME);
}

function validateIamName(name: string, max: number, field: string): string {
  if (name.length === 0 || name.length > max) throw UsageError.field(field, `must be 1-${max} characters`);
  if (!IAM_NAME_RE.test(name)) {
    throw UsageError.field(field, `"${name}" may only contain letters, digits and + = , . @ _ -`);
  }
  return name;
}

export function validateRoleName(name: string, field = '--role-name'): string {
  return validateIamName(name, MAX_ROLE_NAME, field);
}

export function validatePolicyName(name: string, field = '--policy-name'): string {
  return validateIamName(name, MAX_POLICY_NAME, field);
}

/** IAM path: `/` or `/a/b/`, printable ASCII, ≤512 characters. */
export function validateIamPath(path: string, field = '--role-path'): string {
  if (path.length > MAX_PATH) throw UsageError.field(field, `must be at most ${MAX_PATH} characters`);
  if (!PATH_RE.test(path))
    throw UsageError.field(field, `"${path}" must start and end with "/", e.g. /gitlab-oidc/`);
  return path;
}

/**
 * IAM tag rules: ≤50 tags, key 1-128 and value 0-256 characters of letters, digits, spaces and
 * `_ . : / = + - @`; keys may not start with `aws:`.
 */
export function validateTags(tags: Tags, field = '--aws-tag'): Tags {
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS)
    throw UsageError.field(field, `${entries.length} tags; IAM allows at most ${MAX_TAGS}`);
  for (const [key, value] of entries) {
    if (key.length < 1 || key.length > 128)
      throw UsageError.field(field, `tag key "${key}" must be 1-128 characters`);
    if (!TAG_RE.test(key))
      throw UsageError.field(field, `tag key "${key}" has characters IAM does not allow`);
    if (/^aws:/i.test(key)) throw UsageError.field(field, `tag key "${key}" uses the reserved "aws:" prefix`);
    if (value.length > 256)
      throw UsageError.field(field, `value of tag "${key}" is longer than 256 characters`);
    if (!TAG_RE.test(value))
      throw UsageError.field(field, `value of tag "${key}" has characters IAM does not allow`);
  }
  return tags;
}

/** Parses repeated `key=value` arguments into tags (the value may contain `=`); validates them. */
export function parseTagArgs(args: readonly string[], field = '--aws-tag'): Tags {
  return validateTags(parseKeyValueArgs(args, field, 'team=platform'), field);
}

/** Repeated `key=value` flags into a record (the value may contain `=`); a key given twice is refused. */
export function parseKeyValueArgs(
  args: readonly string[],
  field: string,
  example: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw UsageError.field(field, `"${arg}" is not key=value`, `Example: ${field} ${example}`);
    const key = arg.slice(0, eq).trim();
    if (key in out) throw UsageError.field(field, `"${key}" is given twice`);
    out[key] = arg.slice(eq + 1).trim();
  }
  return out;
}

export function validateMaxSessionDuration(seconds: number, field = '--max-session-duration'): number {
  if (!Number.isInteger(seconds) || seconds < MIN_SESSION_DURATION || seconds > MAX_SESSION_DURATION) {
    throw UsageError.field(
      field,
      `${seconds} must be a whole number of seconds from ${MIN_SESSION_DURATION} to ${MAX_SESSION_DURATION}`,
    );
  }
  return seconds;
}

const POLICY_ARN_RE =
  /^arn:([a-z][a-z0-9-]*):iam::(aws|\d{12}):policy\/(?:[\u0021-\u007e]+\/)?([\w+=,.@-]{1,128})$/;

function validatePolicyArn(arn: string, field: string, partition: string | undefined): string {
  const match = POLICY_ARN_RE.exec(arn);
  if (!match) {
    throw UsageError.field(
      field,
      `"${arn}" is not a managed policy ARN`,
      'Expected arn:<partition>:iam::<aws|account>:policy/[path/]Name, e.g. arn:aws:iam::aws:policy/ReadOnlyAccess',
    );
  }
  if (partition !== undefined && match[1] !== partition) {
    throw UsageError.field(field, `"${arn}" is in partition ${match[1]}, but the account is in ${partition}`);
  }
  return arn;
}

/** `arn:<partition>:iam::(aws|<12 digits>):policy/[path/]Name`; partition checked when given. */
export function validateManagedPolicyArn(
  arn: string,
  partition?: string,
  field = '--managed-policy',
): string {
  return validatePolicyArn(arn, field, partition);
}

/** Same shape as a managed policy ARN; the boundary is a managed policy too. */
export function validateBoundaryArn(
  arn: string,
  partition?: string,
  field = '--permissions-boundary',
): string {
  return validatePolicyArn(arn, field, partition);
}

/** `arn:<partition>:iam::<account>:role<path><name>` */
export function roleArnFor(partition: string, account: string, path: string, name: string): string {
  return `arn:${partition}:iam::${account}:role${path}${name}`;
}

/** `arn:<partition>:iam::<account>:policy<path><name>` */
export function policyArnFor(partition: string, account: string, path: string, name: string): string {
  return `arn:${partition}:iam::${account}:policy${path}${name}`;
}
