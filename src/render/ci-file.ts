import { readFileSync } from 'node:fs';
import type { RefRule } from '../core/types.js';
import { CliError, UsageError } from '../errors.js';
import { templatePath } from '../io/package-root.js';
import { parseCiDocument } from './ci-yaml.js';
import { NODE_IMAGE, type VerifySource, verifyJobRun } from './verify-job.js';

export { NODE_IMAGE, type VerifySource } from './verify-job.js';

/** The template, under templates/gitlab-ci/. */
export const CI_TEMPLATE_FILE = 'aws-oidc.yml';
/** Hidden job holding id_tokens, variables and the token-file before_script. Jobs `extends:` it. */
export const HIDDEN_JOB_NAME = '.aws-oidc';
/** Example job: `aws sts get-caller-identity` on the allowed refs. */
export const CHECK_JOB_NAME = 'aws-oidc-check';
/** Optional job running `gitlab-aws-oidc verify` in the pipeline. */
export const VERIFY_JOB_NAME = 'aws-oidc-verify';
/** Every top-level key the tool writes for the first role of a file, in template order. */
export const MANAGED_JOB_NAMES = [HIDDEN_JOB_NAME, CHECK_JOB_NAME, VERIFY_JOB_NAME] as const;

/** The jobs written for one role. */
export interface CiJobNames {
  hidden: string;
  check: string;
  verify: string;
}

/**
 * The jobs of one role. The first role of a file gets the plain names (`.aws-oidc`, `aws-oidc-check`,
 * `aws-oidc-verify`); a further role gets them suffixed with its role name (`.aws-oidc-<role-name>`, …).
 */
export function jobNamesFor(suffix?: string | undefined): CiJobNames {
  const tail = suffix === undefined ? '' : `-${suffix}`;
  return {
    hidden: `${HIDDEN_JOB_NAME}${tail}`,
    check: `${CHECK_JOB_NAME}${tail}`,
    verify: `${VERIFY_JOB_NAME}${tail}`,
  };
}
/** The id_tokens entry (and so the job variable) holding the GitLab-minted JWT. */
export const DEFAULT_TOKEN_VARIABLE = 'GITLAB_OIDC_TOKEN';
/** Where the job writes the token; the AWS CLI and SDKs read it from this variable. */
export const TOKEN_FILE_VARIABLE = 'AWS_WEB_IDENTITY_TOKEN_FILE';
/** Pinned AWS CLI v2 image; its entrypoint must be overridden with `[""]`. */
export const AWS_CLI_IMAGE = 'public.ecr.aws/aws-cli/aws-cli:2.32.9';
/** Text that starts the comment line above each job the tool wrote: how a later merge recognises it. */
export const MANAGED_MARKER = 'managed by gitlab-aws-oidc';
/** The stage the example jobs use (a default stage when the file has no `stages:`). */
export const DEFAULT_JOB_STAGE = 'test';

export interface CiSnippetInput {
  roleArn: string;
  region: string;
  /** `aud` of the id_token: must be one of the IAM OIDC provider's client IDs. */
  audience: string;
  /** Refs allowed to run the example jobs (must mirror the trust policy). Never empty. */
  refs: RefRule[];
  /** Name of the id_tokens entry; default {@link DEFAULT_TOKEN_VARIABLE}. */
  tokenVariable?: string | undefined;
  /** What the optional verify job runs; no verify job without it. */
  verify?: VerifySource | undefined;
  /** The jobs' rules also require a protected ref (`$CI_COMMIT_REF_PROTECTED`), as the trust policy does. */
  protectedOnly?: boolean | undefined;
  /** Default: {@link jobNamesFor}() (the first role of a file). */
  jobNames?: CiJobNames | undefined;
  /** Shown in the marker comments. */
  toolVersion: string;
  /**
   * `--ci-variables`: the project CI/CD variables (keys) holding the role ARN and the region. The hidden
   * job then reads them (`AWS_ROLE_ARN: '$KEY'`) instead of holding the literals.
   */
  ciVariables?: CiVariableKeys | undefined;
  /**
   * `migrate --apply`: the hidden job's before_script first unsets the static key variables
   * ({@link UNSET_STATIC_KEYS}): a CI/CD variable wins over the YAML, and the SDKs would use it first.
   */
  unsetStaticKeys?: boolean | undefined;
}

/** The shell line that keeps a static key held in CI/CD variables away from the AWS CLI and SDKs. */
export const UNSET_STATIC_KEYS = 'unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN';

/** The keys of the project CI/CD variables one role's hidden job reads (see `delivery/variables.ts`). */
export interface CiVariableKeys {
  roleArn: string;
  region: string;
}

/** IAM paths allow any printable ASCII; only `'` is refused (the value sits in a single-quoted YAML scalar). */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[!-&(-~]*\/)?[\w+=,.@-]{1,64}$/;
const REGION = /^[a-z]{2,}(?:-[a-z]+)+-\d{1,2}$/;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
/** The tool's names plus an IAM role name: plain YAML keys, at most 255 characters (GitLab's limit). */
const JOB_NAME = /^\.?aws-oidc(?:-[a-z]+)?(?:-[\w+=,.@-]{1,64})?$/;

/** Reads the shipped template and renders it. */
export function renderCiSnippet(input: CiSnippetInput): string {
  const templateText = readFileSync(templatePath('gitlab-ci', CI_TEMPLATE_FILE), 'utf8');
  return renderCiFromTemplate(templateText, input);
}

/**
 * Pure: fills the template. Placeholders are `{{NAME}}` inline, a line holding only `{{RULES}}` (replaced by
 * one `- if:` item per ref, at that indentation) and `{{#VERIFY}}`…`{{/VERIFY}}` sections.
 * Every value is validated first so that raw substitution cannot break the YAML or the shell line.
 */
export function renderCiFromTemplate(templateText: string, input: CiSnippetInput): string {
  const values = validateInput(input);
  const protectedPrefix = input.protectedOnly ? `${PROTECTED_REF_CONDITION} && ` : '';
  const rules = input.refs.map((ref) => `- if: ${yamlSingleQuoted(protectedPrefix + refRuleCondition(ref))}`);

  let text = renderSections(templateText, {
    VERIFY: input.verify !== undefined,
    CI_VARIABLES: input.ciVariables !== undefined,
    UNSET_KEYS: input.unsetStaticKeys === true,
  });
  text = text.replace(/^([ \t]*)\{\{RULES\}\}[ \t]*$/gm, (_m, indent: string) =>
    rules.map((r) => indent + r).join('\n'),
  );
  text = text.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new CliError('TEMPLATE_INVALID', `Unknown template placeholder ${whole}`);
    return value;
  });

  const doc = parseCiDocument(text);
  if (doc.errors.length) {
    throw new CliError(
      'TEMPLATE_INVALID',
      `The rendered CI template is not valid YAML: ${doc.errors[0]!.message}`,
    );
  }
  if (/CI_JOB_JWT/.test(text)) {
    throw new CliError(
      'TEMPLATE_INVALID',
      'The rendered CI template mentions CI_JOB_JWT (removed in GitLab 17.0).',
    );
  }
  return text;
}

/** With --protected-only the jobs run only where the trust policy lets them in: on protected refs. */
export const PROTECTED_REF_CONDITION = '$CI_COMMIT_REF_PROTECTED == "true"';

/**
 * The `rules:if` expression admitting one ref. Literal names compare with `==`; patterns (`*`, `?`)
 * become an anchored RE2 regex where `*` matches anything, `/` included (as IAM's `StringLike` does);
 * a bare `*` means "any branch" / "any tag".
 */
export function refRuleCondition(ref: RefRule): string {
  const variable = ref.type === 'branch' ? '$CI_COMMIT_BRANCH' : '$CI_COMMIT_TAG';
  const pattern = ref.pattern;
  if (pattern === '*') return variable;
  if (/[*?]/.test(pattern)) return `${variable} =~ /^${globToRegexBody(pattern)}$/`;
  return `${variable} == ${expressionString(pattern, ref.type)}`;
}

/** Escapes a glob for the body of a GitLab `/…/` regex literal (so `/` is escaped too). */
export function globToRegexBody(glob: string): string {
  let out = '';
  for (const ch of glob) {
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (/[.+^${}()|[\]\\/]/.test(ch)) out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

function expressionString(value: string, type: RefRule['type']): string {
  if (!value.includes('"')) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  throw UsageError.field(type === 'branch' ? '--branch' : '--tag', `"${value}" holds both quote characters`);
}

/** A YAML single-quoted scalar: valid for any one-line text. */
export function yamlSingleQuoted(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function renderSections(text: string, flags: Record<string, boolean>): string {
  return text.replace(
    /^\{\{#([A-Z_]+)\}\}[ \t]*\r?\n([\s\S]*?)^\{\{\/\1\}\}[ \t]*(?:\r?\n|$)/gm,
    (_m, name: string, body: string) => {
      if (!(name in flags)) throw new CliError('TEMPLATE_INVALID', `Unknown template section {{#${name}}}`);
      return flags[name] ? body : '';
    },
  );
}

function validateInput(input: CiSnippetInput): Record<string, string> {
  if (!ROLE_ARN.test(input.roleArn)) {
    throw UsageError.field(
      'role ARN',
      `"${input.roleArn}" is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)`,
    );
  }
  if (!REGION.test(input.region)) {
    throw UsageError.field('--region', `"${input.region}" is not an AWS region name (like eu-west-1)`);
  }
  const aud = input.audience;
  if (aud.length === 0 || aud.length > 255 || CONTROL.test(aud) || aud.includes("'") || aud.trim() !== aud) {
    throw UsageError.field(
      '--audience',
      'must be 1-255 characters without quotes, control characters or surrounding spaces',
    );
  }
  const tokenVariable = input.tokenVariable ?? DEFAULT_TOKEN_VARIABLE;
  if (!VARIABLE_NAME.test(tokenVariable) || /^CI_/.test(tokenVariable)) {
    throw UsageError.field(
      '--token-variable',
      `"${tokenVariable}" must be a variable name ([A-Za-z_][A-Za-z0-9_]*) outside GitLab's CI_ namespace`,
    );
  }
  if (!SEMVER.test(input.toolVersion)) {
    throw new CliError('INVALID_VERSION', `Tool version "${input.toolVersion}" is not a semantic version`);
  }
  if (input.refs.length === 0) {
    throw UsageError.field(
      '--branch',
      'at least one branch or tag is needed: the jobs only run on allowed refs',
    );
  }
  for (const ref of input.refs) {
    const flag = ref.type === 'branch' ? '--branch' : '--tag';
    if (
      ref.pattern.length === 0 ||
      ref.pattern.length > 255 ||
      /[\s\\]/.test(ref.pattern) ||
      CONTROL.test(ref.pattern)
    ) {
      throw UsageError.field(flag, `"${ref.pattern}" is not a valid ${ref.type} name or pattern`);
    }
  }
  const names = input.jobNames ?? jobNamesFor();
  for (const name of [names.hidden, names.check, names.verify]) {
    if (!JOB_NAME.test(name)) {
      throw new CliError('TEMPLATE_INVALID', `"${name}" cannot be a job name written by the tool`);
    }
  }
  const verify = input.verify ? verifyJobRun(input.verify) : undefined;
  const keys = input.ciVariables;
  for (const key of keys ? [keys.roleArn, keys.region] : []) {
    if (!VARIABLE_NAME.test(key) || key.length > 255) {
      throw new CliError('TEMPLATE_INVALID', `"${key}" cannot be a CI/CD variable key`);
    }
  }
  return {
    HIDDEN_JOB: names.hidden,
    HIDDEN_JOB_REF: /^[\w.-]+$/.test(names.hidden) ? names.hidden : yamlSingleQuoted(names.hidden),
    CHECK_JOB: names.check,
    VERIFY_JOB: names.verify,
    ROLE_NAME: input.roleArn.slice(input.roleArn.lastIndexOf('/') + 1),
    VERIFY_IMAGE: verify?.image ?? NODE_IMAGE,
    VERIFY_COMMAND: verify?.command ?? '',
    VERIFY_SOURCE: verify?.source ?? '',
    ROLE_ARN: keys ? `$${keys.roleArn}` : input.roleArn,
    REGION: keys ? `$${keys.region}` : input.region,
    ROLE_ARN_KEY: keys?.roleArn ?? '',
    REGION_KEY: keys?.region ?? '',
    AUDIENCE: aud,
    TOKEN_VARIABLE: tokenVariable,
    TOOL_VERSION: input.toolVersion,
    AWS_CLI_IMAGE,
    UNSET_COMMAND: UNSET_STATIC_KEYS,
  };
}

/** Whether `js` (a parsed pipeline file) has the hidden job `hidden` unsetting the static keys. */
export function unsetsStaticKeys(js: Record<string, unknown> | undefined, hidden: string): boolean {
  const job = js?.[hidden] as { before_script?: unknown } | undefined;
  return Array.isArray(job?.before_script) && job.before_script.includes(UNSET_STATIC_KEYS);
}
