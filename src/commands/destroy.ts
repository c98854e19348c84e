/**
 * `destroy`: flags and help only. The implementation (and with it the AWS SDK) loads when the command runs.
 */
import type { Command } from 'commander';
import { addSelectionOptions } from '../fleet/selection-flags.js';
import type { CommandContext } from '../io/context.js';
import { TOOL_NAME } from '../version.js';

export function registerDestroy(program: Command, context: CommandContext): void {
  const command = program
    .command('destroy')
    .description(
      'Remove what `init` created for a project: its role, its tool-managed policy and (if unused) the OIDC provider.',
    )
    .option('--project <path>', 'GitLab project path whose tool-managed roles to remove, e.g. group/app')
    .option(
      '--gitlab-url <url>',
      "with --project/--group: only that GitLab instance's roles (required when the path has roles on several); with --group, the instance the group is listed on",
    )
    .option('--role <name>', 'remove this role (and its tool-managed policy) instead')
    .option(
      '--force',
      'with --role: also delete a role gitlab-aws-oidc did not create (its policies are only detached); with --ci-file: remove .aws-oidc even though jobs still extend it',
    )
    .option('--keep-provider', 'keep the OIDC provider even when no other role trusts it')
    .option(
      '--remove-from-instance-profiles',
      'take the roles out of the EC2 instance profiles they are in (IAM cannot delete them otherwise; the profiles stay)',
    )
    .option(
      '--ci-file <path>',
      'also remove the generated jobs from this pipeline file (default: .gitlab-ci.yml at the top of the git repository, only when it uses a role being deleted)',
    )
    .option('--no-ci-file', 'never touch a pipeline file')
    .option(
      '--offline',
      'make no GitLab call: leave the CI/CD variables init --ci-variables set alone (AWS is still called)',
    )
    .option('-y, --yes', 'delete without asking')
    .option('--dry-run', 'show what would be deleted; change nothing')
    .option('--json', 'print one JSON document on stdout (no prompts; needs --yes or --dry-run)')
    .option('--region <region>', 'AWS region for STS (IAM is global)')
    .option('--profile <name>', 'AWS shared-config profile to use');
  addSelectionOptions(command)
    .option(
      '--gitlab-token-env <name>',
      'environment variable holding the GitLab API token that lists the group (--group) and removes the CI/CD variables init --ci-variables set (Maintainer, api scope; default: GITLAB_TOKEN, GITLAB_ACCESS_TOKEN, OAUTH_TOKEN, then glab config)',
    )
    .option('--gitlab-api-url <url>', 'GitLab API base URL when it differs from --gitlab-url')
    .addHelpText(
      'after',
      `
Examples:
  See what would go, then remove it:
    $ ${TOOL_NAME} destroy --project grp/app --dry-run
    $ ${TOOL_NAME} destroy --project grp/app

  Scripts and CI (no prompt):
    $ ${TOOL_NAME} destroy --role gitlab-grp-app --yes --json

  Every project of a GitLab group (one plan, one confirmation, applied per project):
    $ ${TOOL_NAME} destroy --group acme --exclude 'acme/keep/**' --dry-run
    $ ${TOOL_NAME} destroy --config gitlab-aws-oidc.yml --yes

  The same path on two GitLab instances (roles are tagged with their instance's URL):
    $ ${TOOL_NAME} destroy --project grp/app --gitlab-url https://gitlab.example.com

Only resources tagged managed-by=gitlab-aws-oidc are deleted. The OIDC provider goes only if the tool
created it and no other role trusts it. Attached AWS managed and foreign policies are detached, never
deleted. If a run stops part-way (throttling, AccessDenied, Ctrl-C), run the same command again: it
finishes the job. A role in an EC2 instance profile is only taken out of it with
--remove-from-instance-profiles (or yes at the prompt); otherwise destroy names the profile and changes
nothing (exit 2).

--group/--config: the projects of the selection (archived, excluded and not-included ones skipped),
each planned as --project plans it, from one bulk read of the account. One failing project does not stop
the others; the summary lists each failure and the command that finishes the job (exit 1). The OIDC
provider goes last, only when no remaining role trusts it. No pipeline file is touched (no --ci-file);
a role in an instance profile needs --remove-from-instance-profiles.

--project finds roles by their gitlab-aws-oidc:project tag, on every GitLab instance. When that path has
roles of more than one instance (gitlab-aws-oidc:gitlab-url tag), destroy deletes nothing and asks for
--gitlab-url (exit 2).

Pipeline file: once IAM is done, the jobs init wrote for the roles this run deletes (.aws-oidc,
aws-oidc-check, aws-oidc-verify, or .aws-oidc-<role-name>, ... for a further role) are removed from
.gitlab-ci.yml (top of the repository); other roles' jobs and every other byte are kept (a file that held
only those jobs is deleted), the write is atomic and the old file is kept as .gitlab-ci.yml.bak (never
overwritten: later backups are .bak.1, .bak.2, ...). --ci-file <path> names the file to clean (with
--project, a file with a single role's jobs is cleaned whatever role it uses), --no-ci-file leaves it
alone. --dry-run shows the diff and writes nothing. Jobs that still extend a removed hidden job stop the
run (exit 2) unless --force. A hidden job written by init --ci-variables names its role through the
project's CI/CD variable ($AWS_OIDC_ROLE_ARN[_<ROLE>]): its jobs go when that variable names a role this run
deletes.

CI/CD variables: with a GitLab token (Maintainer, api scope), destroy also deletes the project variables
init --ci-variables set (AWS_OIDC_ROLE_ARN[_<ROLE>], AWS_OIDC_REGION[_<ROLE>]) for the roles it deletes, after
IAM. A variable gitlab-aws-oidc did not set, or whose value now names another role, is kept. Without a token,
or with --offline, the plan says they were not checked.`,
    )
    .action(async (flags) => {
      const { runDestroyCommand } = await import('../destroy/command.js');
      await runDestroyCommand(flags, context);
    });
}
