/**
 * `verify`: flags and help only. The implementation (and with it the AWS SDK) loads when the command runs.
 */
import { type Command, Option } from 'commander';
import type { CommandContext } from '../io/context.js';
import { TOOL_NAME } from '../version.js';

/** The variable the generated pipeline puts the ID token in (render/ci-file.ts DEFAULT_TOKEN_VARIABLE). */
export const VERIFY_DEFAULT_TOKEN_VARIABLE = 'GITLAB_OIDC_TOKEN';

export function registerVerify(program: Command, context: CommandContext): void {
  program
    .command('verify')
    .description(
      'Prove a GitLab job can assume the role, or explain exactly why AWS refuses its token (also without a pipeline).',
    )
    .option('--role-arn <arn>', 'role to check (default: AWS_ROLE_ARN)')
    .option(
      '--token <file>',
      'read the ID token from a file, or - for stdin (default: the token variable, else AWS_WEB_IDENTITY_TOKEN_FILE)',
    )
    .option(
      '--token-env <name>',
      `environment variable holding the ID token (default: ${VERIFY_DEFAULT_TOKEN_VARIABLE})`,
    )
    .option('--claims <claims>', 'simulate a job without a token: sub=…,aud=…,project_id=… (aud may repeat)')
    .option('--project <path>', 'simulate a job of this project (with --branch or --tag)')
    .option('--branch <name>', 'with --project: the job runs on this branch')
    .option('--tag <name>', 'with --project: the job runs for this tag')
    .option('--project-id <id>', 'with --project: the numeric project ID (gitlab.com:project_id)')
    .option('--namespace-id <id>', 'with --project: the numeric namespace ID (gitlab.com:namespace_id)')
    .option('--ref-protected', 'with --project: the ref is protected (gitlab.com:ref_protected)')
    .option(
      '--audience <aud>',
      "simulated jobs' aud (default: the GitLab URL if the provider lists it, else its first client ID)",
    )
    .option('--gitlab-url <url>', "simulated jobs' GitLab instance (default: the role's trusted provider)")
    .option(
      '--gitlab-token-env <name>',
      'with --project: environment variable holding a GitLab API token (read_api); the job is then simulated as GitLab runs it (default: GITLAB_TOKEN, GITLAB_ACCESS_TOKEN, OAUTH_TOKEN, then glab config)',
    )
    .option('--gitlab-api-url <url>', 'GitLab API base URL when it differs from the GitLab URL')
    .option(
      '--expect-deny',
      'also check that other branches, projects, look-alike groups and tags are refused',
    )
    .option('--no-assume', 'with a token: verify and explain only, do not call AssumeRoleWithWebIdentity')
    .option(
      '--session-name <name>',
      'role session name (default: AWS_ROLE_SESSION_NAME, else gitlab-<project>-<job>)',
    )
    .addOption(
      new Option(
        '--timeout <seconds>',
        'stop retrying a refused assume after this long (IAM propagation; 1-900)',
      ).default(undefined, '60'),
    )
    .option('--region <region>', 'STS region (default: AWS_REGION or us-east-1)')
    .option('--profile <name>', 'AWS shared-config profile used to read the role and provider')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      `
Examples:
  In the pipeline (the generated aws-oidc-verify job; role and token come from the job):
    $ ${TOOL_NAME} verify

  On a laptop, simulate a job and explain the decision (reads the role and provider from IAM):
    $ ${TOOL_NAME} verify --role-arn arn:aws:iam::123456789012:role/gitlab-oidc/app \\
        --project grp/app --branch feature-x

  Check a real token copied from a job, without exchanging it:
    $ ${TOOL_NAME} verify --role-arn arn:aws:iam::123456789012:role/gitlab-oidc/app --token token.jwt --no-assume

  Arbitrary claims, and prove that look-alike projects are refused:
    $ ${TOOL_NAME} verify --role-arn arn:aws:iam::123456789012:role/gitlab-oidc/app \\
        --claims 'sub=project_path:grp/app:ref_type:branch:ref:main,aud=https://gitlab.com,project_id=42' --expect-deny

Exit codes: 0 assumable (and every --expect-deny job refused), 1 refused or an expectation failed,
2 usage or invalid input. The token and the credentials are never printed, not even with --json.`,
    )
    .action(async (flags) => {
      const { runVerifyCommand } = await import('../verify/command.js');
      await runVerifyCommand(flags, context);
    });
}
