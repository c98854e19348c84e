/**
 * Glue between commander and runStatus (or runStatusFleet with --group/--config). Loaded only when
 * `status` runs.
 */
import { lazyAwsPorts } from '../aws/lazy-ports.js';
import {
  type FleetSelectionDeps,
  parseFleetSelection,
  resolveFleetTargets,
} from '../fleet/command-selection.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { runStatusFleet } from './fleet.js';
import { formatFleetStatus } from './fleet-format.js';
import { formatStatus } from './format.js';
import { parseStatusFlags, type RawStatusFlags } from './options.js';
import { runStatus } from './run.js';

export async function runStatusCommand(
  flags: RawStatusFlags,
  context: CommandContext,
  deps: FleetSelectionDeps = {},
): Promise<void> {
  // Every flag is checked before GitLab or AWS is read (exit 2). `--project` (status's only flag that
  // names one target) with --group/--config is refused by the selection itself.
  const selection = parseFleetSelection(flags);
  const options = parseStatusFlags(flags, { fleet: selection !== undefined });
  const { output, progress, stdoutPalette } = createCommandIo(context, {
    json: options.json,
    quiet: options.json,
  });
  if (selection) {
    // The selection is read from GitLab (or the config file) before any AWS call.
    const targets = await resolveFleetTargets(
      selection,
      { ...flags, gitlabUrl: options.gitlabUrl },
      context,
      deps,
    );
    const report = await runStatusFleet(options, targets, { aws: lazyAwsPorts(options, context), progress });
    output.lines(formatFleetStatus(report, selection, stdoutPalette, options.details));
    output.document(report);
    return;
  }
  const report = await runStatus(options, {
    aws: lazyAwsPorts(options, context),
    progress,
  });
  output.lines(formatStatus(report, stdoutPalette));
  output.document(report);
}
