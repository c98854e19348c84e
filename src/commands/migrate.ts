/**
 * `migrate`: flags and help only. The implementation (GitLab client, AWS SDK) loads when it runs.
 */
import type { Command } from 'commander';
import { addSelectionOptions } from '../fleet/selection-flags.js';
import type { CommandContext } from '../io/context.js';
import { addGitlabApiOptions } from '../options/gitlab-api.js';
import { TOOL_NAME } from '../version.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerMigrate(program: Command, context: CommandContext): void {
  const command = program
    .command('migrate')
    .description(
      'Find the long-lived AWS access keys stored in GitLab CI/CD variables and whose they are; --apply replaces them with OIDC roles.',
    )
    .option('--project <path>', 'GitLab project to look at, e.g. group/app; repeatable', collect)
    .option('--gitlab-url <url>', 'GitLab instance URL (default: https://gitlab.com)');
  addGitlabApiOptions(addSelectionOptions(command))
    .option('--no-aws', 'report the GitLab side only: resolve no key in AWS (no AWS call)')
    .option('--region <region>', 'AWS region for STS (IAM is global)')
    .option('--profile <name>', 'AWS shared-config profile to use')
    .option('--json', 'print one JSON document on stdout')
    .option(
      '--apply',
      "replace each project's key with an OIDC role of the same permissions (init's plan and merge request)",
    )
    .option('--merge-request', 'with --apply: deliver each pipeline change as a merge request (required)')
    .option('--ci-variables', 'with --apply: the role ARN and region as project CI/CD variables')
    .option(
      '--branch <name>',
      "with --apply: a branch the roles trust (default: each project's default branch); repeatable",
      collect,
    )
    .option('--tag <name>', 'with --apply: a tag the roles trust; repeatable', collect)
    .option('--dry-run', 'with --apply or --retire: plan only, change nothing')
    .option('-y, --yes', 'with --apply or --retire: change without asking (needed without a terminal)')
    .option(
      '--retire',
      'once the switch to OIDC is proven: delete the key variables from GitLab and deactivate the keys (never delete)',
    )
    .option(
      '--delete-keys',
      'with --retire: delete the keys an earlier --retire deactivated (still Inactive, unused since)',
    )
    .addHelpText(
      'after',
      `
Examples:
  Every project of a group, as a table:
    $ ${TOOL_NAME} migrate --group acme

  Two projects, JSON for a security review:
    $ ${TOOL_NAME} migrate --project acme/api --project acme/web --json > keys.json

  Plan the roles that replace the keys of a group's projects (one merge request each):
    $ ${TOOL_NAME} migrate --group acme --apply --merge-request --dry-run

  Later, once the pipelines use their roles: retire the keys (plan first), then delete them:
    $ ${TOOL_NAME} migrate --retire --group acme --dry-run
    $ ${TOOL_NAME} migrate --retire --group acme --yes
    $ ${TOOL_NAME} migrate --retire --delete-keys --group acme --yes

For each project: its AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN variables and any
variable holding an access key ID, from the project and every ancestor group, and which reach the jobs
(project over group, environment scopes). Each key is resolved to its IAM user with its last use, or
named as another account's key. Secrets are never printed; key IDs are masked (AKIA…WXYZ).
GitLab token: read_api scope; Maintainer on each project, Owner on a group to read its variables
(without it the group is reported as not readable). Nothing is changed without --apply or --retire.

--apply: for each project whose jobs get a key of one IAM user of this account, a role with that user's
permissions (managed policies attached, inline and group policies copied into the tool-managed policy,
the boundary kept; what cannot be carried over is listed), trusted as init trusts it, and a merge
request whose hidden job unsets AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN (CI/CD
variables win over YAML, and the SDKs use a key before the web identity token). The keys stay:
retiring them is --retire, a later run.

--retire (api scope; Maintainer, Owner for group variables) acts on a key only when the switch is
proven: every selected project that gets it has its role made by ${TOOL_NAME} (tag
gitlab-aws-oidc:project), that role has been used (RoleLastUsed; a verify job in the pipeline counts,
it assumes the role), and the key was last used before that. It then deletes the key's variables
(a group's only when every project of the group was read) and deactivates the key, recording it on
the IAM user (tag gitlab-aws-oidc:deactivated:<last 8 characters of the key ID>). Anything else is
kept, with the reason.`,
    )
    .action(async (flags) => {
      const { runMigrateCommand } = await import('../migrate/command.js');
      await runMigrateCommand(flags, context);
    });
}
