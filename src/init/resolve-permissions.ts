/**
 * init's permission questions and defaults: what the role may do in AWS. A re-run keeps what the role has
 * attached now (and the tool-managed policy's current document) unless a permission flag or answer says
 * otherwise; `--managed-policy` alone replaces the attachments, not that document.
 */
import type { ExistingRole } from '../aws/read-state.js';
import type { RawInitFlags } from '../commands/init.js';
import { checkTemplateParam, findPolicyTemplate, POLICY_TEMPLATES } from '../core/policy-templates.js';
import type { RoleIntent } from '../core/role-intent.js';
import { isToolManaged, type ManagedPolicyState, type PolicyDocument } from '../core/types.js';
import type { Prompter } from '../prompts/prompter.js';
import { answerCheck, throwingCheck } from './field-checks.js';
import { loadPermissionSource } from './permissions.js';

/** The tool-managed permission policy attached to the role, when the tool created it. */
export function toolManagedPolicy(existing: ExistingRole): ManagedPolicyState | undefined {
  return existing.toolPolicy && isToolManaged(existing.toolPolicy.tags) ? existing.toolPolicy : undefined;
}

export interface PermissionsInput {
  flags: Pick<RawInitFlags, 'managedPolicy' | 'policyFile' | 'template'>;
  ask: Prompter | undefined;
  cwd: string;
  existing: ExistingRole | undefined;
  current: RoleIntent | undefined;
  /** Attached now but not by the tool (`notMadeByTool`): kept by the plan, never taken over. */
  unownedPolicyArns?: readonly string[] | undefined;
  policyName: string;
  /** Filled in place by the template's questions. */
  templateParams: Record<string, string>;
  /** Receives what is kept from the existing role, for the note. */
  kept: string[];
  note: (message: string) => void;
}

export interface ResolvedPermissions {
  managedPolicies: string[];
  policyFile?: string | undefined;
  template?: string | undefined;
  keptPolicyDocument?: PolicyDocument | undefined;
}

export async function resolvePermissions(input: PermissionsInput): Promise<ResolvedPermissions> {
  const { flags, ask, cwd, existing, current, policyName, templateParams, kept, note } = input;
  const owned = (arns: string[]) => arns.filter((arn) => !input.unownedPolicyArns?.includes(arn));
  let managedPolicies = [...(flags.managedPolicy ?? [])];
  let policyFile = flags.policyFile;
  let template = flags.template;
  const currentPolicy = existing ? toolManagedPolicy(existing) : undefined;
  let keepPolicy = false;
  const permissionsGiven = managedPolicies.length > 0 || policyFile !== undefined || template !== undefined;
  if (current && !permissionsGiven) {
    // With a terminal, the answer below decides.
    if (!ask) {
      managedPolicies = owned(current.managedPolicyArns);
      keepPolicy = currentPolicy !== undefined;
      const outside = current.managedPolicyArns.filter((arn) => !managedPolicies.includes(arn));
      const what = [
        ...managedPolicies,
        ...(keepPolicy ? [`${policyName} (its current document)`] : []),
        ...outside.map((arn) => `${arn} (attached outside the tool)`),
      ];
      kept.push(`permissions ${what.length ? what.join(', ') : 'none'}`);
    }
  } else if (current && currentPolicy && !policyFile && !template) {
    // --managed-policy alone replaces the attachments, not the tool-managed policy's document.
    keepPolicy = true;
    kept.push(`the current document of ${policyName}`);
  }
  if (ask && !permissionsGiven) {
    const currentList = current
      ? [...current.managedPolicyArns, ...(currentPolicy ? [policyName] : [])]
      : undefined;
    const kind = await ask.select('--template', {
      message: 'What may the pipeline do in AWS?',
      choices: [
        ...(currentList
          ? [
              {
                value: 'keep',
                name: `Keep what the role has now: ${currentList.join(', ') || 'nothing attached'}`,
              },
            ]
          : []),
        ...POLICY_TEMPLATES.map((t) => ({
          value: `template:${t.name}`,
          name: `${t.name}: ${t.description}`,
        })),
        { value: 'managed', name: 'Attach an existing managed policy (ARN)' },
        { value: 'file', name: 'Use a policy JSON file' },
        { value: 'none', name: 'Nothing yet (attach permissions later)' },
      ],
      ...(currentList ? { default: 'keep' } : {}),
    });
    keepPolicy = false;
    if (kind === 'keep' && current) {
      managedPolicies = owned(current.managedPolicyArns);
      keepPolicy = currentPolicy !== undefined;
    } else if (kind.startsWith('template:')) template = kind.slice('template:'.length);
    else if (kind === 'managed') {
      const arn = await ask.input('--managed-policy', {
        message: 'Managed policy ARN',
        default: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
        validate: answerCheck('managedPolicies', (a) => [a.trim()]),
      });
      managedPolicies.push(arn.trim());
    } else if (kind === 'file') {
      policyFile = (
        await ask.input('--policy-file', {
          message: 'Policy JSON file',
          validate: throwingCheck((v) => loadPermissionSource({ cwd: cwd, policyFile: v.trim() })),
        })
      ).trim();
    }
  }
  if (template && ask) {
    const info = findPolicyTemplate(template);
    for (const param of info?.params ?? []) {
      if (param.context || param.name in templateParams) continue;
      const value = await ask.input('--template-param', {
        message: `${template}: ${param.description}${param.required ? '' : ' (optional)'}`,
        ...(param.default !== undefined ? { default: param.default } : {}),
        validate: (v) => {
          if (v.trim() === '') return !param.required || 'is required';
          const problem = checkTemplateParam(param.name, v.trim());
          return problem ? `${param.name}="${v.trim()}" ${problem}` : true;
        },
      });
      if (value.trim() !== '') templateParams[param.name] = value.trim();
    }
  }
  const keepsUnowned = (input.unownedPolicyArns?.length ?? 0) > 0 && !permissionsGiven;
  if (!managedPolicies.length && !policyFile && !template && !keepPolicy && !keepsUnowned) {
    note(
      'The role gets no permissions yet: attach some later with --managed-policy, --policy-file or --template.',
    );
  }

  return {
    managedPolicies,
    policyFile,
    template,
    keptPolicyDocument: keepPolicy ? currentPolicy?.document : undefined,
  };
}
