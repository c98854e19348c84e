/**
 * Glue between commander and runStatus. Loaded only when `status` runs.
 */
import { colorLevelFor, createPalette } from '../io/colors.js';
import type { CommandContext } from '../io/context.js';
import { createLogger } from '../io/logger.js';
import { createOutput } from '../io/output.js';
import { VERSION } from '../version.js';
import { formatStatus } from './format.js';
import { parseStatusFlags, type RawStatusFlags } from './options.js';
import { runStatus } from './run.js';

export async function runStatusCommand(flags: RawStatusFlags, context: CommandContext): Promise<void> {
  const options = parseStatusFlags(flags);
  const logger = createLogger({ stream: context.stderr, env: context.env, quiet: options.json });
  const output = createOutput(options.json, context.stdout);
  const report = await runStatus(options, {
    aws: async () => {
      const { createAwsPorts } = await import('../aws/factory.js');
      return createAwsPorts({
        region: options.region,
        profile: options.profile,
        userAgent: `gitlab-aws-oidc/${VERSION}`,
      });
    },
    progress: (m) => logger.info(logger.palette.muted(m)),
  });
  output.lines(
    formatStatus(report, createPalette(colorLevelFor(context.stdout as { isTTY?: boolean }, context.env))),
  );
  output.document(report);
}
