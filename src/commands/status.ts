/**
 * `status`: flags and help only. The implementation (and with it the AWS SDK) loads when the command runs.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../io/context.js';
import { TOOL_NAME } from '../version.js';

export function registerStatus(program: Command, context: CommandContext): void {
  program
    .command('status')
    .description(
      'Show what gitlab-aws-oidc manages in this account: providers, roles, policies, what each role trusts, and drift.',
    )
    .option('--project <path>', 'only the roles of this GitLab project')
    .option(
      '--gitlab-url <url>',
      "only the roles (and providers) of this GitLab instance; with --project, that instance's project",
    )
    .option('--json', 'print one JSON document on stdout')
    .option('--region <region>', 'AWS region for STS (IAM is global)')
    .option('--profile <name>', 'AWS shared-config profile to use')
    .addHelpText(
      'after',
      `
Examples:
    $ ${TOOL_NAME} status
    $ ${TOOL_NAME} status --project grp/app --json
    $ ${TOOL_NAME} status --project grp/app --gitlab-url https://gitlab.example.com

Resources are found by their managed-by=gitlab-aws-oidc tag. "Drift" means the role differs from what
init would write for the project and refs it trusts (a hand edit, an extra statement, a missing provider,
a detached policy). Read-only; exit 0 whether or not anything drifted. A project path is only unique per
GitLab instance: --project shows its roles on every instance (each role names its instance), and
--gitlab-url narrows to one.`,
    )
    .action(async (flags) => {
      const { runStatusCommand } = await import('../status/command.js');
      await runStatusCommand(flags, context);
    });
}
