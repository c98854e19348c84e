/**
 * The bin: registers commands and owns the single top-level catch that maps errors to exit codes.
 * Command modules are registered eagerly (flags and help) but load their implementation lazily,
 * so `--help` never loads the AWS SDK.
 */
import { Command, CommanderError } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerDestroy } from './commands/destroy.js';
import { registerExport } from './commands/export.js';
import { registerInit } from './commands/init.js';
import { registerMigrate } from './commands/migrate.js';
import { registerStatus } from './commands/status.js';
import { registerVerify } from './commands/verify.js';
import { ExitCode, exitCodeFor, UsageError } from './errors.js';
import { colorLevelFor, createPalette } from './io/colors.js';
import { type CommandContext, isInteractive } from './io/context.js';
import { createCrashHandler } from './io/crash.js';
import { reportError } from './io/output.js';
import { createInterruptHandler } from './io/signals.js';
import { TOOL_NAME, VERSION } from './version.js';

// `gitlab-aws-oidc --help | head` closes stdout early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const argv = process.argv;
const json = argv.includes('--json');

// SIGINT and SIGTERM alike: the first cancels the run, a second exits at once (io/signals.ts).
const controller = new AbortController();
const onSignal = createInterruptHandler({
  controller,
  stdout: process.stdout,
  stderr: process.stderr,
  json,
  command: () => commandName(),
  exit: (code) => process.exit(code),
});
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// An error that escapes the one catch below still gets its report and its --json document (exit 1).
const onCrash = createCrashHandler({
  stdout: process.stdout,
  stderr: process.stderr,
  palette: () => createPalette(colorLevelFor(process.stderr)),
  json,
  command: () => commandName(),
  exit: (code) => process.exit(code),
});
process.on('uncaughtException', onCrash);
process.on('unhandledRejection', onCrash);

const context: CommandContext = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  interactive: isInteractive(process.env, process.stdin, process.stderr),
  signal: controller.signal,
};

const program = new Command()
  .name(TOOL_NAME)
  .description('Give a GitLab project keyless access to AWS through OpenID Connect: plan, apply, verify.')
  .version(VERSION, '-V, --version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program.addHelpText(
  'after',
  `
Examples:
  $ npx ${TOOL_NAME} init                                   # interactive wizard in a GitLab checkout
  $ ${TOOL_NAME} init --project grp/app --branch main --yes  # bootstrap scripts
  $ ${TOOL_NAME} init --project grp/app --dry-run --offline  # see the plan, no AWS account needed
  $ ${TOOL_NAME} verify --role-arn arn:aws:iam::123456789012:role/gitlab/app --project grp/app --branch main

Exit codes: 0 done or no changes, 1 failure, 2 usage or invalid input, 130 aborted.`,
);

registerInit(program, context);
registerVerify(program, context);
registerAudit(program, context);
registerStatus(program, context);
registerDestroy(program, context);
registerExport(program, context);
registerMigrate(program, context);

/** The command the user ran, for the --json error document. */
function commandName(): string | undefined {
  const names = new Set(program.commands.map((c) => c.name()));
  return process.argv.slice(2).find((a) => names.has(a));
}

/** A flag error caught by the argument parser, as the UsageError it is (naming the flag when it can). */
function toUsageError(error: CommanderError): UsageError {
  const message = error.message.replace(/^error: /, '');
  const field = /'(--?[\w-]+)/.exec(message)?.[1];
  return new UsageError(message, field ? [{ field, message }] : []);
}

try {
  await program.parseAsync(argv);
} catch (caught) {
  // --help and --version exit through here with code 0; every other commander error is a usage error,
  // which commander has already printed on stderr.
  if (
    caught instanceof CommanderError &&
    (caught.exitCode === 0 ||
      caught.code === 'commander.helpDisplayed' ||
      caught.code === 'commander.version')
  ) {
    process.exitCode = ExitCode.Ok;
  } else {
    const error = caught instanceof CommanderError ? toUsageError(caught) : caught;
    reportError(error, {
      stdout: process.stdout,
      stderr: process.stderr,
      palette: createPalette(colorLevelFor(process.stderr)),
      json,
      command: commandName(),
      // commander has printed its own flag errors.
      printed: caught instanceof CommanderError,
    });
    process.exitCode = exitCodeFor(error);
  }
}
