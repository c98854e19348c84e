/**
 * Glue between commander and runDestroy: parses flags, builds the AWS ports, shows the plan,
 * confirms through the prompt port (only with a terminal, never with --json), prints progress on
 * stderr and the result on stdout. Loaded only when `destroy` runs.
 */
import { lazyAwsPorts } from '../aws/lazy-ports.js';
import { UsageError } from '../errors.js';
import {
  type FleetSelection,
  type FleetSelectionDeps,
  parseFleetSelection,
  refuseWithFleet,
  resolveFleetTargets,
} from '../fleet/command-selection.js';
import { gitlabWithToken } from '../gitlab/api/with-token.js';
import { findGitTopLevel } from '../gitlab/remote.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { lazyInquirerPrompter, type Prompter } from '../prompts/prompter.js';
import { FleetDestroyError, runDestroyFleet } from './fleet.js';
import { formatFleetDestroyPlan, formatFleetDestroyResult } from './fleet-format.js';
import {
  formatDestroyCiFile,
  formatDestroyCiVariables,
  formatDestroyPlan,
  formatDestroyResult,
  formatDestroySteps,
} from './format.js';
import type { DestroyGitlab } from './gitlab-variables.js';
import { parseDestroyFlags, type RawDestroyFlags } from './options.js';
import { describeDestroyStep } from './plan.js';
import { runDestroy } from './run.js';

/** Listing a group's projects is a GitLab call; --offline promises none (before any other call). */
const refuseOffline = (): never => {
  throw UsageError.field(
    '--offline',
    "cannot list a group's projects: --offline makes no GitLab call",
    'Drop --offline, or list the projects by path in a --config file.',
  );
};

/** `destroy --group/--config`: the selection (GitLab read only), one plan, one confirmation, apply per member. */
async function runDestroyFleetCommand(
  selection: FleetSelection,
  flags: RawDestroyFlags,
  context: CommandContext,
  commandDeps: DestroyCommandDeps,
): Promise<void> {
  refuseWithFleet(selection, {
    '--role': flags.role,
    '--force': flags.force,
    '--ci-file': typeof flags.ciFile === 'string' ? flags.ciFile : undefined,
  });
  const options = parseDestroyFlags(flags, { fleet: true });
  const targets = await resolveFleetTargets(
    selection,
    { ...flags, gitlabUrl: options.gitlabUrl },
    context,
    options.offline ? { ...commandDeps, gitlab: refuseOffline } : commandDeps,
  );
  const { logger, output, stdoutPalette } = createCommandIo(context, {
    json: options.json,
    quiet: options.json,
  });
  const interactive = context.interactive && !options.json;
  const getPrompter = commandDeps.prompter ?? lazyInquirerPrompter();
  try {
    const result = await runDestroyFleet(options, selection, targets, {
      aws: lazyAwsPorts(options, context),
      gitlab: options.offline ? undefined : (commandDeps.gitlabPort ?? destroyGitlab(context, flags)),
      onVariable: (project, step) => logger.step('done', `${project}: ${step}`),
      signal: context.signal,
      showPlan: (plan) => output.lines(formatFleetDestroyPlan(plan, stdoutPalette)),
      confirm: interactive
        ? async (message) => (await getPrompter()).confirm('--yes', { message, default: false })
        : undefined,
      onEvent: (project, e) => {
        const what = `${project}: ${describeDestroyStep(e.step)}`;
        if (e.state === 'start') logger.step('start', what);
        else if (e.state === 'done') logger.step('done', `${what}${e.note ? ` (${e.note})` : ''}`);
        else logger.warn(`${what}: ${e.note}`);
      },
    });
    output.lines(formatFleetDestroyResult(result, stdoutPalette));
    output.document(result);
  } catch (error) {
    if (error instanceof FleetDestroyError)
      output.lines(formatFleetDestroyResult(error.result, stdoutPalette));
    throw error;
  }
}

export interface DestroyCommandDeps extends FleetSelectionDeps {
  /** Test seam: the prompter to confirm with (default: @inquirer/prompts, loaded lazily). */
  prompter?: (() => Promise<Prompter>) | undefined;
  /** Test seam: the GitLab port per instance for the CI/CD variables (default: the client, with a token only). */
  gitlabPort?: DestroyGitlab | undefined;
}

/** The GitLab port of an instance when a token for it resolves; the client loads on first use only. */
function destroyGitlab(context: CommandContext, flags: RawDestroyFlags): DestroyGitlab {
  const withToken = gitlabWithToken(context, {
    gitlabTokenEnv: flags.gitlabTokenEnv,
    gitlabApiUrl: flags.gitlabApiUrl,
  });
  return (gitlabUrl) => withToken(gitlabUrl)?.();
}

export async function runDestroyCommand(
  flags: RawDestroyFlags,
  context: CommandContext,
  commandDeps: DestroyCommandDeps = {},
): Promise<void> {
  const selection = parseFleetSelection(flags);
  if (selection) return runDestroyFleetCommand(selection, flags, context, commandDeps);
  // Flags first (a typo fails before anything is read), then where the repository's top is.
  const parsed = parseDestroyFlags(flags, { cwd: context.cwd });
  const options = { ...parsed, repoRoot: await findGitTopLevel(context.cwd) };
  const { logger, output, stdoutPalette } = createCommandIo(context, {
    json: options.json,
    quiet: options.json,
  });
  const interactive = context.interactive && !options.json;
  const getPrompter = commandDeps.prompter ?? lazyInquirerPrompter();
  const gitlab = commandDeps.gitlabPort ?? destroyGitlab(context, flags);
  const result = await runDestroy(options, {
    aws: lazyAwsPorts(options, context),
    gitlab: options.offline ? undefined : gitlab,
    signal: context.signal,
    showPlan: (plan, ciFile, ciVariables) =>
      output.lines([
        ...formatDestroyPlan(plan, stdoutPalette, options.removeFromInstanceProfiles),
        ...formatDestroySteps({ steps: plan.steps.map(describeDestroyStep) }, stdoutPalette),
        ...formatDestroyCiFile(ciFile, stdoutPalette),
        ...formatDestroyCiVariables(ciVariables, stdoutPalette),
        '',
      ]),
    onVariable: (step) => logger.step('done', step),
    confirm: interactive
      ? async (message) => (await getPrompter()).confirm('--yes', { message, default: false })
      : undefined,
    onEvent: (e) => {
      if (e.state === 'start') logger.step('start', describeDestroyStep(e.step));
      else if (e.state === 'done')
        logger.step('done', `${describeDestroyStep(e.step)}${e.note ? ` (${e.note})` : ''}`);
      else logger.warn(`${describeDestroyStep(e.step)}: ${e.note}`);
    },
    onCiFile: (ci) =>
      logger.step(
        'done',
        `${ci.action === 'delete' ? `deleted ${ci.path}, which only held ${ci.jobs.join(', ')}` : `removed ${ci.jobs.join(', ')} from ${ci.path}`}${ci.backupPath ? ` (backup: ${ci.backupPath})` : ''}`,
      ),
  });
  output.lines(formatDestroyResult(result, stdoutPalette));
  output.document(result);
}
