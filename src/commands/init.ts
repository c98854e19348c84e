/**
 * `init`: flags and help only. The implementation (and with it the AWS SDK) loads when the command runs.
 */
import { type Command, Option } from 'commander';
import { addSelectionOptions } from '../fleet/selection-flags.js';
import type { CommandContext } from '../io/context.js';
import { addGitlabApiOptions, type RawGitlabApiFlags } from '../options/gitlab-api.js';
import { TOOL_NAME } from '../version.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface RawInitFlags extends RawGitlabApiFlags {
  gitlabUrl?: string;
  project?: string;
  projectId?: string;
  namespaceId?: string;
  branch?: string[];
  tag?: string[];
  audience?: string;
  managedPolicy?: string[];
  policyFile?: string;
  template?: string;
  templateParam?: string[];
  roleName?: string;
  rolePath?: string;
  policyName?: string;
  permissionsBoundary?: string;
  maxSessionDuration?: string;
  awsTag?: string[];
  region?: string;
  profile?: string;
  ciFile?: string | false;
  ciVariables?: boolean;
  mergeRequest?: boolean;
  verifyJob?: boolean;
  verifyImage?: string;
  verifyPackage?: string;
  allowUnpinnedVerify?: boolean;
  force?: boolean;
  adoptExisting?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  offline?: boolean;
  json?: boolean;
  accountId?: string;
  partition?: string;
  thumbprint?: string[];
  allowAnyRef?: boolean;
  protectedOnly?: boolean;
  protectRefs?: boolean;
  overwriteDrift?: boolean;
  allowWidening?: boolean;
  detachUnowned?: boolean;
  trustPolicyMax?: string;
  subClaim?: string;
  /** Fleet: projects planned and applied at once. */
  concurrency?: string;
  /** Fleet: print every project's plan, not only the summary. */
  details?: boolean;
}

export function registerInit(program: Command, context: CommandContext): void {
  const command = program
    .command('init')
    .description(
      'Create or update the OIDC provider, the IAM role and the .gitlab-ci.yml for a GitLab project.',
    );
  addSelectionOptions(addGitlabApiOptions(addSetupOptions(command)))
    .addOption(
      new Option(
        '--sub-claim <form>',
        "what the ID token's sub starts with: project-id sets the project's ci_id_token_sub_claim_components to project_id,ref_type,ref (GitLab 17.10+, token with api scope, Maintainer) and trusts project_id:<id>:…, which a new project on a freed path cannot match; changes the sub of every ID token of the project (default: the current form, else project-path)",
      ).choices(['project-id', 'project-path']),
    )
    .option(
      '--ci-file <path>',
      'pipeline file to create or merge into (default: .gitlab-ci.yml at the top of the git repository)',
    )
    .option('--no-ci-file', 'do not write a pipeline file')
    .option(
      '--ci-variables',
      'set the role ARN and region as project CI/CD variables (GitLab API, Maintainer) that the hidden job reads, instead of literals in the file',
    )
    .option(
      '--merge-request',
      'commit the pipeline change to branch gitlab-aws-oidc/setup and open a merge request (GitLab API, Developer); no local file is written, --ci-file is the path in the repository',
    );
  addVerifyJobOptions(command)
    .option('--force', 'replace pipeline jobs with the same names that the tool did not write')
    .option(
      '--adopt-existing',
      'take over an existing role or policy with the same name that the tool did not create',
    )
    .option(
      '--overwrite-drift',
      'replace settings changed outside the tool since its last run (without it a non-interactive run refuses)',
    )
    .option(
      '--allow-widening',
      'allow changes that widen access: a dropped trust condition, a new ref, principal or audience, a policy attached, a boundary removed',
    )
    .option(
      '--detach-unowned',
      'detach policies (and remove a boundary) the tool did not attach or set; kept by default',
    )
    .option('-y, --yes', 'no prompts: use defaults for everything not given, apply without asking')
    .option('--dry-run', 'read AWS and show the plan; change nothing and write no file')
    .option('--offline', 'with --dry-run: make no AWS call at all (assumes nothing exists yet)')
    .option('--account-id <id>', 'with --offline: the 12-digit account to plan for (default: 123456789012)')
    .addOption(
      new Option('--partition <name>', 'with --offline: the AWS partition').choices([
        'aws',
        'aws-cn',
        'aws-us-gov',
      ]),
    )
    .option('--concurrency <n>', 'projects planned and applied at once, 1-32 (default: 8)')
    .option('--details', "with several projects: print each project's plan, not only the summary")
    .option('--json', 'print one JSON document on stdout (no prompts)')
    .addHelpText(
      'after',
      `
Examples:
  Wizard in a GitLab checkout (project, URL and default branch come from git):
    $ npx ${TOOL_NAME} init

  Non-interactive, main and release branches, deploy to one S3 bucket:
    $ ${TOOL_NAME} init --project grp/app --branch main --branch 'release/*' \\
        --template s3-deploy --template-param bucket=my-site --yes

  Plan only, no AWS account needed:
    $ ${TOOL_NAME} init --project grp/app --branch main --dry-run --offline

  Self-managed GitLab, tags only, JSON for scripts:
    $ ${TOOL_NAME} init --gitlab-url https://gitlab.example.com --project ops/infra \\
        --tag 'v*' --managed-policy arn:aws:iam::aws:policy/ReadOnlyAccess --yes --json

  No local checkout: protect the refs, set the CI/CD variables, open a merge request (token in GITLAB_TOKEN):
    $ ${TOOL_NAME} init --project grp/app --branch main --protect-refs --ci-variables --merge-request

  A whole group, one plan and one confirmation (or --config gitlab-aws-oidc.yml):
    $ ${TOOL_NAME} init --group acme --exclude 'acme/sandbox/**' --branch main --dry-run

Without a terminal (or with CI set, or --json) nothing is asked: a missing required value is an
error that names its flag, and applying changes needs --yes. A re-run that would overwrite changes
made outside the tool, widen access or remove what the tool did not create is refused (exit 2)
unless --overwrite-drift, --allow-widening or --detach-unowned allows it; a terminal asks instead.`,
    )
    .action(async (flags: RawInitFlags) => {
      const { runInitCommand } = await import('../init/command.js');
      await runInitCommand(flags, context);
    });
}

/** The flags that decide the setup (GitLab side, trust, permissions, role): shared by init and export. */
export function addSetupOptions(command: Command): Command {
  return command
    .option('--gitlab-url <url>', 'GitLab instance URL (default: from `git remote`, else https://gitlab.com)')
    .option('--project <path>', 'project path, e.g. group/subgroup/app (default: from `git remote`)')
    .option('--project-id <id>', 'numeric project ID; pins gitlab.com:project_id on gitlab.com')
    .option('--namespace-id <id>', 'numeric namespace (group) ID; pins gitlab.com:namespace_id on gitlab.com')
    .option(
      '--branch <name>',
      'branch (or pattern such as release/*) allowed to assume the role; repeatable',
      collect,
    )
    .option('--tag <name>', 'tag (or pattern such as v*) allowed to assume the role; repeatable', collect)
    .option('--audience <aud>', 'id_token audience (default: the GitLab URL; sts.amazonaws.com also works)')
    .option('--allow-any-ref', 'allow every branch or tag (`*`); broadens trust, shown in red')
    .option(
      '--protected-only',
      'on gitlab.com, require gitlab.com:ref_protected = "true" (default when GitLab says every allowed ref is protected)',
    )
    .option('--no-protected-only', 'drop the ref_protected requirement a re-run would otherwise keep')
    .option(
      '--protect-refs',
      'protect the allowed refs that are not protected in GitLab (needs Maintainer and a token with api)',
    )
    .option('--managed-policy <arn>', 'managed policy ARN to attach; repeatable', collect)
    .option('--policy-file <file>', 'permission policy JSON file (becomes a tool-managed customer policy)')
    .option('--template <name>', 'starter permission policy: s3-deploy, ecr-push, terraform-state, read-only')
    .option(
      '--template-param <key=value>',
      'parameter for --template, e.g. bucket=my-site; repeatable',
      collect,
    )
    .option('--role-name <name>', 'IAM role name (default: derived from the project path)')
    .option('--role-path <path>', 'IAM role path (default: /gitlab-oidc/)')
    .option(
      '--policy-name <name>',
      'name of the tool-managed policy (default: derived from the project path)',
    )
    .option('--permissions-boundary <arn>', 'permissions boundary policy ARN for the role')
    .option('--max-session-duration <seconds>', 'role maximum session duration, 3600-43200 (default: 3600)')
    .option(
      '--trust-policy-max <n>',
      'role trust policy length quota, if raised in Service Quotas: 2048-8192 (default: 2048)',
    )
    .option('--aws-tag <key=value>', 'extra tag for the resources the tool creates; repeatable', collect)
    .option('--region <region>', 'AWS region written to the pipeline (default: AWS_REGION or us-east-1)')
    .option('--profile <name>', 'AWS shared-config profile to use')
    .option('--thumbprint <sha1>', 'OIDC provider thumbprint override (40 hex); repeatable', collect);
}

/** The pipeline's verify job: shared by init and export (with --ci-file). */
export function addVerifyJobOptions(command: Command): Command {
  return command
    .option(
      '--verify-job',
      'also add a job running `gitlab-aws-oidc verify` with the role; needs --verify-image or --verify-package',
    )
    .option(
      '--verify-image <image>',
      'with --verify-job: image with gitlab-aws-oidc on its PATH, as name@sha256:<digest>',
    )
    .option(
      '--verify-package <name@x.y.z>',
      'with --verify-job: npm package installed by name when the job runs (needs --allow-unpinned-verify)',
    )
    .option(
      '--allow-unpinned-verify',
      'consent to a verify job that runs an image tag or an npm package by name',
    );
}
