/**
 * The fleet selection as `audit`, `destroy` and `status` use it: `--group`/`--config` (with
 * `--include`/`--exclude`) parsed before any I/O, then resolved through `resolveSelection` (the one
 * selection, shared with `init`) into the list of projects the command acts on. These commands only
 * read or remove what exists, so a project GitLab reports as an empty repository (no default branch)
 * is still selected: it may have roles. Archived, excluded and not-included projects are skipped.
 */
import { homedir } from 'node:os';
import { UsageError } from '../errors.js';
import { lazyGitlabPort } from '../gitlab/api/lazy-port.js';
import { GITLAB_COM } from '../init/resolve.js';
import type { CommandContext } from '../io/context.js';
import type { RawGitlabApiFlags } from '../options/gitlab-api.js';
import { TOOL_NAME } from '../version.js';
import { resolveSelection, type SelectionDeps, type SkippedProject } from './selection.js';
import { parseSelectionFlags, type RawSelectionFlags, type Selection } from './selection-options.js';

export type FleetSelection = Exclude<Selection, { kind: 'project' }>;

export interface RawFleetFlags extends RawSelectionFlags, RawGitlabApiFlags {
  gitlabUrl?: string | undefined;
}

export interface FleetProject {
  /** `group/sub/project`, as GitLab spells it (or as the config file names it). */
  project: string;
  projectId?: number | undefined;
}

export interface FleetTargets {
  kind: FleetSelection['kind'];
  /** The `--group` or the `--config` file, as given. */
  source: string;
  /** The instance the selection names (the flag, or the config file's `gitlabUrl`); undefined: not said. */
  gitlabUrl?: string | undefined;
  projects: FleetProject[];
  skipped: SkippedProject[];
}

export interface FleetSelectionDeps {
  /** Tests: the GitLab port (default: the real client, built lazily from the token flags and env). */
  gitlab?: SelectionDeps['gitlab'] | undefined;
}

/** The selection flags of a command, or undefined when none of `--group`/`--config` is given. */
export function parseFleetSelection(flags: RawFleetFlags): FleetSelection | undefined {
  const selection = parseSelectionFlags({
    project: flags.project,
    group: flags.group,
    include: flags.include,
    exclude: flags.exclude,
    config: flags.config,
  });
  return selection.kind === 'project' ? undefined : selection;
}

/** Refuses the command's own flags that name one target when a fleet is selected (before any I/O). */
export function refuseWithFleet(selection: FleetSelection, given: Record<string, unknown>): void {
  const issues = Object.entries(given)
    .filter(([, value]) => value !== undefined && value !== false)
    .map(([flag]) => ({ field: flag, message: `cannot be combined with --${selection.kind}` }));
  if (issues.length) {
    throw new UsageError(
      `Invalid flags for a fleet (${issues.length} problem${issues.length === 1 ? '' : 's'}).`,
      issues,
    );
  }
}

/** The selected projects (GitLab is only read; nothing of AWS is touched). UsageError (exit 2) on bad input. */
export async function resolveFleetTargets(
  selection: FleetSelection,
  flags: RawFleetFlags,
  context: Pick<CommandContext, 'cwd' | 'env' | 'signal'>,
  deps: FleetSelectionDeps = {},
): Promise<FleetTargets> {
  const gitlab =
    deps.gitlab ??
    ((gitlabUrl: string | undefined) =>
      lazyGitlabPort({
        gitlabUrl: gitlabUrl ?? GITLAB_COM,
        gitlabApiUrl: flags.gitlabApiUrl,
        gitlabTokenEnv: flags.gitlabTokenEnv,
        env: context.env,
        homedir: homedir(),
        signal: context.signal,
      })());
  const resolved = await resolveSelection(
    selection,
    { yes: true, ...(flags.gitlabUrl !== undefined ? { gitlabUrl: flags.gitlabUrl } : {}) },
    { cwd: context.cwd, env: context.env, gitlab },
  );
  const projects: FleetProject[] = resolved.members.map((m) => ({
    project: m.project,
    projectId: m.gitlab?.projectId,
  }));
  const skipped: SkippedProject[] = [];
  for (const s of resolved.skipped) {
    if (s.reason === 'empty-repository') projects.push({ project: s.project, projectId: s.projectId });
    else skipped.push(s);
  }
  projects.sort((a, b) => (a.project < b.project ? -1 : a.project > b.project ? 1 : 0));
  return {
    kind: selection.kind,
    source: selection.kind === 'group' ? selection.group : selection.file,
    gitlabUrl: resolved.gitlabUrl,
    projects,
    skipped,
  };
}

/** `gitlab-aws-oidc destroy --group acme --exclude 'acme/legacy/**' --yes`: the same selection again. */
export function fleetCommandLine(
  command: string,
  selection: FleetSelection,
  extra: readonly string[] = [],
): string {
  const quote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const parts = [TOOL_NAME, command];
  if (selection.kind === 'group') parts.push('--group', quote(selection.group));
  else parts.push('--config', quote(selection.file));
  for (const g of selection.include) parts.push('--include', quote(g));
  for (const g of selection.exclude) parts.push('--exclude', quote(g));
  return [...parts, ...extra].join(' ');
}
