/**
 * The merge request `init --merge-request` opens: its title and its description, rendered from the
 * shipped template `templates/merge-request/description.md` by a pure function. Both depend only on
 * the inputs (no date, no run ID), so a re-run with nothing new renders the same text and the merge
 * request is left alone.
 */
import { readFileSync } from 'node:fs';
import type { RefRule } from '../core/types.js';
import { CliError } from '../errors.js';
import { templatePath } from '../io/package-root.js';
import { type CiJobNames, type CiVariableKeys, UNSET_STATIC_KEYS } from '../render/ci-file.js';

export const MR_TEMPLATE_FILE = 'description.md';

export interface MergeRequestDescriptionInput {
  toolVersion: string;
  project: string;
  issuer: string;
  audience: string;
  roleArn: string;
  providerArn: string;
  refs: readonly RefRule[];
  /** gitlab.com pins, in the trust policy. */
  pins: { projectId?: string | undefined; namespaceId?: string | undefined; refProtected: boolean };
  permissions: { policyArn?: string | undefined; source?: string | undefined; managedPolicyArns: string[] };
  /** The file's path in the repository. */
  ciPath: string;
  jobs: CiJobNames;
  verifyRuns?: string | undefined;
  /** `--ci-variables`: the keys, and whether they are protected (in words). */
  variables?: (CiVariableKeys & { protection: string }) | undefined;
  /** The `gitlab-aws-oidc verify …` command of the next steps. */
  verifyCommand: string;
  /** The command that opened it (default `gitlab-aws-oidc init --merge-request`). */
  command?: string | undefined;
  /** `migrate --apply`: the static key the role replaces, and the variables that hold it. */
  replacesStaticKey?: { userName: string; variables: { key: string; where: string }[] } | undefined;
}

/** One line; stable across runs (the merge request is found by its branch, not by its title). */
export function mergeRequestTitle(roleArn: string, project: string): string {
  return `Assume AWS role ${roleArn.slice(roleArn.lastIndexOf('/') + 1)} from ${project}'s CI/CD jobs (OIDC)`;
}

/** Markdown inline code for any one-line text (a longer backtick fence when it holds backticks). */
export function inlineCode(value: string): string {
  const longest = Math.max(0, ...[...value.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = value.startsWith('`') || value.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${value}${pad}${fence}`;
}

/** Reads the shipped template and renders it. */
export function renderMergeRequestDescription(input: MergeRequestDescriptionInput): string {
  const text = readFileSync(templatePath('merge-request', MR_TEMPLATE_FILE), 'utf8');
  return renderDescriptionFromTemplate(text, input);
}

/**
 * Pure: `{{NAME}}` inline (values that sit in backticks in the template are plain one-line texts),
 * `{{NAME}}` alone on a line for a list, `{{#SECTION}}`…`{{/SECTION}}` kept or dropped.
 */
export function renderDescriptionFromTemplate(template: string, input: MergeRequestDescriptionInput): string {
  const refLines = input.refs.map(
    (r) => `  - ${r.type} ${inlineCode(r.pattern)}${/[*?]/.test(r.pattern) ? ' (pattern)' : ''}`,
  );
  const pinLines = [
    ...(input.pins.projectId ? [`  - \`project_id\` = ${inlineCode(input.pins.projectId)}`] : []),
    ...(input.pins.namespaceId ? [`  - \`namespace_id\` = ${inlineCode(input.pins.namespaceId)}`] : []),
    ...(input.pins.refProtected ? ['  - `ref_protected` = `true` (protected branches and tags only)'] : []),
  ];
  const p = input.permissions;
  const permissionLines = [
    ...(p.policyArn
      ? [`- ${inlineCode(p.policyArn)}${p.source ? ` (from ${p.source}), managed by gitlab-aws-oidc` : ''}`]
      : []),
    ...p.managedPolicyArns.filter((a) => a !== p.policyArn).map((a) => `- ${inlineCode(a)}`),
  ];
  if (permissionLines.length === 0)
    permissionLines.push('- none attached yet: the role can only be assumed.');
  const migrateLines = (input.replacesStaticKey?.variables ?? []).map(
    (v) => `- ${inlineCode(v.key)} (${v.where})`,
  );
  const lists: Record<string, string[]> = {
    MIGRATE_VARIABLES: migrateLines,
    REFS: refLines,
    PIN_LINES: pinLines,
    PERMISSION_LINES: permissionLines,
  };
  const values: Record<string, string> = {
    TOOL_VERSION: input.toolVersion,
    PROJECT: input.project,
    ISSUER: input.issuer,
    AUDIENCE: input.audience,
    ROLE_ARN: input.roleArn,
    ROLE_NAME: input.roleArn.slice(input.roleArn.lastIndexOf('/') + 1),
    PROVIDER_ARN: input.providerArn,
    CI_PATH: input.ciPath,
    HIDDEN_JOB: input.jobs.hidden,
    CHECK_JOB: input.jobs.check,
    VERIFY_JOB: input.jobs.verify,
    VERIFY_RUNS: input.verifyRuns ?? '',
    ROLE_ARN_KEY: input.variables?.roleArn ?? '',
    REGION_KEY: input.variables?.region ?? '',
    VARIABLES_PROTECTION: input.variables?.protection ?? '',
    VERIFY_COMMAND: inlineCode(input.verifyCommand),
    COMMAND: input.command ?? 'gitlab-aws-oidc init --merge-request',
    MIGRATE_USER: input.replacesStaticKey?.userName ?? '',
    UNSET_COMMAND: UNSET_STATIC_KEYS,
  };
  for (const [name, value] of Object.entries(values)) {
    // Every value but the verify command and what the verify job runs sits in backticks in the template.
    const inCode = name !== 'VERIFY_COMMAND' && name !== 'VERIFY_RUNS';
    if (/[\r\n]/.test(value) || (inCode && value.includes('`'))) {
      throw new CliError(
        'TEMPLATE_INVALID',
        `The merge request value ${name} must be one line${inCode ? ' without backticks' : ''}`,
      );
    }
  }
  const sections: Record<string, boolean> = {
    PINS: pinLines.length > 0,
    VERIFY: input.verifyRuns !== undefined,
    CI_VARIABLES: input.variables !== undefined,
    MIGRATE: input.replacesStaticKey !== undefined,
  };
  let text = template.replace(
    /^\{\{#([A-Z_]+)\}\}[ \t]*\r?\n([\s\S]*?)^\{\{\/\1\}\}[ \t]*(?:\r?\n|$)/gm,
    (_m, name: string, body: string) => {
      if (!(name in sections))
        throw new CliError('TEMPLATE_INVALID', `Unknown template section {{#${name}}}`);
      return sections[name] ? body : '';
    },
  );
  text = text.replace(
    /^\{\{([A-Z_]+)\}\}[ \t]*$/gm,
    (whole, name: string) => lists[name]?.join('\n') ?? whole,
  );
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new CliError('TEMPLATE_INVALID', `Unknown template placeholder ${whole}`);
    return value;
  });
}
