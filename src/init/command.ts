/**
 * Glue between commander and runInit: builds the real dependencies (git, prompts, AWS, output).
 * Loaded only when `init` runs.
 */
import type { RawInitFlags } from '../commands/init.js';
import { detectGitContext } from '../gitlab/remote.js';
import { resolveThumbprints } from '../gitlab/thumbprint.js';
import type { CommandContext } from '../io/context.js';
import { createLogger } from '../io/logger.js';
import { createOutput } from '../io/output.js';
import type { Prompter } from '../prompts/prompter.js';
import { VERSION } from '../version.js';
import { formatPlan, formatResult } from './format.js';
import { resolveInitOptions } from './resolve.js';
import { runInit } from './run.js';

export async function runInitCommand(flags: RawInitFlags, context: CommandContext): Promise<void> {
  const logger = createLogger({ stream: context.stderr, env: context.env });
  const output = createOutput(Boolean(flags.json), context.stdout);
  const interactive = context.interactive && !flags.json;
  let prompter: Prompter | undefined;
  const getPrompter = async () => {
    if (!prompter) {
      const { createInquirerPrompter } = await import('../prompts/inquirer.js');
      prompter = createInquirerPrompter();
    }
    return prompter;
  };
  const options = await resolveInitOptions(flags, {
    cwd: context.cwd,
    env: context.env,
    interactive,
    git: await detectGitContext(context.cwd),
    prompter: getPrompter,
    note: (m) => logger.info(logger.palette.muted(m)),
  });
  const result = await runInit(options, {
    logger,
    interactive,
    prompter: getPrompter,
    signal: context.signal,
    aws: async () => {
      const { createAwsPorts } = await import('../aws/factory.js');
      return createAwsPorts({
        region: options.region,
        profile: options.profile,
        userAgent: `gitlab-aws-oidc/${VERSION}`,
      });
    },
    resolveThumbprints: (issuer, override) => resolveThumbprints({ issuer, override }),
    showPlan: (r) => output.lines([...formatPlan(r, logger.palette), '']),
  });
  output.lines(formatResult(result, logger.palette));
  output.document(result);
}
