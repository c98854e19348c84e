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
import { formatSubClaim, isRefType, parseSubClaim } from './gitlab-claims.js';
import { hasWildcard, matchesStringLike } from './iam-conditions.js';
import type { RefRule, RefType, SubClaimForm } from './types.js';

/** `project_path:<path>:ref_type:<type>:ref:<pattern>` */
export function buildSubject(projectPath: string, rule: RefRule): string {
  return formatSubClaim([
    ['project_path', projectPath],
    ['ref_type', rule.type],
    ['ref', rule.pattern],
  ]);
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
  return formatSubClaim([
    ['project_id', projectId],
    ['ref_type', rule.type],
    ['ref', rule.pattern],
  ]);
}

/** The project's `sub` components for a form: `[project_path|project_id, ref_type, ref]`. */
export function subClaimComponents(form: SubClaimForm): [SubClaimForm, 'ref_type', 'ref'] {
  return [form, 'ref_type', 'ref'];
}

/**
 * The form of a project's `ci_id_token_sub_claim_components`: `project_path` or `project_id` when they are
 * exactly `[<form>, ref_type, ref]` (what init writes trust for), undefined for any other list.
 */
export function subClaimFormOf(components: readonly string[] | undefined): SubClaimForm | undefined {
  if (components?.length !== 3 || components[1] !== 'ref_type' || components[2] !== 'ref') return undefined;
  return components[0] === 'project_path' || components[0] === 'project_id' ? components[0] : undefined;
}

/** The project as it appears in `sub`: its path, or its numeric ID for the project_id form. */
export interface SubjectProject {
  projectPath: string;
  projectId?: string | undefined;
  form?: SubClaimForm | undefined;
}

/** One `sub` value per rule in the project's form (`project_id` needs `projectId`), in order, without duplicates. */
export function buildSubjectsFor(project: SubjectProject, rules: readonly RefRule[]): string[] {
  if ((project.form ?? 'project_path') === 'project_path') return buildSubjects(project.projectPath, rules);
  const id = project.projectId;
  if (id === undefined) throw new Error('a project_id sub needs the project ID');
  return [...new Set(rules.map((rule) => buildProjectIdSubject(id, rule)))];
}

/**
 * The same `sub` written with the project's path instead of its ID (`project_id:42:…` →
 * `project_path:g/p:…`) when it names `projectId`; any other value unchanged. For comparing trust
 * across a switch of the sub form, where the ID and path are known to be the same project.
 */
export function subjectWithPath(sub: string, project: { projectPath: string; projectId: string }): string {
  const prefix = `project_id:${project.projectId}:`;
  return sub.startsWith(prefix) ? `project_path:${project.projectPath}:${sub.slice(prefix.length)}` : sub;
}

export interface ParsedSubject {
  projectPath?: string | undefined;
  projectId?: string | undefined;
  refType: RefType;
  ref: string;
}

/**
 * Parses a default-format `sub` (`<project_path|project_id>:…:ref_type:<branch|tag>:ref:<name>`, either
 * first component, every value non-empty) into its parts; undefined for any other shape.
 */
export function parseSubject(sub: string): ParsedSubject | undefined {
  const { format, components, order } = parseSubClaim(sub);
  if (format === 'unknown' || order.length !== 3 || order[1] !== 'ref_type' || order[2] !== 'ref') {
    return undefined;
  }
  const project = components[format];
  const { ref_type: refType, ref } = components;
  if (!project || !isRefType(refType) || !ref) return undefined;
  return {
    ...(format === 'project_path' ? { projectPath: project } : { projectId: project }),
    refType,
    ref,
  };
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
