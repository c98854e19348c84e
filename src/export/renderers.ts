/**
 * The renderer of each format, loaded when used, and the names of the files a format writes (from a
 * stand-in render), so --out is checked before the setup is resolved and before any AWS call. runExport
 * checks the real files again before writing (a role name only known later is caught there).
 */
import { parseIssuerUrl } from '../core/issuer.js';
import { defaultRoleName } from '../core/naming.js';
import { buildDesiredState } from '../core/plan.js';
import type { ExportFile, ExportFormat, ExportRenderer } from './types.js';

export async function rendererFor(format: ExportFormat): Promise<ExportRenderer> {
  if (format === 'terraform') return (await import('./terraform.js')).renderTerraform;
  return (await import('./cloudformation.js')).renderCloudFormation;
}

/** The default role name of `project`; a stand-in when there is none yet or it is invalid (reported later). */
function roleNameFor(project: string | undefined): string {
  try {
    return defaultRoleName(project ?? 'group/project');
  } catch {
    return 'gitlab-group-project';
  }
}

/**
 * The files `format` writes, rendered for a stand-in setup: only their paths matter, which may name the
 * role (CloudFormation's `<role>.cfn.yaml`), so the role name is the one the flags give, when they do.
 */
export async function standInFiles(
  format: ExportFormat,
  names: { project?: string | undefined; roleName?: string | undefined } = {},
): Promise<ExportFile[]> {
  const render = await rendererFor(format);
  const identity = { account: '123456789012', partition: 'aws' };
  const { desired } = buildDesiredState({
    identity,
    issuer: parseIssuerUrl('https://gitlab.com'),
    audience: 'https://gitlab.com',
    projectPath: 'group/project',
    refs: [{ type: 'branch', pattern: 'main' }],
    roleName: names.roleName ?? roleNameFor(names.project),
  });
  return render(desired, {
    identity,
    project: 'group/project',
    existing: { attachedPolicyArns: [] },
    toolVersion: '0',
  });
}
