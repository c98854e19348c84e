/**
 * The renderer of each format, loaded when used, and the names of the files a format writes (taken
 * from a stand-in render: the names do not depend on the inputs), so --out is checked before the
 * setup is resolved and before any AWS call.
 */
import { parseIssuerUrl } from '../core/issuer.js';
import { buildDesiredState } from '../core/plan.js';
import { CliError } from '../errors.js';
import type { ExportFile, ExportFormat, ExportRenderer } from './types.js';

export async function rendererFor(format: ExportFormat): Promise<ExportRenderer> {
  if (format === 'terraform') return (await import('./terraform.js')).renderTerraform;
  throw new CliError(
    'EXPORT_FORMAT_UNAVAILABLE',
    '--format cloudformation is not in this build of gitlab-aws-oidc.',
    {
      hint: 'Use --format terraform.',
    },
  );
}

/** The files `format` writes, rendered for a stand-in setup (their paths are what matters). */
export async function standInFiles(format: ExportFormat): Promise<ExportFile[]> {
  const render = await rendererFor(format);
  const identity = { account: '123456789012', partition: 'aws' };
  const { desired } = buildDesiredState({
    identity,
    issuer: parseIssuerUrl('https://gitlab.com'),
    audience: 'https://gitlab.com',
    projectPath: 'group/project',
    refs: [{ type: 'branch', pattern: 'main' }],
    roleName: 'gitlab-group-project',
  });
  return render(desired, {
    identity,
    project: 'group/project',
    existing: { attachedPolicyArns: [] },
    toolVersion: '0',
  });
}
