/**
 * Selection → members: the projects a fleet command acts on, each with the raw flags a single `init`
 * of it would be given and where each value came from, plus the projects skipped and why.
 *
 * - `--project P`: one member (validated later by init itself, with the git context of the folder).
 * - `--group G`: every project of G and its subgroups (`listGroupProjects`, include_subgroups), archived
 *   ones skipped; `--include`/`--exclude` globs over `path_with_namespace` (`*` one segment, `**` any
 *   depth, case-insensitive, dot segments matched); the command's own flags apply to every member.
 * - `--config F`: the file's `path` entries (always members: naming a project is including it) and
 *   the projects of its `group`, filtered by its include/exclude and the command line's.
 *
 * Pure except for the one GitLab call; every problem found is reported at once (exit 2), the config's
 * before that call, and everything before any AWS call.
 */
import type { RawInitFlags } from '../commands/init.js';
import type { InitFlagKey } from '../config/member.js';
import { type FieldIssue, UsageError } from '../errors.js';
import { flagName } from '../options/zod-issues.js';
import type { FleetMember } from './members.js';
import { resolveConfig } from './selection-config.js';
import type { Selection } from './selection-options.js';
import {
  compile,
  emptyRepository,
  filterReason,
  flagSources,
  gitlabIds,
  type ResolvedSelection,
  type SelectionDeps,
  type SkippedProject,
  sortByPath,
  validateAll,
  withDefaultBranch,
  withDelivery,
} from './selection-shared.js';

export type { GroupLister, ResolvedSelection, SelectionDeps, SkippedProject } from './selection-shared.js';

/** Flags that name one project: refused for a fleet (a per-project value comes from a config entry). */
const PER_PROJECT_FLAGS: Partial<Record<InitFlagKey, string>> = {
  projectId: 'GitLab gives each member its own ID',
  namespaceId: 'GitLab gives each member its own ID',
  roleName:
    'every member would get the same role; use --config with a roleName pattern such as gitlab-{path}',
  policyName: 'every member would get the same policy name',
  ciFile:
    'a fleet member has no local checkout; the pipeline change is delivered to the project (--merge-request)',
};

/** Init flags the config file sets instead, with the config field to use. */
const CONFIG_FIELDS: Partial<Record<InitFlagKey, string>> = {
  gitlabUrl: 'gitlabUrl',
  branch: 'refs.branches',
  tag: 'refs.tags',
  allowAnyRef: 'refs.allowAnyRef',
  audience: 'audience',
  protectedOnly: 'protectedOnly',
  managedPolicy: 'permissions.managedPolicies',
  policyFile: 'permissions.policyFile',
  template: 'permissions.template',
  templateParam: 'permissions.params',
  roleName: 'roleName',
  rolePath: 'rolePath',
  permissionsBoundary: 'boundary',
  maxSessionDuration: 'maxSessionDuration',
  awsTag: 'tags',
  region: 'region',
  mergeRequest: 'delivery: merge-request',
  ciVariables: 'delivery: ci-variables',
};

/** Refuses the command-line flags a fleet cannot take, naming each (before anything is read). */
export function checkFleetFlags(kind: Selection['kind'], flags: RawInitFlags): void {
  if (kind === 'project') return;
  const issues: FieldIssue[] = [];
  for (const [key, value] of Object.entries(flags) as [InitFlagKey, unknown][]) {
    if (value === undefined || key === 'project') continue;
    if (key === 'ciFile' && value === false) continue;
    const configField = CONFIG_FIELDS[key];
    if (kind === 'config' && configField) {
      issues.push({
        field: flagName(key),
        message: `is set in the config file with --config (defaults.${configField}, or a projects entry)`,
      });
    } else if (PER_PROJECT_FLAGS[key]) {
      issues.push({ field: flagName(key), message: `does not go with --${kind}: ${PER_PROJECT_FLAGS[key]}` });
    }
  }
  if (issues.length) {
    throw new UsageError(
      `Invalid flags for a fleet (${issues.length} problem${issues.length === 1 ? '' : 's'}).`,
      issues,
    );
  }
}

/** Resolves a selection into members and skipped projects. Throws a UsageError (exit 2) listing every problem. */
export async function resolveSelection(
  selection: Selection,
  flags: RawInitFlags,
  deps: SelectionDeps,
): Promise<ResolvedSelection> {
  checkFleetFlags(selection.kind, flags);
  if (selection.kind === 'project') {
    const merged = { ...flags, ...(selection.project === undefined ? {} : { project: selection.project }) };
    const { sources, elementSources } = flagSources(merged);
    const member: FleetMember = {
      project: merged.project ?? '',
      flags: merged,
      sources,
      elementSources,
      delivery: 'none',
      role: 'per-project',
    };
    return { kind: 'project', members: [member], skipped: [], gitlabUrl: flags.gitlabUrl };
  }
  if (selection.kind === 'group') return resolveGroup(selection, flags, deps);
  return resolveConfig(selection, flags, deps);
}

async function resolveGroup(
  selection: Extract<Selection, { kind: 'group' }>,
  flags: RawInitFlags,
  deps: SelectionDeps,
): Promise<ResolvedSelection> {
  const include = compile(selection.include);
  const exclude = compile(selection.exclude);
  const port = await deps.gitlab(flags.gitlabUrl);
  const projects = await port.listGroupProjects(selection.group, { includeSubgroups: true });
  const members: FleetMember[] = [];
  const skipped: SkippedProject[] = [];
  const base = { ...flags, ciFile: false as const };
  // --merge-request / --ci-variables apply to every member; neither given: nothing is delivered.
  const delivery = { mergeRequest: Boolean(flags.mergeRequest), ciVariables: Boolean(flags.ciVariables) };
  for (const p of sortByPath(projects)) {
    const skip = filterReason(p, include, exclude, '--include');
    if (skip) {
      skipped.push(skip);
      continue;
    }
    const memberFlags = { ...base, project: p.pathWithNamespace };
    const { sources, elementSources } = flagSources(flags);
    const member = withDefaultBranch(
      withDelivery(
        {
          project: p.pathWithNamespace,
          gitlab: gitlabIds(p),
          listed: p,
          flags: memberFlags,
          sources,
          elementSources,
          delivery: 'none',
          role: 'per-project',
        },
        delivery,
      ),
      p,
    );
    if (member) members.push(member);
    else skipped.push(emptyRepository(p));
  }
  await validateAll(members, { cwd: deps.cwd, env: deps.env }, `members of group ${selection.group}`);
  return { kind: 'group', members, skipped, gitlabUrl: flags.gitlabUrl };
}
