/**
 * `init --group` / `init --config`: the selection (selection.ts) → one InitOptions per member, resolved
 * by init's own resolver → runFleet, the same path a single `init` takes (init/command.ts). Loaded only
 * when such a selection is given.
 */
import { dirname, resolve } from 'node:path';
import { lazyAwsPorts } from '../aws/lazy-ports.js';
import type { RawInitFlags } from '../commands/init.js';
import { UsageError } from '../errors.js';
import { lazyGitlabPortFor } from '../gitlab/api/with-token.js';
import { resolveThumbprints } from '../gitlab/thumbprint.js';
import { GITLAB_COM, resolveInitOptions } from '../init/resolve.js';
import { requireYesOrDryRun } from '../init/run.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { createProgress } from '../io/progress.js';
import { lazyInquirerPrompter } from '../prompts/prompter.js';
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

export async function runFleetInitCommand(
  selection: Exclude<Selection, { kind: 'project' }>,
  flags: RawInitFlags & RawSelectionFlags,
  context: CommandContext,
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
      return lazyGitlabPortFor(context, flags, gitlabUrl ?? GITLAB_COM)();
    },
  });
  for (const s of selected.skipped) progress(`skipped ${s.project}: ${s.detail}`);
  // Every member was validated by the selection; this gives each its InitOptions (never prompted).
  const members = await Promise.all(
    selected.members.map((m) =>
      resolveInitOptions(m.flags, {
        cwd,
        env: context.env,
        interactive: false,
        git: {},
        prompter: async () => {
          throw new Error('a fleet member is never prompted for');
        },
      }),
    ),
  );
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
    progress: (label, total) =>
      createProgress({ label, total, stream: context.stderr, env: context.env, json: Boolean(flags.json) }),
    resumeCommand: (m) => commandLine(resumeArgs(process.argv.slice(2), m.project)),
    ...showFleet(members.length, fleetOptions.details, output, stdoutPalette),
  });
  reportFleet(fleet, output, stdoutPalette);
}
