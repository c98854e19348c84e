/**
 * Glue between commander and runMigrateRetire: the plan on stdout, one confirmation through the
 * prompt port (only with a terminal, never with --json), progress on stderr, the result or the one
 * JSON document on stdout.
 */
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { lazyInquirerPrompter, type Prompter } from '../prompts/prompter.js';
import type { MigrateFindOptions } from './options.js';
import { formatRetirePlan, formatRetireResult } from './retire-format.js';
import { migrateRetireDocument } from './retire-report.js';
import { runMigrateRetire } from './retire-run.js';
import type { MigrateDeps } from './scan.js';

export interface RetireCommandDeps {
  /** Test seam: the prompter to confirm with (default: @inquirer/prompts, loaded lazily). */
  prompter?: (() => Promise<Prompter>) | undefined;
}

export async function runMigrateRetireCommand(
  options: MigrateFindOptions,
  context: CommandContext,
  ports: Pick<MigrateDeps, 'gitlab' | 'aws' | 'now'>,
  deps: RetireCommandDeps = {},
): Promise<void> {
  const { logger, output, progress, stdoutPalette } = createCommandIo(context, {
    json: options.json,
    quiet: options.json,
  });
  const interactive = context.interactive && !options.json;
  const getPrompter = deps.prompter ?? lazyInquirerPrompter();
  const report = await runMigrateRetire(options, {
    ...ports,
    progress,
    cwd: context.cwd,
    env: context.env,
    signal: context.signal,
    showPlan: (plan) => output.lines(formatRetirePlan(plan, stdoutPalette)),
    confirm: interactive
      ? async (message) => (await getPrompter()).confirm('--yes', { message, default: false })
      : undefined,
    onEvent: (e) => logger.step(e.state, e.step),
  });
  output.lines(formatRetireResult(report, stdoutPalette));
  output.document(migrateRetireDocument(report));
}
