/**
 * Which selected projects a role trusts: the tool's project tag (`gitlab-aws-oidc:project`, on the
 * same GitLab instance when both say one), or a `sub` the trust policy admits (`project_path:acme/*`
 * admits every project under acme; `project_path:*` every project; `project_id:42` the project with
 * that ID). Pure.
 */
import { GITLAB_URL_TAG, type PolicyDocument, PROJECT_TAG, type Tags } from '../core/types.js';
import { sameGitlabUrl } from '../destroy/plan.js';
import { summarizeTrust } from '../status/drift.js';
import type { FleetProject } from './command-selection.js';

/** An IAM StringLike pattern (`*` any run, `?` one character) as a case-insensitive regex. */
function likePattern(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${body}$`, 'i');
}

export interface TrustingRole {
  trustPolicy: PolicyDocument;
  tags?: Tags | undefined;
}

/** The selected projects `role` trusts, in the order of `projects`. */
export function projectsTrustedBy(
  role: TrustingRole,
  projects: readonly FleetProject[],
  gitlabUrl?: string | undefined,
): FleetProject[] {
  const tags = role.tags ?? {};
  const tagged = tags[PROJECT_TAG]?.toLowerCase();
  const otherInstance =
    gitlabUrl !== undefined &&
    tags[GITLAB_URL_TAG] !== undefined &&
    !sameGitlabUrl(tags[GITLAB_URL_TAG], gitlabUrl);
  const subjects = summarizeTrust(role.trustPolicy).subjects;
  const paths = subjects.filter((s) => !s.project.startsWith('project ')).map((s) => likePattern(s.project));
  const ids = new Set(
    subjects.filter((s) => s.project.startsWith('project ')).map((s) => s.project.slice('project '.length)),
  );
  if (otherInstance) return [];
  return projects.filter(
    (p) =>
      p.project.toLowerCase() === tagged ||
      paths.some((re) => re.test(p.project)) ||
      (p.projectId !== undefined && ids.has(String(p.projectId))),
  );
}
