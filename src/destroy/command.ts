/**
 * Glue between commander and runDestroy: parses flags, builds the AWS ports, shows the plan,
 * confirms through the prompt port (only with a terminal, never with --json), prints progress on
 * stderr and the result on stdout. Loaded only when `destroy` runs.
 */
import { lazyAwsPorts } from '../aws/lazy-ports.js';
import { findGitTopLevel } from '../gitlab/remote.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { lazyInquirerPrompter, type Prompter } from '../prompts/prompter.js';
import { formatDestroyCiFile, formatDestroyPlan, formatDestroyResult, formatDestroySteps } from './format.js';
import { parseDestroyFlags, type RawDestroyFlags } from './options.js';
import { describeDestroyStep } from './plan.js';
import { runDestroy } from './run.js';

export interface DestroyCommandDeps {
  /** Test seam: the prompter to confirm with (default: @inquirer/prompts, loaded lazily). */
  prompter?: (() => Promise<Prompter>) | undefined;
}

export async function runDestroyCommand(
  flags: RawDestroyFlags,
  context: CommandContext,
  commandDeps: DestroyCommandDeps = {},
): Promise<void> {
  // Flags first (a typo fails before anything is read), then where the repository's top is.
  const parsed = parseDestroyFlags(flags, { cwd: context.cwd });
  const options = { ...parsed, repoRoot: await findGitTopLevel(context.cwd) };
  const { logger, output, stdoutPalette } = createCommandIo(context, {
    json: options.json,
    quiet: options.json,
  });
  const interactive = context.interactive && !options.json;
  const getPrompter = commandDeps.prompter ?? lazyInquirerPrompter();
  const result = await runDestroy(options, {
    aws: lazyAwsPorts(options, context),
    signal: context.signal,
    showPlan: (plan, ciFile) =>
      output.lines([
        ...formatDestroyPlan(plan, stdoutPalette, options.removeFromInstanceProfiles),
        ...formatDestroySteps({ steps: plan.steps.map(describeDestroyStep) }, stdoutPalette),
        ...formatDestroyCiFile(ciFile, stdoutPalette),
        '',
      ]),
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
