/**
 * `export`: flags and help only. The implementation (and with it the AWS SDK) loads when the command runs.
 */
import { type Command, Option } from 'commander';
import type { CommandContext } from '../io/context.js';
import { TOOL_NAME } from '../version.js';
import { addSetupOptions, addVerifyJobOptions } from './init.js';

export function registerExport(program: Command, context: CommandContext): void {
  const command = program
    .command('export')
    .description(
      'Write the setup init would apply (OIDC provider, role, policy) as Terraform/OpenTofu or CloudFormation, instead of applying it.',
    )
    .addOption(
      new Option('--format <format>', 'what to write: terraform (also OpenTofu) or cloudformation').choices([
        'terraform',
        'cloudformation',
      ]),
    )
    .option('--out <dir>', 'write the files into this folder (atomically); default: print them on stdout');
  addSetupOptions(command).option(
    '--ci-file <path>',
    'also create or merge the pipeline file, exactly as init does (default: no pipeline file)',
  );
  addVerifyJobOptions(command)
    .option(
      '--force',
      'replace files in --out (a .bak copy is kept) and pipeline jobs that gitlab-aws-oidc did not write',
    )
    .option(
      '--adopt-existing',
      'import an existing role or policy with the same name that the tool did not create',
    )
    .option(
      '--manage-provider',
      'terraform: import an existing OIDC provider into this configuration instead of reading it with a data source',
    )
    .option('-y, --yes', 'no prompts: use defaults for everything not given')
    .option('--offline', 'make no AWS call: assume nothing exists yet (no import blocks)')
    .option('--account-id <id>', 'with --offline: the 12-digit account to export for (default: 123456789012)')
    .addOption(
      new Option('--partition <name>', 'with --offline: the AWS partition').choices([
        'aws',
        'aws-cn',
        'aws-us-gov',
      ]),
    )
    .option('--json', 'print one JSON document on stdout: the file list (path, bytes, sha256)')
    .addHelpText(
      'after',
      `
Examples:
  Terraform for a project, reading the account for import blocks:
    $ ${TOOL_NAME} export --format terraform --project grp/app --branch main --out infra/gitlab-oidc

  Adopt a setup made by init into Terraform (the plan should show only imports):
    $ ${TOOL_NAME} export --format terraform --project grp/app --out infra/gitlab-oidc
    $ cd infra/gitlab-oidc && terraform init && terraform plan

  No AWS account needed (nothing is read, nothing is imported):
    $ ${TOOL_NAME} export --offline --format terraform --project grp/app --branch main

  CloudFormation for a service-managed StackSet, with the file list as JSON:
    $ ${TOOL_NAME} export --format cloudformation --project grp/app --branch main \\
        --offline --out cfn --json

Takes the same inputs as init (flags, wizard, or the existing role's values) and writes nothing to AWS.
The trust policy in every format is byte for byte the document init writes. Files in --out are
replaced only when an earlier export wrote them (their first line says so), or with --force.
The pipeline file is written only with --ci-file.`,
    )
    .action(async (flags) => {
      const { runExportCommand } = await import('../export/command.js');
      await runExportCommand(flags, context);
    });
}
