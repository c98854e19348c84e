/**
 * `audit`: flags and help only. The implementation (and with it the AWS SDK) loads when the command runs.
 */
import { type Command, Option } from 'commander';
import { SEVERITIES } from '../core/lint-rules/severities.js';
import { addSelectionOptions } from '../fleet/selection-flags.js';
import type { CommandContext } from '../io/context.js';
import { TOOL_NAME } from '../version.js';

export function registerAudit(program: Command, context: CommandContext): void {
  const command = program
    .command('audit')
    .description(
      'Find dangerous trust: lint every IAM OIDC provider and every role that federates to one (or a trust policy file, offline).',
    )
    .option('--role <name>', 'audit this role only')
    .option(
      '--policy-file <file>',
      'lint a trust policy JSON file offline (no AWS call), e.g. in an IaC merge request',
    )
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'sarif']))
    .addOption(
      new Option(
        '--fail-on <severity>',
        'exit 1 when a finding is at least this severe (critical > high > functional > medium > low)',
      ).choices([...SEVERITIES]),
    )
    .option('--write-role', 'with --policy-file: the role can change things (any-ref is high)')
    .option('--read-only-role', 'with --policy-file: the role only reads (any-ref is medium)')
    .option(
      '--gitlab-url <url>',
      'GitLab instance whose protection rules confirm or clear the unprotected-ref findings, with a token; with --group, the instance the group is on (default: https://gitlab.com)',
    )
    .option(
      '--gitlab-token-env <name>',
      'environment variable holding a GitLab API token (read_api, Reporter) for --gitlab-url (default: GITLAB_TOKEN, GITLAB_ACCESS_TOKEN, OAUTH_TOKEN, then glab config)',
    )
    .option('--gitlab-api-url <url>', 'GitLab API base URL when it differs from --gitlab-url')
    .option('--region <region>', 'AWS region for STS (IAM is global)')
    .option('--profile <name>', 'AWS shared-config profile to use')
    .option('--json', 'print one JSON document on stdout (same as --format json)');
  addSelectionOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  Audit the whole account, readable table grouped by severity:
    $ ${TOOL_NAME} audit

  CI gate: fail on high or critical findings, SARIF for code scanning:
    $ ${TOOL_NAME} audit --fail-on high --format sarif > gl-oidc.sarif

  One role, as JSON:
    $ ${TOOL_NAME} audit --role gitlab-acme-web --json

  Lint a trust policy in a merge request, no AWS credentials needed:
    $ ${TOOL_NAME} audit --policy-file infra/iam/trust.json --fail-on high

  Only the roles that trust the projects of a GitLab group (one account read, findings per project):
    $ ${TOOL_NAME} audit --group acme --exclude 'acme/legacy/**' --json

Every finding has a stable rule ID (GAO001…), the role, statement and condition, why it is dangerous
and the exact fix. Exit codes: 0 no finding at the --fail-on level, 1 gate failed or AWS error, 2 bad flags.`,
    )
    .action(async (flags) => {
      const { runAuditCommand } = await import('../audit/command.js');
      await runAuditCommand(flags, context);
    });
}
