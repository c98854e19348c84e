/**
 * Glue between commander and runExport: builds the real dependencies (git, prompts, AWS, output).
 * Loaded only when `export` runs.
 */
import { lazyAwsPorts } from '../aws/lazy-ports.js';
import type { AwsPorts } from '../aws/ports.js';
import { detectGitContext, findGitTopLevel } from '../gitlab/remote.js';
import { resolveThumbprints } from '../gitlab/thumbprint.js';
import { DEFAULT_REGION } from '../init/resolve.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { lazyInquirerPrompter } from '../prompts/prompter.js';
import { formatFiles, formatSummary } from './format.js';
import { parseExportFlags, type RawExportFlags, resolveExportOptions } from './options.js';
import { runExport } from './run.js';

export async function runExportCommand(flags: RawExportFlags, context: CommandContext): Promise<void> {
  // Export's own flags first: a bad --format fails before git, prompts or AWS.
  parseExportFlags(flags, context.cwd);
  const { logger, output, progress, stdoutPalette } = createCommandIo(context, { json: Boolean(flags.json) });
  const interactive = context.interactive && !flags.json;
  const [git, repoRoot] = await Promise.all([detectGitContext(context.cwd), findGitTopLevel(context.cwd)]);
  const early = {
    region: flags.region ?? context.env.AWS_REGION ?? context.env.AWS_DEFAULT_REGION ?? DEFAULT_REGION,
    profile: flags.profile ?? context.env.AWS_PROFILE,
  };
  let ports: Promise<AwsPorts> | undefined;
  const readAws = () => {
    ports ??= lazyAwsPorts(early, context)();
    return ports;
  };
  const options = await resolveExportOptions(flags, {
    cwd: context.cwd,
    repoRoot,
    env: context.env,
    interactive,
    git,
    prompter: lazyInquirerPrompter(),
    note: progress,
    readExisting: async (target) => {
      const aws = await readAws();
      await aws.sts.getCallerIdentity();
      const { readExistingRole } = await import('../aws/read-state.js');
      return readExistingRole(aws.iam, target);
    },
  });
  const { setup } = options;
  const result = await runExport(options, {
    logger,
    aws:
      setup.region === early.region && setup.profile === early.profile
        ? readAws
        : lazyAwsPorts(setup, context),
    resolveThumbprints: (issuer, override) =>
      resolveThumbprints({ issuer, override, signal: context.signal }),
  });
  for (const warning of result.warnings) logger.warn(warning);
  if (output.json) {
    output.document(result);
    return;
  }
  if (result.out) {
    output.lines(formatSummary(result, stdoutPalette));
    return;
  }
  context.stdout.write(formatFiles(result));
  for (const line of formatSummary(result, logger.palette)) logger.info(line);
}
