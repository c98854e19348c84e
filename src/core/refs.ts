/**
 * Validation of the GitLab side of the binding: project path, ref names and ref rules.
 * Everything here ends up inside a `sub` condition, so the rules are strict: the project path is
 * always literal, and refs follow git's check-ref-format (with `*`/`?` allowed as patterns).
 */
import { UsageError } from '../errors.js';
import { isAllWildcard } from './iam-conditions.js';
import type { RefRule, RefType } from './types.js';

/**
 * One namespace or project path segment, as GitLab's PathRegex allows it: letters, digits, `_`, `-`, `.`;
 * not starting with `-`, not ending with `.`; no `.git`/`.atom` suffix (checked separately).
 * No `:` (the `sub` separator) and no wildcard can ever appear.
 */
const PATH_SEGMENT_RE = /^(?:[A-Za-z0-9_.][A-Za-z0-9_.-]*[A-Za-z0-9_-]|[A-Za-z0-9_])$/;
/** GitLab's hard limit on a full project path. */
const MAX_PROJECT_PATH = 255;

/** Validates `group/subgroup/project` and returns it unchanged (GitLab paths are case-preserving). */
export function validateProjectPath(raw: string, field = '--project'): string {
  return validatePath(raw, field, 'project');
}

/** Validates a group path (`group` or `group/subgroup`) with the same segment rules as a project path. */
export function validateGroupPath(raw: string, field = '--group'): string {
  return validatePath(raw, field, 'group');
}

function validatePath(raw: string, field: string, kind: 'project' | 'group'): string {
  const path = raw.trim();
  const hint =
    kind === 'project'
      ? 'Use the full project path as in its URL, e.g. my-group/my-subgroup/my-project.'
      : 'Use the full group path as in its URL, e.g. my-group or my-group/my-subgroup.';
  const fail = (message: string): never => {
    throw UsageError.field(field, message, hint);
  };
  if (path === '') fail('it is empty');
  if (/[*?[\]]/.test(path)) fail(`"${path}" contains a wildcard; a ${kind} path must be literal`);
  if (path.startsWith('/') || path.endsWith('/')) fail(`"${path}" must not start or end with "/"`);
  if (/^[a-z]+:\/\//i.test(raw.trim())) fail(`"${path}" is a URL; give the path only`);
  if (path.length > MAX_PROJECT_PATH) fail(`it is longer than ${MAX_PROJECT_PATH} characters`);
  const segments = path.split('/');
  if (kind === 'project' && segments.length < 2) fail(`"${path}" has no group; expected group/project`);
  for (const segment of segments) {
    if (segment === '') fail(`"${path}" has an empty segment`);
    if (!PATH_SEGMENT_RE.test(segment)) {
      fail(
        `segment "${segment}" may only hold letters, digits, "_", "-", "." (not starting with "-", not ending with ".")`,
      );
    }
  }
  if (/\.(git|atom)$/i.test(path)) fail(`"${path}" ends with ".git" or ".atom"; drop the suffix`);
  return path;
}

/** True when a pattern matches every ref: only `*` and `?` with at least one `*` (`*`, `**`, `?*`). */
export function matchesAnyRef(pattern: string): boolean {
  return isAllWildcard(pattern);
}

/**
 * Validates one branch or tag name (or pattern) with git's check-ref-format rules, `*` and `?`
 * allowed as StringLike wildcards. Returns the name unchanged.
 */
export function validateRefName(raw: string, field: string): string {
  const ref = raw;
  const fail = (message: string, hint?: string): never => {
    throw UsageError.field(field, `"${ref}" ${message}`, hint);
  };
  if (ref.trim() === '') throw UsageError.field(field, 'a ref name is empty');
  if (/^refs\//.test(ref)) {
    fail(
      'is a full ref; give the bare name',
      'Use "main", not "refs/heads/main": the token carries the bare name.',
    );
  }
  if (/[\u0000-\u0020\u007f]/.test(ref)) fail('contains a space or a control character');
  if (/[~^:\\[]/.test(ref)) fail('contains one of ~ ^ : \\ [ (not allowed in git ref names)');
  if (ref.includes('..')) fail('contains ".."');
  if (ref.includes('@{') || ref === '@') fail('contains "@{" or is "@"');
  if (ref.startsWith('/') || ref.endsWith('/') || ref.includes('//')) {
    fail('must not start or end with "/" or contain "//"');
  }
  if (ref.endsWith('.')) fail('must not end with "."');
  if (ref.startsWith('-')) fail('must not start with "-"');
  for (const component of ref.split('/')) {
    if (component.startsWith('.')) fail('has a path component starting with "."');
    if (component.endsWith('.lock')) fail('has a path component ending with ".lock"');
  }
  // IAM expands `${...}` as a policy variable inside condition values: a ref holding one would not
  // match literally (and could match something else).
  if (ref.includes('${')) fail('contains "${", which IAM reads as a policy variable');
  return ref;
}

export interface RefRuleInput {
  branches?: readonly string[] | undefined;
  tags?: readonly string[] | undefined;
  /** Explicit consent to a pattern matching every branch/tag (`*`). */
  allowAnyRef?: boolean | undefined;
}

const FIELD_FOR: Record<RefType, string> = { branch: '--branch', tag: '--tag' };

/** Validates the `--branch`/`--tag` lists into deduplicated ref rules. At least one is required. */
export function buildRefRules(input: RefRuleInput): RefRule[] {
  const rules: RefRule[] = [];
  const seen = new Set<string>();
  const add = (type: RefType, values: readonly string[] | undefined) => {
    for (const value of values ?? []) {
      const field = FIELD_FOR[type];
      const pattern = validateRefName(value, field);
      if (matchesAnyRef(pattern) && !input.allowAnyRef) {
        throw UsageError.field(
          field,
          `"${pattern}" matches every ${type} of the project, so anyone who can push a ${type} could assume the role`,
          'Name the refs (e.g. main), use a narrower pattern (release/*), or pass --allow-any-ref to accept this.',
        );
      }
      const key = `${type}:${pattern}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rules.push({ type, pattern });
    }
  };
  add('branch', input.branches);
  add('tag', input.tags);
  if (rules.length === 0) {
    throw UsageError.field(
      '--branch',
      'no branch or tag given',
      'Pass at least one --branch (e.g. main) or --tag.',
    );
  }
  return rules;
}
