/**
 * `destroy --group/--config` and the roles packed for a group (`role: per-group`, the PACK_TAG): such a
 * role has no project tag; the projects it serves are its trust policy's `sub` values. It goes with the
 * fleet only when the selection holds every project it serves (it is then planned with the first of
 * them); otherwise deleting it would take the access of projects outside the selection away, so the
 * members it serves are blocked (nothing changed for them) with the projects it still serves. Pure.
 */
import type { RoleDetail } from '../aws/ports.js';
import { GITLAB_URL_TAG, isToolManaged, PACK_TAG } from '../core/types.js';
import { summarizeTrust } from '../status/drift.js';
import { sameGitlabUrl } from './plan.js';

export interface PackedRoles {
  /** Lower-cased project path → the packed roles planned with it. */
  owned: Map<string, RoleDetail[]>;
  /** Lower-cased project path → why its packed roles are kept. */
  blockers: Map<string, { message: string; hint: string }[]>;
}

const MAX_LISTED = 5;

/** The projects a per-group role (PACK_TAG) serves, as its trust's `sub` values name them; [] for any other role. */
export function packedRoleProjects(role: Pick<RoleDetail, 'tags' | 'trustPolicy'>): string[] {
  if (!isToolManaged(role.tags) || role.tags[PACK_TAG] === undefined) return [];
  return [...new Set(summarizeTrust(role.trustPolicy).subjects.map((s) => s.project))];
}

export function assignPackedRoles(
  roles: readonly RoleDetail[],
  projects: readonly string[],
  gitlabUrl: string | undefined,
): PackedRoles {
  const selected = new Map(projects.map((p) => [p.toLowerCase(), p]));
  const owned = new Map<string, RoleDetail[]>();
  const blockers = new Map<string, { message: string; hint: string }[]>();
  for (const role of roles) {
    if (gitlabUrl !== undefined && !sameGitlabUrl(role.tags[GITLAB_URL_TAG], gitlabUrl)) continue;
    // A subject by ID or pattern cannot be matched to a selected path: it counts as outside.
    const served = packedRoleProjects(role);
    const inside = served.filter((p) => selected.has(p.toLowerCase()));
    if (inside.length === 0) continue;
    const outside = served.filter((p) => !selected.has(p.toLowerCase()));
    if (outside.length === 0) {
      const first = projects.find((p) => inside.some((i) => i.toLowerCase() === p.toLowerCase())) as string;
      const key = first.toLowerCase();
      owned.set(key, [...(owned.get(key) ?? []), role]);
      continue;
    }
    const listed = outside.slice(0, MAX_LISTED).join(', ');
    const more = outside.length > MAX_LISTED ? ` and ${outside.length - MAX_LISTED} more` : '';
    for (const p of inside) {
      const key = p.toLowerCase();
      blockers.set(key, [
        ...(blockers.get(key) ?? []),
        {
          message: `Role ${role.name} is a per-group role (group ${role.tags[PACK_TAG]}) that also serves ${outside.length} project${outside.length === 1 ? '' : 's'} outside this selection (${listed}${more}); it is kept.`,
          hint: `Select every project it serves to delete it (the whole --group or config), or keep it. Taking one project out of a per-group role is not done by destroy.`,
        },
      ]);
    }
  }
  return { owned, blockers };
}
