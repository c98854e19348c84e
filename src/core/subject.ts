/**
 * The `sub` claim GitLab puts in a job's id_token, and IAM's StringLike matching.
 *
 * Default format: `project_path:<group>/<sub…>/<project>:ref_type:<branch|tag>:ref:<name>`.
 *
 * Why a ref pattern cannot let the subject escape the project: in StringLike, `*` matches any run
 * of characters, `/` and `:` included. But the project part is always literal and comes first, and
 * it ends in `:ref_type:`; a project path can never contain `:` (GitLab forbids it), so the literal
 * prefix `project_path:acme/app:ref_type:branch:ref:` only matches tokens of project `acme/app`
 * (not `acme/app-2`, not `acme/app/sub`). The wildcard sits in the last component, so whatever it
 * swallows (even extra components a project appends to its `sub`) is still that project's token.
 * A wildcard inside the project part would be a different story, which is why refs.ts refuses it.
 */
import type { RefRule, RefType } from './types.js';

/** `project_path:<path>:ref_type:<type>:ref:<pattern>` */
export function buildSubject(projectPath: string, rule: RefRule): string {
  return `project_path:${projectPath}:ref_type:${rule.type}:ref:${rule.pattern}`;
}

/** One `sub` value per rule, in order, without duplicates. */
export function buildSubjects(projectPath: string, rules: readonly RefRule[]): string[] {
  return [...new Set(rules.map((rule) => buildSubject(projectPath, rule)))];
}

/**
 * The `project_id`-first variant (`project_id:42:ref_type:branch:ref:main`), for projects whose
 * `ci_id_token_sub_claim_components` start with `project_id` (GitLab 17.10+).
 */
export function buildProjectIdSubject(projectId: string, rule: RefRule): string {
  return `project_id:${projectId}:ref_type:${rule.type}:ref:${rule.pattern}`;
}

export interface ParsedSubject {
  projectPath?: string | undefined;
  projectId?: string | undefined;
  refType: RefType;
  ref: string;
}

/**
 * Parses a default-format `sub` (either first component) into its parts; undefined for any other shape.
 * Unambiguous because neither project paths nor git refs may contain `:`.
 */
export function parseSubject(sub: string): ParsedSubject | undefined {
  const match = /^(project_path|project_id):([^:]+):ref_type:(branch|tag):ref:([^:]+)$/.exec(sub);
  if (!match) return undefined;
  const [, kind, subject, refType, ref] = match;
  return {
    ...(kind === 'project_path' ? { projectPath: subject } : { projectId: subject }),
    refType: refType as RefType,
    ref: ref!,
  };
}

/** True when a value holds a StringLike wildcard (`*` or `?`). */
export function hasWildcard(value: string): boolean {
  return /[*?]/.test(value);
}

/**
 * IAM StringLike: `*` matches any run of characters (`/` and `:` included), `?` exactly one;
 * case-sensitive; everything else literal.
 */
export function matchesStringLike(pattern: string, value: string): boolean {
  // Iterative glob match with single-star backtracking: linear-ish, no regex building.
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    const pc = pattern[p];
    if (pc === '?' || (pc !== undefined && pc !== '*' && pc === value[v])) {
      p++;
      v++;
    } else if (pc === '*') {
      star = p++;
      mark = v;
    } else if (star !== -1) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Conservative: true only when every value `candidate` can match is also matched by `pattern`.
 * Used to decide whether a new `sub` value broadens trust. Errs towards false (= "broadening").
 */
export function patternCovers(pattern: string, candidate: string): boolean {
  if (pattern === candidate) return true;
  if (!hasWildcard(candidate)) return matchesStringLike(pattern, candidate);
  // With only `*` in `pattern`, its literal characters cannot consume the candidate's wildcards, so
  // those are swallowed by `pattern`'s stars and any expansion of them is too.
  if (pattern.includes('?')) return false;
  return matchesStringLike(pattern, candidate);
}
