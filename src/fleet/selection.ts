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
import picomatch from 'picomatch';
import type { RawInitFlags } from '../commands/init.js';
import { type ConfigPath, configIssue, type LoadedConfig, loadFleetConfig } from '../config/load.js';
import {
  type ConfigMemberSettings,
  compileMatchers,
  type InitFlagKey,
  type Layer,
  settingsForProject,
} from '../config/member.js';
import { GLOB_OPTIONS } from '../config/schema.js';
import { validateGroupPath } from '../core/refs.js';
import { type FieldIssue, UsageError } from '../errors.js';
import type { GitlabPort, GitlabProject } from '../gitlab/api/ports.js';
import { flagName } from '../options/zod-issues.js';
import { type FleetMember, type MemberSource, throwMemberIssues, validateMember } from './members.js';
import type { Selection } from './selection-options.js';

export type GroupLister = Pick<GitlabPort, 'listGroupProjects'>;

export interface SkippedProject {
  project: string;
  projectId?: number | undefined;
  reason: 'archived' | 'not-included' | 'excluded' | 'empty-repository';
  /** Human: `archived`, `excluded by "acme/legacy/**"`. */
  detail: string;
}

export interface ResolvedSelection {
  kind: Selection['kind'];
  members: FleetMember[];
  skipped: SkippedProject[];
  /** The GitLab instance of the fleet, when the flags or the config name it. */
  gitlabUrl?: string | undefined;
  config?: LoadedConfig | undefined;
}

export interface SelectionDeps {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Builds the GitLab port for the instance (called only when a group is enumerated). */
  gitlab: (gitlabUrl: string | undefined) => GroupLister | Promise<GroupLister>;
  /** Tests: read the config file from somewhere else. */
  readBytes?: (path: string) => Promise<Uint8Array>;
}

/** Flags that name one project: refused for a fleet (a per-project value comes from a config entry). */
const PER_PROJECT_FLAGS: Partial<Record<InitFlagKey, string>> = {
  projectId: 'GitLab gives each member its own ID',
  namespaceId: 'GitLab gives each member its own ID',
  roleName:
    'every member would get the same role; use --config with a roleName pattern such as gitlab-{path}',
  policyName: 'every member would get the same policy name',
  ciFile: 'a fleet member has no local checkout; the pipeline change is delivered to the project',
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

/** The first of `patterns` that matches `path`, or undefined. */
function firstMatch(
  patterns: readonly { text: string; test: (p: string) => boolean }[],
  path: string,
): string | undefined {
  return patterns.find((p) => p.test(path))?.text;
}

const compile = (patterns: readonly string[]) =>
  patterns.map((text) => ({ text, test: picomatch(text, GLOB_OPTIONS) }));

const flagSources = (flags: RawInitFlags) => {
  const sources: FleetMember['sources'] = {};
  const elementSources: FleetMember['elementSources'] = {};
  for (const [key, value] of Object.entries(flags) as [InitFlagKey, unknown][]) {
    if (value === undefined || key === 'project') continue;
    const source: MemberSource = { kind: 'flag', flag: flagName(key) };
    sources[key] = source;
    if (Array.isArray(value)) elementSources[key] = value.map(() => source);
  }
  return { sources, elementSources };
};

const hasRefs = (flags: RawInitFlags) => Boolean(flags.branch?.length || flags.tag?.length);

/** Fills the refs of a member that has none with the project's default branch, as GitLab reports it. */
function withDefaultBranch(member: FleetMember, project: GitlabProject): FleetMember | undefined {
  if (hasRefs(member.flags)) return member;
  if (!project.defaultBranch) return undefined;
  const source: MemberSource = { kind: 'gitlab', detail: `default branch of ${project.pathWithNamespace}` };
  return {
    ...member,
    flags: { ...member.flags, branch: [project.defaultBranch] },
    sources: { ...member.sources, branch: source },
    elementSources: { ...member.elementSources, branch: [source] },
  };
}

const gitlabIds = (p: GitlabProject) => ({
  projectId: p.id,
  namespaceId: p.namespace.id,
  defaultBranch: p.defaultBranch,
});

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
  for (const p of sortByPath(projects)) {
    const skip = filterReason(p, include, exclude, '--include');
    if (skip) {
      skipped.push(skip);
      continue;
    }
    const memberFlags = { ...base, project: p.pathWithNamespace };
    const { sources, elementSources } = flagSources(flags);
    const member = withDefaultBranch(
      {
        project: p.pathWithNamespace,
        gitlab: gitlabIds(p),
        flags: memberFlags,
        sources,
        elementSources,
        delivery: 'merge-request',
        role: 'per-project',
      },
      p,
    );
    if (member) members.push(member);
    else skipped.push(emptyRepository(p));
  }
  await validateAll(members, { cwd: deps.cwd, env: deps.env }, `members of group ${selection.group}`);
  return { kind: 'group', members, skipped, gitlabUrl: flags.gitlabUrl };
}

function filterReason(
  p: GitlabProject,
  include: ReturnType<typeof compile>,
  exclude: ReturnType<typeof compile>,
  includeLabel: string,
): SkippedProject | undefined {
  const project = p.pathWithNamespace;
  if (p.archived) return { project, projectId: p.id, reason: 'archived', detail: 'archived' };
  const excludedBy = firstMatch(exclude, project);
  if (excludedBy !== undefined) {
    return { project, projectId: p.id, reason: 'excluded', detail: `excluded by "${excludedBy}"` };
  }
  if (include.length && firstMatch(include, project) === undefined) {
    return {
      project,
      projectId: p.id,
      reason: 'not-included',
      detail: `not matched by ${includeLabel} (${include.map((i) => `"${i.text}"`).join(', ')})`,
    };
  }
  return undefined;
}

const emptyRepository = (p: GitlabProject): SkippedProject => ({
  project: p.pathWithNamespace,
  projectId: p.id,
  reason: 'empty-repository',
  detail: 'empty repository: GitLab reports no default branch, and no refs are set for it',
});

const sortByPath = (projects: readonly GitlabProject[]) =>
  [...projects].sort((a, b) =>
    a.pathWithNamespace < b.pathWithNamespace ? -1 : a.pathWithNamespace > b.pathWithNamespace ? 1 : 0,
  );

async function validateAll(
  members: readonly FleetMember[],
  ctx: { cwd: string; env?: NodeJS.ProcessEnv | undefined; extra?: FieldIssue[] },
  what: string,
): Promise<void> {
  const permissionCache = new Map<string, Promise<unknown>>();
  const issues: FieldIssue[] = [...(ctx.extra ?? [])];
  for (const member of members) {
    issues.push(...(await validateMember(member, { cwd: ctx.cwd, env: ctx.env ?? {}, permissionCache })));
  }
  throwMemberIssues(what, issues);
}

/** A config member: the merged settings as init flags, each source located in the file. */
function configMember(
  loaded: LoadedConfig,
  project: string,
  settings: ConfigMemberSettings,
  passThrough: RawInitFlags,
  anchorPath: ConfigPath,
  projectOrigin?: ConfigPath,
): FleetMember {
  const at = (path: ConfigPath): MemberSource => ({
    kind: 'config',
    path,
    position: loaded.positionOf(path),
  });
  const pass = flagSources(passThrough);
  const sources: FleetMember['sources'] = { ...pass.sources };
  const elementSources: FleetMember['elementSources'] = { ...pass.elementSources };
  for (const [key, path] of Object.entries(settings.origins.field) as [InitFlagKey, ConfigPath][]) {
    sources[key] = at(path);
  }
  for (const [key, paths] of Object.entries(settings.origins.elements) as [InitFlagKey, ConfigPath[]][]) {
    elementSources[key] = paths.map(at);
  }
  if (projectOrigin) sources.project = at(projectOrigin);
  return {
    project,
    flags: { ...passThrough, ...settings.flags },
    sources,
    elementSources,
    delivery: settings.delivery,
    role: settings.role,
    anchor: loaded.positionOf(anchorPath),
  };
}

const problemIssues = (loaded: LoadedConfig, settings: ConfigMemberSettings): FieldIssue[] =>
  settings.problems.map((p) => configIssue(loaded.positionOf(p.path), p.message, p.allowed));

/** The command-line flags every config member takes as given (run-level: --yes, --profile, consents…). */
const passThroughFlags = (flags: RawInitFlags): RawInitFlags =>
  Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as RawInitFlags;

async function resolveConfig(
  selection: Extract<Selection, { kind: 'config' }>,
  flags: RawInitFlags,
  deps: SelectionDeps,
): Promise<ResolvedSelection> {
  const loaded = await loadFleetConfig(selection.file, {
    cwd: deps.cwd,
    ...(deps.readBytes ? { readBytes: deps.readBytes } : {}),
  });
  const { config } = loaded;
  const passThrough = passThroughFlags(flags);
  const matchers = compileMatchers(config);
  const configDir = loaded.dir;
  const early: FieldIssue[] = [];
  if (config.group !== undefined) {
    try {
      validateGroupPath(config.group, 'group');
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      early.push(configIssue(loaded.positionOf(['group']), error.issues[0]?.message ?? error.message));
    }
  }

  // The exact `path` entries: members whatever include/exclude say (one member per project).
  const exact = new Map<string, { index: number; path: string }>();
  (config.projects ?? []).forEach((entry, index) => {
    if (entry.path === undefined) return;
    const key = entry.path.trim().toLowerCase();
    if (!exact.has(key)) exact.set(key, { index, path: entry.path.trim() });
  });
  const exactMembers = new Map<string, FleetMember>();
  const memberChecks: FleetMember[] = [];
  for (const [key, { index, path }] of exact) {
    const settings = settingsForProject(config, path, { configDir, matchers });
    early.push(...problemIssues(loaded, settings));
    const member = configMember(
      loaded,
      path,
      settings,
      passThrough,
      ['projects', index, 'path'],
      ['projects', index, 'path'],
    );
    exactMembers.set(key, member);
    if (hasRefs(member.flags) || config.group === undefined) memberChecks.push(member);
  }

  // Each glob entry (and the defaults) over a stand-in project of the group: a bad value fails here,
  // before GitLab is asked for the group's projects (and is found even if no project matches it). Values that depend on the path (the role name's
  // length) are checked again per member.
  const standIn = `${config.group ?? 'group'}/project`;
  const layers: Layer[][] = [];
  if (config.defaults) layers.push([{ path: ['defaults'], settings: config.defaults }]);
  (config.projects ?? []).forEach((entry, i) => {
    if (entry.match === undefined) return;
    const base: Layer[] = config.defaults ? [{ path: ['defaults'], settings: config.defaults }] : [];
    layers.push([...base, { path: ['projects', i], settings: entry }]);
  });
  for (const stack of layers) {
    const settings = settingsForProject(config, standIn, { configDir, layers: stack });
    early.push(...problemIssues(loaded, settings));
    const top = stack[stack.length - 1] as Layer;
    const member = configMember(loaded, standIn, settings, passThrough, top.path);
    if (!hasRefs(member.flags)) member.flags.branch = ['main'];
    memberChecks.push({
      ...member,
      project:
        top.path[0] === 'defaults'
          ? 'defaults'
          : `match ${String((top.settings as { match?: string }).match)}`,
    });
  }
  await validateAll(
    memberChecks,
    { cwd: configDir, env: deps.env, extra: early },
    `config file ${loaded.shownPath}`,
  );

  const members: FleetMember[] = [];
  const skipped: SkippedProject[] = [];
  const seen = new Set<string>();
  const late: FieldIssue[] = [];
  if (config.group !== undefined) {
    const include = compile([...(config.include ?? []), ...selection.include]);
    const exclude = compile([...(config.exclude ?? []), ...selection.exclude]);
    const port = await deps.gitlab(config.gitlabUrl);
    const projects = await port.listGroupProjects(config.group, { includeSubgroups: true });
    for (const p of sortByPath(projects)) {
      const key = p.pathWithNamespace.toLowerCase();
      seen.add(key);
      const named = exactMembers.get(key);
      if (p.archived) {
        skipped.push({
          project: p.pathWithNamespace,
          projectId: p.id,
          reason: 'archived',
          detail: 'archived',
        });
        continue;
      }
      if (!named) {
        const skip = filterReason(p, include, exclude, 'include');
        if (skip) {
          skipped.push(skip);
          continue;
        }
      }
      let base = named;
      if (!base) {
        const settings = settingsForProject(config, p.pathWithNamespace, { configDir, matchers });
        late.push(...problemIssues(loaded, settings));
        base = configMember(loaded, p.pathWithNamespace, settings, passThrough, ['group']);
      }
      const member = withDefaultBranch({ ...base, gitlab: gitlabIds(p) }, p);
      if (member) members.push(member);
      else skipped.push(emptyRepository(p));
    }
  }
  for (const [key, member] of exactMembers) if (!seen.has(key)) members.push(member);
  const checked = new Set(memberChecks.map((m) => m.project.toLowerCase()));
  const unchecked = members.filter((m) => !checked.has(m.project.toLowerCase()));
  await validateAll(
    unchecked,
    { cwd: configDir, env: deps.env, extra: late },
    `config file ${loaded.shownPath}`,
  );
  return { kind: 'config', members, skipped, gitlabUrl: config.gitlabUrl, config: loaded };
}
