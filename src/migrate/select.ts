/**
 * The projects a `migrate` run looks at: each `--project`, and every project of each `--group` and its
 * subgroups (archived ones skipped, and listed as skipped). Deduplicated by ID, sorted by path.
 *
 * TODO(fleet): replace with the shared selection of src/fleet/selection.ts once it is on main (it
 * adds --config and include/exclude globs); this is the one function to swap.
 */
import type { GitlabPort, GitlabProject } from '../gitlab/api/ports.js';

export interface ProjectSelection {
  projects: string[];
  groups: string[];
}

export interface SelectedProjects {
  projects: GitlabProject[];
  skipped: { path: string; reason: string }[];
}

export async function selectProjects(
  gitlab: GitlabPort,
  selection: ProjectSelection,
): Promise<SelectedProjects> {
  const byId = new Map<number, GitlabProject>();
  const skipped = new Map<number, { path: string; reason: string }>();
  for (const path of selection.projects) {
    const project = await gitlab.getProject(path);
    byId.set(project.id, project);
  }
  for (const group of selection.groups) {
    for (const project of await gitlab.listGroupProjects(group, { includeSubgroups: true })) {
      if (byId.has(project.id)) continue;
      if (project.archived) skipped.set(project.id, { path: project.pathWithNamespace, reason: 'archived' });
      else byId.set(project.id, project);
    }
  }
  const byPath = (a: { pathWithNamespace: string }, b: { pathWithNamespace: string }) =>
    a.pathWithNamespace.localeCompare(b.pathWithNamespace);
  return {
    projects: [...byId.values()].sort(byPath),
    skipped: [...skipped.values()]
      .filter((s) => ![...byId.values()].some((p) => p.pathWithNamespace === s.path))
      .sort((a, b) => a.path.localeCompare(b.path)),
  };
}

/** `a/b/c` → `['a/b/c', 'a/b', 'a']`: the namespace and its ancestors, nearest first. */
export function ancestorGroups(namespaceFullPath: string): string[] {
  const parts = namespaceFullPath.split('/');
  return parts.map((_, i) => parts.slice(0, parts.length - i).join('/'));
}
