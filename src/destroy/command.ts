/**
 * Glue between commander and runDestroy: parses flags, builds the AWS ports, shows the plan,
 * confirms through the prompt port (only with a terminal, never with --json), prints progress on
 * stderr and the result on stdout. Loaded only when `destroy` runs.
 */
import type { CommandContext } from '../io/context.js';
import { createLogger } from '../io/logger.js';
import { createOutput } from '../io/output.js';
import type { Prompter } from '../prompts/prompter.js';
import { VERSION } from '../version.js';
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
  const options = parseDestroyFlags(flags, { cwd: context.cwd });
  const logger = createLogger({ stream: context.stderr, env: context.env, quiet: options.json });
  const output = createOutput(options.json, context.stdout);
  const interactive = context.interactive && !options.json;
  const getPrompter =
    commandDeps.prompter ??
    (async () => {
      const { createInquirerPrompter } = await import('../prompts/inquirer.js');
      return createInquirerPrompter();
    });
  const result = await runDestroy(options, {
    aws: async () => {
      const { createAwsPorts } = await import('../aws/factory.js');
      return createAwsPorts({
        region: options.region,
        profile: options.profile,
        userAgent: `gitlab-aws-oidc/${VERSION}`,
      });
    },
    signal: context.signal,
    showPlan: (plan, ciFile) =>
      output.lines([
        ...formatDestroyPlan(plan, logger.palette),
        ...formatDestroySteps({ steps: plan.steps.map(describeDestroyStep) }, logger.palette),
        ...formatDestroyCiFile(ciFile, logger.palette),
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
        `removed ${ci.jobs.join(', ')} from ${ci.path}${ci.backupPath ? ` (backup: ${ci.backupPath})` : ''}`,
      ),
  });
  output.lines(formatDestroyResult(result, logger.palette));
  output.document(result);
}
