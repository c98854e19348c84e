/**
 * How an export is shown. With --out: a summary on stdout. Without: the files themselves on stdout
 * (each after a `# ==> path <==` line, a comment in HCL and YAML alike) and the summary on stderr.
 */
import type { Palette } from '../io/colors.js';
import type { ExportResult } from './run.js';

/** The files as printed on stdout when there is no --out. */
export function formatFiles(result: ExportResult): string {
  const files = result.files;
  if (files.length === 1) return files[0]?.content ?? '';
  return files.map((f) => `# ==> ${f.path} <==\n${f.content ?? ''}`).join('\n');
}

function nextSteps(result: ExportResult): string[] {
  const dir = result.out ?? '<folder>';
  const imports = Boolean(
    result.existing.roleName || result.existing.policyArn || result.existing.providerArn,
  );
  if (result.format === 'terraform') {
    return [
      `cd ${dir} && terraform init && terraform plan   (or tofu init && tofu plan)`,
      imports
        ? 'The plan imports what already exists; for a setup made by init it should change nothing else.'
        : 'terraform apply creates the resources; the role ARN is the output role_arn.',
    ];
  }
  const template = result.files[0]?.path ?? '<template>';
  const overrides = result.existing.providerArn ? ' --parameter-overrides CreateProvider=false' : '';
  return [
    `aws cloudformation deploy --template-file ${result.out ? `${dir}/${template}` : template} --stack-name <name> --capabilities CAPABILITY_NAMED_IAM${overrides}`,
    'Many accounts: a service-managed StackSet (README, "CloudFormation and StackSets"); CreateProvider=false where the provider exists.',
  ];
}

export function formatSummary(result: ExportResult, p: Palette): string[] {
  const lines = [
    p.strong(
      `Exported ${result.format} for ${result.project} (AWS account ${result.identity.account}${result.offline ? ', offline: nothing read' : ''}).`,
    ),
    '',
    `  Role ARN        ${result.roleArn}`,
    `  OIDC provider   ${result.providerArn}${result.existing.providerArn ? ' (exists)' : ''}`,
  ];
  if (result.policyArn) lines.push(`  Policy          ${result.policyArn}`);
  if (result.out) {
    lines.push('', `  Files in ${result.out}:`);
    for (const f of result.files)
      lines.push(
        `    ${f.written ? 'wrote    ' : 'unchanged'} ${f.path} (${f.bytes} bytes)${f.backupPath ? `, replaced file kept as ${f.backupPath}` : ''}`,
      );
  }
  if (result.ciFile)
    lines.push(
      '',
      `  Pipeline        ${result.ciFile.path} (${result.ciFile.written ? result.ciFile.action : 'unchanged'})`,
    );
  lines.push('', p.strong('Next steps:'));
  for (const [i, s] of nextSteps(result).entries()) lines.push(`  ${i + 1}. ${s}`);
  return lines;
}
