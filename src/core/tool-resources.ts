/**
 * Is this resource the tool's, for this project on this GitLab instance? One answer for status,
 * destroy and init's planner (core/plan-role). Pure.
 *
 * A project path is only unique per GitLab instance, and GitLab compares paths case-insensitively.
 */
import { GITLAB_URL_TAG, isToolManaged, PACK_TAG, PROJECT_TAG, type RoleState, type Tags } from './types.js';

/** Both project paths are given and equal, case aside. */
export const sameProject = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** `https://GitLab.example.com/gitlab/` → `gitlab.example.com/gitlab`: how two GitLab URLs are compared. */
export const instanceKey = (url: string): string =>
  url
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();

/** Both GitLab URLs are given and name the same instance (scheme, case and trailing slash aside). */
export function sameGitlabUrl(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && instanceKey(a) === instanceKey(b);
}

/**
 * Resources of one project path on different instances are different projects. Unknown (an untagged
 * side) counts as the same, so resources made before the tag existed still go with their role.
 */
export const sameInstance = (a: string | undefined, b: string | undefined): boolean =>
  a === undefined || b === undefined || sameGitlabUrl(a, b);

export interface ToolPolicyMatch {
  /**
   * A tool-managed policy without a project tag counts as the role's (destroy: made by an early
   * version, it goes with the role that holds it). Default: the project tags must match.
   */
  untaggedProject?: boolean | undefined;
}

/**
 * The policy (by its tags) is the tool's policy for the project and instance of `ownerTags` (a role's
 * tags, or the tags init is about to write): tagged by the tool, for the same project, on the same
 * GitLab instance (an untagged instance counts as the same, see `sameInstance`).
 */
export function isToolPolicyFor(
  policyTags: Tags,
  ownerTags: Tags,
  { untaggedProject = false }: ToolPolicyMatch = {},
): boolean {
  // A per-group role's policy carries its group tag instead (the role's, as init writes both).
  const packed = ownerTags[PACK_TAG] !== undefined || policyTags[PACK_TAG] !== undefined;
  return (
    isToolManaged(policyTags) &&
    (packed
      ? sameProject(policyTags[PACK_TAG], ownerTags[PACK_TAG])
      : (untaggedProject && policyTags[PROJECT_TAG] === undefined) ||
        sameProject(policyTags[PROJECT_TAG], ownerTags[PROJECT_TAG])) &&
    sameInstance(policyTags[GITLAB_URL_TAG], ownerTags[GITLAB_URL_TAG])
  );
}

/** The OIDC provider ARNs a role's trust policy federates to (Allow statements). */
export function federatedArns(role: Pick<RoleState, 'trustPolicy'>): string[] {
  const statements = role.trustPolicy?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  const arns = new Set<string>();
  for (const st of list) {
    if (st?.Effect !== 'Allow' || !st.Principal || st.Principal === '*') continue;
    const fed = st.Principal.Federated;
    for (const v of Array.isArray(fed) ? fed : fed ? [fed] : [])
      if (v.includes(':oidc-provider/')) arns.add(v);
  }
  return [...arns];
}
