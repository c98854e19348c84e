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
import { memoizeAsync } from '../core/concurrency.js';
import { parseIssuerUrl } from '../core/issuer.js';
import { UsageError } from '../errors.js';
import type { GitlabPort } from '../gitlab/api/ports.js';
import { lazyGitlabPortFor } from '../gitlab/api/with-token.js';
import { resolveThumbprints } from '../gitlab/thumbprint.js';
import { initGitlabPorts } from '../init/gitlab-port.js';
import { GITLAB_COM } from '../init/resolve.js';
import { requireYesOrDryRun } from '../init/run.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { createProgress } from '../io/progress.js';
import { lazyInquirerPrompter } from '../prompts/prompter.js';
import { requireFleetDelivery, resolveMembers } from './member-options.js';
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
