/**
 * What the selection kinds share: the result types, glob filtering with its skip reasons, the
 * command-line flags as member sources, GitLab's default branch for members without refs, and the
 * one validation pass over the members (init's own parsing).
 */
import picomatch from 'picomatch';
import type { RawInitFlags } from '../commands/init.js';
import type { LoadedConfig } from '../config/load.js';
import type { InitFlagKey } from '../config/member.js';
import { GLOB_OPTIONS } from '../config/schema.js';
import type { FieldIssue } from '../errors.js';
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

/** The first of `patterns` that matches `path`, or undefined. */
export function firstMatch(
  patterns: readonly { text: string; test: (p: string) => boolean }[],
  path: string,
): string | undefined {
  return patterns.find((p) => p.test(path))?.text;
}

export const compile = (patterns: readonly string[]) =>
  patterns.map((text) => ({ text, test: picomatch(text, GLOB_OPTIONS) }));

export const flagSources = (flags: RawInitFlags) => {
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

export const hasRefs = (flags: RawInitFlags) => Boolean(flags.branch?.length || flags.tag?.length);

/** Fills the refs of a member that has none with the project's default branch, as GitLab reports it. */
export function withDefaultBranch(member: FleetMember, project: GitlabProject): FleetMember | undefined {
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

/**
 * How the member's pipeline change reaches it, as init's flags: `merge-request` → --merge-request (the
 * repository's .gitlab-ci.yml, read and committed through the API), `ci-variables` → --ci-variables,
 * `none` → neither. With --group the command line's flags say it (both may be given); with --config
 * the file's `delivery`. `source` is where it was set (a flag, or the config node).
 */
export function withDelivery(
  member: FleetMember,
  delivery: { mergeRequest: boolean; ciVariables: boolean },
  source?: MemberSource,
): FleetMember {
  const flags: RawInitFlags = { ...member.flags };
  const sources = { ...member.sources };
  if (delivery.mergeRequest) {
    flags.mergeRequest = true;
    // The file is the repository's (the default path), never a local one.
    delete flags.ciFile;
    if (source) sources.mergeRequest = source;
  }
  if (delivery.ciVariables) {
    flags.ciVariables = true;
    if (source) sources.ciVariables = source;
  }
  const mode: FleetMember['delivery'] = delivery.mergeRequest
    ? 'merge-request'
    : delivery.ciVariables
      ? 'ci-variables'
      : 'none';
  return { ...member, flags, sources, delivery: mode };
}

export const gitlabIds = (p: GitlabProject) => ({
  projectId: p.id,
  namespaceId: p.namespace.id,
  defaultBranch: p.defaultBranch,
});

export function filterReason(
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

export const emptyRepository = (p: GitlabProject): SkippedProject => ({
  project: p.pathWithNamespace,
  projectId: p.id,
  reason: 'empty-repository',
  detail: 'empty repository: GitLab reports no default branch, and no refs are set for it',
});

export const sortByPath = (projects: readonly GitlabProject[]) =>
  [...projects].sort((a, b) =>
    a.pathWithNamespace < b.pathWithNamespace ? -1 : a.pathWithNamespace > b.pathWithNamespace ? 1 : 0,
  );

export async function validateAll(
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
