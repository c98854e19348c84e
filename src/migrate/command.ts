/**
 * Glue between commander and runMigrateFind: parses flags, builds the GitLab port and (unless
 * --no-aws) the AWS ports, prints the table or the one JSON document. Loaded only when `migrate` runs.
 */
import { lazyAwsPorts } from '../aws/lazy-ports.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import type { MigrateApplyCommandDeps } from './apply-command.js';
import { formatMigrateTable } from './format.js';
import { migrateGitlabPort } from './gitlab-port.js';
import { parseMigrateFlags, type RawMigrateFlags } from './options.js';
import { migrateFindDocument } from './report.js';
import type { RetireCommandDeps } from './retire-command.js';
import { runMigrateFind } from './run.js';

/** `deps` replaces the GitLab and AWS ports, the clock and the prompter (tests); by default they are built from the flags. */
export async function runMigrateCommand(
  flags: RawMigrateFlags,
  context: CommandContext,
  deps: MigrateApplyCommandDeps & RetireCommandDeps = {},
): Promise<void> {
  const options = parseMigrateFlags(flags);
  if (options.apply) {
    const { runMigrateApplyCommand } = await import('./apply-command.js');
    return runMigrateApplyCommand(options, context, deps);
  }
  const { progress, output, stdoutPalette } = createCommandIo(context, {
    json: options.json,
    quiet: options.json,
  });
  const gitlab = deps.gitlab ?? migrateGitlabPort(options, context, progress);
  const aws = options.aws ? (deps.aws ?? lazyAwsPorts(options, context)) : undefined;
  if (options.retire) {
    const { runMigrateRetireCommand } = await import('./retire-command.js');
    return runMigrateRetireCommand(options, context, { gitlab, aws, now: deps.now }, deps);
  }
  const report = await runMigrateFind(options, {
    gitlab,
    aws,
    progress,
    now: deps.now,
    cwd: context.cwd,
    env: context.env,
  });
  output.document(migrateFindDocument(report));
  output.lines(formatMigrateTable(report, stdoutPalette));
}
