/**
 * The projects a `migrate` run looks at. `--project` (repeatable) names them one by one; `--group G`
 * and `--config F` (with `--include`/`--exclude`) are the fleet selection every other command uses
 * (fleet/command-selection.ts resolveFleetTargets): archived, excluded and not-included projects are
 * skipped and listed as skipped. Deduplicated by ID, sorted by path.
 *
 * The fleet selection keeps paths and IDs only; the projects it listed are kept here as GitLab
 * returned them (namespace, web URL), so a selected project costs no further call. A config file's
 * `path` entries, which GitLab did not list, are read with one GET each.
 */

import { sameGitlabUrl } from '../core/tool-resources.js';
import { UsageError } from '../errors.js';
import type { FleetSelection } from '../fleet/command-selection.js';
import { resolveFleetTargets } from '../fleet/command-selection.js';
import type { GitlabPort, GitlabProject } from '../gitlab/api/ports.js';

/** `--project a --project b`, or the fleet selection (`--group`/`--config`). */
export type MigrateSelection = { kind: 'projects'; projects: string[] } | FleetSelection;

export interface SelectedProjects {
  projects: GitlabProject[];
  skipped: { path: string; reason: string }[];
}

export interface SelectContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The instance the run reads (--gitlab-url); a config file naming another one is refused. */
  gitlabUrl: string;
}

const byPath = (a: { pathWithNamespace: string }, b: { pathWithNamespace: string }) =>
  a.pathWithNamespace.localeCompare(b.pathWithNamespace);

export async function selectProjects(
  gitlab: GitlabPort,
  selection: MigrateSelection,
  context: SelectContext,
): Promise<SelectedProjects> {
  if (selection.kind === 'projects') {
    const byId = new Map<number, GitlabProject>();
    for (const path of selection.projects) {
      const project = await gitlab.getProject(path);
      byId.set(project.id, project);
    }
    return { projects: [...byId.values()].sort(byPath), skipped: [] };
  }
  // The projects GitLab lists for the selection's group, kept whole.
  const listed = new Map<number, GitlabProject>();
  const lister = {
    listGroupProjects: async (group: string | number, options?: { includeSubgroups?: boolean }) => {
      const projects = await gitlab.listGroupProjects(group, options);
      for (const p of projects) listed.set(p.id, p);
      return projects;
    },
  };
  const targets = await resolveFleetTargets(
    selection,
    selection.kind === 'group' ? { gitlabUrl: context.gitlabUrl } : {},
    { cwd: context.cwd, env: context.env, signal: new AbortController().signal },
    { gitlab: () => lister },
  );
  if (targets.gitlabUrl !== undefined && !sameGitlabUrl(targets.gitlabUrl, context.gitlabUrl)) {
    throw UsageError.field(
      '--gitlab-url',
      `the config file names GitLab ${targets.gitlabUrl}, this run reads ${context.gitlabUrl}`,
      `Pass --gitlab-url ${targets.gitlabUrl} (one instance per run).`,
    );
  }
  const byId = new Map<number, GitlabProject>();
  for (const target of targets.projects) {
    const known =
      (target.projectId !== undefined ? listed.get(target.projectId) : undefined) ??
      [...listed.values()].find((p) => p.pathWithNamespace.toLowerCase() === target.project.toLowerCase());
    const project = known ?? (await gitlab.getProject(target.projectId ?? target.project));
    byId.set(project.id, project);
  }
  return {
    projects: [...byId.values()].sort(byPath),
    skipped: targets.skipped.map((s) => ({ path: s.project, reason: s.detail })),
  };
}

/** `a/b/c` → `['a/b/c', 'a/b', 'a']`: the namespace and its ancestors, nearest first. */
export function ancestorGroups(namespaceFullPath: string): string[] {
  const parts = namespaceFullPath.split('/');
  return parts.map((_, i) => parts.slice(0, parts.length - i).join('/'));
}
