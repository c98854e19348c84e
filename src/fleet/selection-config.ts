/**
 * `--config F`: the file's `path` entries (always members) and the projects of its `group`, filtered by
 * its include/exclude and the command line's. Every value of the file is checked by init's parsing:
 * the defaults and each glob entry over a stand-in project and the exact entries before GitLab is
 * asked for the group, then every enumerated member.
 */
import type { RawInitFlags } from '../commands/init.js';
import { type ConfigPath, configIssue, type LoadedConfig, loadFleetConfig } from '../config/load.js';
import {
  type ConfigMemberSettings,
  compileMatchers,
  type InitFlagKey,
  type Layer,
  settingsForProject,
} from '../config/member.js';
import { validateGroupPath } from '../core/refs.js';
import { type FieldIssue, UsageError } from '../errors.js';
import type { FleetMember, MemberSource } from './members.js';
import type { Selection } from './selection-options.js';
import {
  compile,
  emptyRepository,
  filterReason,
  flagSources,
  gitlabIds,
  hasRefs,
  type ResolvedSelection,
  type SelectionDeps,
  type SkippedProject,
  sortByPath,
  validateAll,
  withDefaultBranch,
  withDelivery,
} from './selection-shared.js';

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
  return withDelivery(
    {
      project,
      flags: { ...passThrough, ...settings.flags },
      sources,
      elementSources,
      delivery: 'none',
      role: settings.role,
      anchor: loaded.positionOf(anchorPath),
    },
    {
      mergeRequest: settings.delivery === 'merge-request',
      ciVariables: settings.delivery === 'ci-variables',
    },
    settings.deliveryOrigin ? at(settings.deliveryOrigin) : undefined,
  );
}

const problemIssues = (loaded: LoadedConfig, settings: ConfigMemberSettings): FieldIssue[] =>
  settings.problems.map((p) => configIssue(loaded.positionOf(p.path), p.message, p.allowed));

/** The command-line flags every config member takes as given (run-level: --yes, --profile, consents…). */
const passThroughFlags = (flags: RawInitFlags): RawInitFlags =>
  Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as RawInitFlags;

export async function resolveConfig(
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

  // The defaults and each glob entry over a stand-in project of the group: a bad value fails here,
  // before GitLab is asked for the group's projects, even if no project matches it. What depends on
  // the path (the role name's length) is checked again per member.
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
      const member = withDefaultBranch({ ...base, gitlab: gitlabIds(p), listed: p }, p);
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
