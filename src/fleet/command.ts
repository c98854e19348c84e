/**
 * `init --group` / `init --config`: the selection (selection.ts) → one InitOptions per member, resolved
 * by init's own resolver → runFleet, the same path a single `init` takes (init/command.ts). Loaded only
 * when such a selection is given.
 *
 * GitLab: one port per instance for the whole run (init/gitlab-port.ts), shared by the group listing,
 * every member's lookup and its reads and writes. A member the listing returned is looked up from the
 * listing (the same project entity GET /projects/:id gives): no GET of its own. Delivery
 * (--merge-request / --ci-variables, or the config's `delivery`) without a usable token is refused for
 * the whole fleet before any AWS call (exit 2), naming the flag or the config line.
 */
import { dirname, resolve } from 'node:path';
import { lazyAwsPorts } from '../aws/lazy-ports.js';
import type { RawInitFlags } from '../commands/init.js';
import { memoizeAsync, settleWithConcurrency } from '../core/concurrency.js';
import { parseIssuerUrl } from '../core/issuer.js';
import { requireDeliveryApi } from '../delivery/plan.js';
import { type FieldIssue, UsageError } from '../errors.js';
import type { GitlabPort } from '../gitlab/api/ports.js';
import { lazyGitlabPortFor } from '../gitlab/api/with-token.js';
import { resolveThumbprints } from '../gitlab/thumbprint.js';
import { initGitlabPorts } from '../init/gitlab-port.js';
import type { InitOptions } from '../init/options.js';
import { GITLAB_COM, resolveInitOptions } from '../init/resolve.js';
import { requireYesOrDryRun } from '../init/run.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { createProgress } from '../io/progress.js';
import { lazyInquirerPrompter } from '../prompts/prompter.js';
import { type FleetMember, locateIssue, throwMemberIssues } from './members.js';
import { resolveFleetOptions } from './options.js';
import { commandLine, runFleet } from './run.js';
import { resolveSelection } from './selection.js';
import type { RawSelectionFlags, Selection } from './selection-options.js';
import { reportFleet, showFleet } from './show.js';

/** This command line with the selection narrowed to one project: what finishes that member. */
export function resumeArgs(argv: readonly string[], project: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--include' || a === '--exclude') i++;
    else if (!a.startsWith('--include=') && !a.startsWith('--exclude=')) out.push(a);
  }
  return [...out, '--include', project];
}

export interface FleetCommandDeps {
  /**
   * Tests and benchmarks: the GitLab port of an instance (undefined: not usable). Default: one lazy
   * port per instance (initGitlabPorts: gitlab.com always, another instance with a token or
   * --gitlab-api-url), the group listing falling back to an anonymous one.
   */
  gitlab?: ((gitlabUrl: string) => Promise<GitlabPort | undefined>) | undefined;
}

/** The instance URL as init's resolver spells it (the key of the shared ports); as given when invalid. */
function instanceKey(url: string | undefined): string {
  try {
    return parseIssuerUrl(url ?? GITLAB_COM).url;
  } catch {
    return url ?? GITLAB_COM;
  }
}

export async function runFleetInitCommand(
  selection: Exclude<Selection, { kind: 'project' }>,
  flags: RawInitFlags & RawSelectionFlags,
  context: CommandContext,
  deps: FleetCommandDeps = {},
): Promise<void> {
  const { logger, output, progress, stdoutPalette } = createCommandIo(context, { json: Boolean(flags.json) });
  const fleetOptions = resolveFleetOptions(flags);
  const interactive = context.interactive && !flags.json;
  requireYesOrDryRun(flags, interactive);
  const {
    group: _g,
    include: _i,
    exclude: _e,
    config: _c,
    concurrency: _n,
    details: _d,
    ...initFlags
  } = flags;
  const cwd = selection.kind === 'config' ? dirname(resolve(context.cwd, selection.file)) : context.cwd;
  const onRetry = ({ status, delayMs, path }: { status: number; delayMs: number; path: string }) =>
    logger.info(
      logger.palette.muted(
        `  GitLab answered ${status} (${path}); retrying in ${Math.round(delayMs / 100) / 10}s`,
      ),
    );
  // One port per instance for the run: the listing, every member's lookup, reads and writes.
  const usable = deps.gitlab ?? initGitlabPorts(context, flags, onRetry);
  const gitlab = memoizeAsync((url) => usable(url));
  // Listing a group needs a port even where init would look nothing up (anonymous, another instance).
  const lister = memoizeAsync(async (url): Promise<GitlabPort> => {
    const port = await gitlab(url);
    if (port) return port;
    if (deps.gitlab) throw new Error(`no GitLab port for ${url}`);
    return lazyGitlabPortFor(context, flags, url, onRetry)();
  });
  const selected = await resolveSelection(selection, initFlags, {
    cwd: context.cwd,
    env: context.env,
    gitlab: (gitlabUrl) => {
      // Listing a group's projects is a GitLab call; --offline promises none (before any other call).
      if (flags.offline) {
        throw UsageError.field(
          '--offline',
          "cannot list a group's projects: --offline makes no GitLab call",
          'Drop --offline (--dry-run alone changes nothing), or list the projects by path in a --config file.',
        );
      }
      return lister(instanceKey(gitlabUrl));
    },
  });
  for (const s of selected.skipped) progress(`skipped ${s.project}: ${s.detail}`);
  const listedOn = instanceKey(selected.gitlabUrl);
  const what =
    selection.kind === 'group' ? `members of group ${selection.group}` : `config file ${selection.file}`;
  const members = await resolveMembers(selected.members, {
    cwd,
    env: context.env,
    concurrency: fleetOptions.concurrency,
    gitlab: flags.offline ? undefined : gitlab,
    listedOn,
    what,
    warn: progress,
  });
  if (!flags.offline) await requireFleetDelivery(selected.members, members, gitlab, what);
  const first = members[0];
  const fleet = await runFleet(members, {
    concurrency: fleetOptions.concurrency,
    logger,
    interactive,
    prompter: lazyInquirerPrompter(),
    signal: context.signal,
    aws: lazyAwsPorts({ region: first?.region, profile: first?.profile }, context),
    resolveThumbprints: (issuer, override) =>
      resolveThumbprints({ issuer, override, signal: context.signal }),
    gitlabFor: (gitlabUrl) => gitlab(gitlabUrl),
    progress: (label, total) =>
      createProgress({ label, total, stream: context.stderr, env: context.env, json: Boolean(flags.json) }),
    resumeCommand: (m) => commandLine(resumeArgs(process.argv.slice(2), m.project)),
    ...showFleet(members.length, fleetOptions.details, output, stdoutPalette),
  });
  reportFleet(fleet, output, stdoutPalette);
}

/**
 * Every member's InitOptions (never prompted), `concurrency` at a time: init's resolver with the GitLab
 * lookup (from the listing where the group returned the project). Every member's problem is reported
 * at once, at the flag or config line that set it (exit 2, before any AWS call).
 */
async function resolveMembers(
  selected: readonly FleetMember[],
  ctx: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    concurrency: number;
    gitlab: ((gitlabUrl: string) => Promise<GitlabPort | undefined>) | undefined;
    listedOn: string;
    what: string;
    /** The lookup's warnings (a project not visible, moved), per member; its notes are left out. */
    warn: (message: string) => void;
  },
): Promise<InitOptions[]> {
  const settled = await settleWithConcurrency(selected, { limit: ctx.concurrency }, (m) =>
    resolveInitOptions(m.flags, {
      cwd: ctx.cwd,
      env: ctx.env,
      interactive: false,
      git: {},
      prompter: async () => {
        throw new Error('a fleet member is never prompted for');
      },
      note: (message) => {
        if (message.startsWith('warning: ')) ctx.warn(`${m.project}: ${message}`);
      },
      gitlab: ctx.gitlab,
      gitlabListed: m.listed ? { gitlabUrl: ctx.listedOn, project: m.listed } : undefined,
    }),
  );
  const issues: FieldIssue[] = [];
  settled.failures.forEach(({ index, reason }) => {
    if (!(reason instanceof UsageError)) throw reason;
    const member = selected[index] as FleetMember;
    const found = reason.issues.length ? reason.issues : [{ field: 'options', message: reason.message }];
    for (const issue of found)
      issues.push(locateIssue(member, issue, found.length === 1 ? reason.hint : undefined));
  });
  throwMemberIssues(ctx.what, issues);
  return settled.results.map((r) => (r as { value: InitOptions }).value);
}

/**
 * Before any AWS call: a member delivered by merge request or CI/CD variables needs a token and its
 * looked-up project (what a single init's planInit refuses per run). One usage error for the fleet.
 */
async function requireFleetDelivery(
  selected: readonly FleetMember[],
  members: readonly InitOptions[],
  gitlab: (gitlabUrl: string) => Promise<GitlabPort | undefined>,
  what: string,
): Promise<void> {
  const issues: FieldIssue[] = [];
  let hint: string | undefined;
  for (const [i, options] of members.entries()) {
    if (!options.mergeRequest && !options.ciVariables) continue;
    try {
      requireDeliveryApi(options, await gitlab(options.gitlabUrl), options.gitlabProject !== undefined);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      hint ??= error.hint?.replace(` on ${options.project}`, ' on each project');
      for (const issue of error.issues) issues.push(locateIssue(selected[i] as FleetMember, issue));
    }
  }
  throwMemberIssues(`delivery for ${what}`, issues, hint);
}
