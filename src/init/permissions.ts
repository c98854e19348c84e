/**
 * Where the role's permissions come from: a policy file or a starter template (both become the
 * tool-managed customer policy), plus any managed policy ARNs. Read and validated before any AWS call.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { validatePermissionPolicy } from '../core/permission-policy.js';
import { parsePolicyJson } from '../core/policy-json.js';
import { renderPolicyTemplate, type TemplateContext } from '../core/policy-templates.js';
import type { PolicyDocument } from '../core/types.js';
import { UsageError } from '../errors.js';
import { templatePath } from '../io/package-root.js';
import type { InitOptions } from './options.js';

export interface PermissionSource {
  /** Renders the tool-managed policy for an account (templates need partition/account/region). */
  render(context: TemplateContext): PolicyDocument;
  /** Shown in the plan: `--policy-file ./deploy.json`, `template s3-deploy`. */
  label: string;
}

/** Loads and validates the policy source; undefined when only managed ARNs (or nothing) are used. */
export async function loadPermissionSource(
  options: Pick<InitOptions, 'cwd' | 'policyFile'> &
    Partial<
      Pick<InitOptions, 'template' | 'templateParams' | 'region' | 'keptPolicyDocument' | 'policyDocument'>
    >,
): Promise<PermissionSource | undefined> {
  if (options.policyDocument) {
    // Given in memory (migrate --apply): validated as a --policy-file would be, named by its label.
    const { label } = options.policyDocument;
    const document = validatePermissionPolicy(options.policyDocument.document, label);
    return { render: () => document, label };
  }
  if (options.policyFile) {
    const path = resolve(options.cwd, options.policyFile);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw UsageError.field('--policy-file', `cannot read ${options.policyFile} (${code ?? 'error'})`);
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = parsePolicyJson(text, '--policy-file');
    } catch (error) {
      const message =
        error instanceof UsageError ? (error.issues[0]?.message ?? error.message) : String(error);
      throw UsageError.field('--policy-file', `${options.policyFile} ${message}`);
    }
    const document = validatePermissionPolicy(parsed, '--policy-file');
    return { render: () => document, label: `--policy-file ${options.policyFile}` };
  }
  if (options.template) {
    const name = options.template;
    const text = await readFile(templatePath('policies', `${name}.json`), 'utf8');
    const params = options.templateParams ?? {};
    // Validate the parameters now, with a stand-in account, so bad input fails before any AWS call.
    renderPolicyTemplate(name, text, params, {
      partition: 'aws',
      account: '123456789012',
      region: options.region ?? 'us-east-1',
    });
    return {
      render: (context) => renderPolicyTemplate(name, text, params, { region: options.region, ...context }),
      label: `template ${name}`,
    };
  }
  if (options.keptPolicyDocument) {
    // A re-run without --policy-file/--template keeps the document the tool-managed policy has now.
    const document = validatePermissionPolicy(options.keptPolicyDocument, 'the current tool-managed policy');
    return { render: () => document, label: 'the current tool-managed policy (kept)' };
  }
  return undefined;
}
