/**
 * Glue between `migrate --apply` and runMigrateApply: the IO, the GitLab and AWS ports (or the tests'),
 * the confirmation prompter; prints the plan before the one confirmation, then the result or the one
 * JSON document. Loaded only when --apply is given.
 */
import { lazyAwsPorts } from '../aws/lazy-ports.js';
import { resolveThumbprints } from '../gitlab/thumbprint.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { createProgress } from '../io/progress.js';
import { lazyInquirerPrompter } from '../prompts/prompter.js';
import { type MigrateApplyDeps, runMigrateApply } from './apply.js';
import {
  formatMigrateApplyPlan,
  formatMigrateApplyResult,
  MigrateApplyFailedError,
  migrateApplyDocument,
} from './apply-format.js';
import { migrateGitlabPort } from './gitlab-port.js';
import type { MigrateFindOptions } from './options.js';

export type MigrateApplyCommandDeps = Partial<
  Pick<MigrateApplyDeps, 'gitlab' | 'aws' | 'prompter' | 'resolveThumbprints' | 'now'>
>;

export async function runMigrateApplyCommand(
  options: MigrateFindOptions,
  context: CommandContext,
  deps: MigrateApplyCommandDeps = {},
): Promise<void> {
  const { logger, progress, output, stdoutPalette } = createCommandIo(context, { json: options.json });
  const gitlab = deps.gitlab ?? migrateGitlabPort(options, context, progress);
  const result = await runMigrateApply(options, {
    gitlab,
    aws: deps.aws ?? lazyAwsPorts(options, context),
    now: deps.now,
    progress,
    logger,
    interactive: context.interactive,
    prompter: deps.prompter ?? lazyInquirerPrompter(),
    signal: context.signal,
    resolveThumbprints:
      deps.resolveThumbprints ??
      ((issuer, override) => resolveThumbprints({ issuer, override, signal: context.signal })),
    cwd: context.cwd,
    env: context.env,
    progressBar: (label, total) =>
      createProgress({ label, total, stream: context.stderr, env: context.env, json: options.json }),
    showPlan: options.json ? undefined : (plan) => output.lines(formatMigrateApplyPlan(plan, stdoutPalette)),
  });
  output.lines(formatMigrateApplyResult(result, stdoutPalette));
  if (result.exitCode !== 0) throw new MigrateApplyFailedError(result);
  output.document(migrateApplyDocument(result));
}
