/**
 * Glue between commander and runInit: builds the real dependencies (git, prompts, AWS, output).
 * Loaded only when `init` runs.
 */
import { lazyAwsPorts } from '../aws/lazy-ports.js';
import type { AwsPorts } from '../aws/ports.js';
import type { RawInitFlags } from '../commands/init.js';
import { resolveFleetOptions } from '../fleet/options.js';
import { commandLine, runFleet } from '../fleet/run.js';
import type { RawSelectionFlags } from '../fleet/selection-options.js';
import { reportFleet, showFleet } from '../fleet/show.js';
import { detectGitWorkTree } from '../gitlab/remote.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { lazyInquirerPrompter } from '../prompts/prompter.js';
import { initGitlabPorts } from './gitlab-port.js';
import { DEFAULT_REGION, resolveInitOptions } from './resolve.js';

export async function runInitCommand(
  allFlags: RawInitFlags & RawSelectionFlags,
  context: CommandContext,
): Promise<void> {
  const { group, include, exclude, config, ...flags } = allFlags;
  // The selection's schemas (zod, picomatch, the config file's) load only when a selection flag is given.
  if ([group, include, exclude, config].some((v) => v !== undefined)) {
    const { parseSelectionFlags } = await import('../fleet/selection-options.js');
    const selection = parseSelectionFlags({ project: flags.project, group, include, exclude, config });
    if (selection.kind !== 'project') {
      const { runFleetInitCommand } = await import('../fleet/command.js');
      return runFleetInitCommand(selection, allFlags, context);
    }
  }
  const { logger, output, progress, stdoutPalette } = createCommandIo(context, { json: Boolean(flags.json) });
  const fleetOptions = resolveFleetOptions(flags);
  const interactive = context.interactive && !flags.json;
  const getPrompter = lazyInquirerPrompter();
  const { git, repoRoot } = await detectGitWorkTree(context.cwd);
  // The existing role is read with the flags' profile before the options are final (IAM is global; the
  // region only picks the STS endpoint). The SDK loads on the first read, never for --offline.
  const early = {
    region: flags.region ?? context.env.AWS_REGION ?? context.env.AWS_DEFAULT_REGION ?? DEFAULT_REGION,
    profile: flags.profile ?? context.env.AWS_PROFILE,
  };
  let earlyPorts: Promise<AwsPorts> | undefined;
  const readAws = () => {
    earlyPorts ??= lazyAwsPorts(early, context)();
    return earlyPorts;
  };
  // One GitLab port per instance for the run (the client loads on the first call; never --offline).
  const gitlab = initGitlabPorts(context, flags, ({ status, delayMs }) =>
    logger.info(
      logger.palette.muted(`  GitLab answered ${status}; retrying in ${Math.round(delayMs / 100) / 10}s`),
    ),
  );
  const options = await resolveInitOptions(flags, {
    cwd: context.cwd,
    repoRoot,
    env: context.env,
    interactive,
    git,
    prompter: getPrompter,
    note: progress,
    readExisting: async (target) => {
      const ports = await readAws();
      // Identity first, as runInit does: missing credentials or a wrong profile fail here, named as such.
      await ports.sts.getCallerIdentity();
      const { readExistingRole } = await import('../aws/read-state.js');
      return readExistingRole(ports.iam, target);
    },
    gitlab,
  });
  // A single project is the fleet of one (same planning, gate and apply), printed as `init` always was.
  const members = [options];
  const fleet = await runFleet(members, {
    concurrency: fleetOptions.concurrency,
    logger,
    interactive,
    prompter: getPrompter,
    signal: context.signal,
    // The same clients (and the caller identity they already read) when the region and profile did not
    // change while resolving; credentials are then resolved once per run, not twice.
    aws:
      options.region === early.region && options.profile === early.profile
        ? readAws
        : lazyAwsPorts(options, context),
    // The TLS probe (and the proxy agents) load only when a thumbprint is needed: never --offline.
    resolveThumbprints: async (issuer, override) => {
      const { resolveThumbprints } = await import('../gitlab/thumbprint.js');
      return resolveThumbprints({ issuer, override, signal: context.signal });
    },
    gitlab: () => gitlab(options.gitlabUrl),
    // The same command again finishes a member: the ones already done plan no changes.
    resumeCommand: () => commandLine(process.argv.slice(2)),
    ...showFleet(members.length, fleetOptions.details, output, stdoutPalette),
  });
  reportFleet(fleet, output, stdoutPalette);
}
