/**
 * Glue between commander and runStatus. Loaded only when `status` runs.
 */
import { lazyAwsPorts } from '../aws/lazy-ports.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { formatStatus } from './format.js';
import { parseStatusFlags, type RawStatusFlags } from './options.js';
import { runStatus } from './run.js';

export async function runStatusCommand(flags: RawStatusFlags, context: CommandContext): Promise<void> {
  const options = parseStatusFlags(flags);
  const { output, progress, stdoutPalette } = createCommandIo(context, {
    json: options.json,
    quiet: options.json,
  });
  const report = await runStatus(options, {
    aws: lazyAwsPorts(options, context),
    progress,
  });
  output.lines(formatStatus(report, stdoutPalette));
  output.document(report);
}
