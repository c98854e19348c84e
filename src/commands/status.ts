/**
 * `status`: flags and help only. The implementation (and with it the AWS SDK) loads when the command runs.
 */
import type { Command } from 'commander';
import { addSelectionOptions } from '../fleet/selection-flags.js';
import type { CommandContext } from '../io/context.js';
import { TOOL_NAME } from '../version.js';

export function registerStatus(program: Command, context: CommandContext): void {
  const command = program
    .command('status')
    .description(
      'Show what gitlab-aws-oidc manages in this account: providers, roles, policies, what each role trusts, and drift.',
    )
    .option('--project <path>', 'only the roles of this GitLab project')
    .option(
      '--gitlab-url <url>',
      "only the roles (and providers) of this GitLab instance; with --project, that instance's project; with --group, the instance the group is listed on",
    )
    .option('--json', 'print one JSON document on stdout')
    .option('--region <region>', 'AWS region for STS (IAM is global)')
    .option('--profile <name>', 'AWS shared-config profile to use');
  addSelectionOptions(command)
    .option('--details', "with --group/--config: each project's roles in full, not only the summary")
    .option(
      '--gitlab-token-env <name>',
      'with --group/--config: environment variable holding the GitLab API token that lists the group (default: GITLAB_TOKEN, GITLAB_ACCESS_TOKEN, OAUTH_TOKEN, then glab config)',
    )
    .option('--gitlab-api-url <url>', 'GitLab API base URL when it differs from --gitlab-url')
    .addHelpText(
      'after',
      `
Examples:
    $ ${TOOL_NAME} status
    $ ${TOOL_NAME} status --project grp/app --json
    $ ${TOOL_NAME} status --project grp/app --gitlab-url https://gitlab.example.com
    $ ${TOOL_NAME} status --group acme --exclude 'acme/legacy/**'
    $ ${TOOL_NAME} status --config gitlab-aws-oidc.yml --details

Resources are found by their managed-by=gitlab-aws-oidc tag. "Drift" means the role differs from what
init would write for the project and refs it trusts (a hand edit, an extra statement, a missing provider,
a detached policy). Read-only; exit 0 whether or not anything drifted. A project path is only unique per
GitLab instance: --project shows its roles on every instance (each role names its instance), and
--gitlab-url narrows to one.

--group/--config: every selected project (archived, excluded and not-included ones skipped), from one
bulk read of the account: counts (in sync, drifted, missing pieces, without a record, not set up), the
projects that need attention first, each project's roles with --details, all of it with --json. A
project with no role is "not set up", not an error; exit 0 as well.`,
    )
    .action(async (flags) => {
      const { runStatusCommand } = await import('../status/command.js');
      await runStatusCommand(flags, context);
    });
}
