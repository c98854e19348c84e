/**
 * Starter permission policies (templates/policies/<name>.json) and their rendering.
 *
 * Placeholders are `${name}` with a plain identifier (`${bucket}`), so they never clash with IAM policy
 * variables, which always hold a `:` (`${aws:username}`) or are `${*}`/`${?}`/`${$}`. Templates are
 * valid JSON with placeholders only inside strings: rendering parses first and substitutes inside
 * string values, so a value can never break out of its string. Reading the file is the caller's job
 * (`templatePath('policies', name + '.json')`).
 */
import { CliError, UsageError } from '../errors.js';
import { validatePermissionPolicy } from './permission-policy.js';
import { parsePolicyJson } from './policy-json.js';
import type { PolicyDocument } from './types.js';

const FIELD = '--template-param';

export interface TemplateParamSpec {
  name: string;
  description: string;
  /** Always needed. Optional ones may still be needed by a statement that is kept (see `omittable`). */
  required: boolean;
  /** Used when the user gives no value. */
  default?: string;
  /** Filled from the caller's context (identity, region) when the user gives no value. */
  context?: 'partition' | 'account' | 'region';
  /** When absent, the statements that mention it are left out (e.g. the DynamoDB lock statement). */
  omittable?: boolean;
}

export interface PolicyTemplateInfo {
  name: string;
  description: string;
  params: readonly TemplateParamSpec[];
}

export interface TemplateContext {
  partition?: string | undefined;
  account?: string | undefined;
  region?: string | undefined;
}

const partition: TemplateParamSpec = {
  name: 'partition',
  description: 'AWS partition',
  required: true,
  context: 'partition',
};
const account: TemplateParamSpec = {
  name: 'account',
  description: 'AWS account ID',
  required: true,
  context: 'account',
};
const region: TemplateParamSpec = {
  name: 'region',
  description: 'AWS region',
  required: true,
  context: 'region',
};
const bucket: TemplateParamSpec = { name: 'bucket', description: 'S3 bucket name', required: true };

export const POLICY_TEMPLATES: readonly PolicyTemplateInfo[] = [
  {
    name: 's3-deploy',
    description: 'Sync files to one S3 bucket (list, get, put, delete objects)',
    params: [partition, bucket],
  },
  {
    name: 'ecr-push',
    description: 'Log in to ECR and push/pull images of one repository',
    params: [
      partition,
      region,
      account,
      { name: 'repository', description: 'ECR repository name', required: true },
    ],
  },
  {
    name: 'terraform-state',
    description: 'Terraform S3 backend: state objects under a key prefix, optional DynamoDB lock table',
    params: [
      partition,
      { ...region, required: false },
      { ...account, required: false },
      bucket,
      { name: 'keyPrefix', description: 'state key prefix, e.g. envs/prod/', required: false, default: '' },
      {
        name: 'lockTable',
        description: 'DynamoDB lock table; omit it with use_lockfile (Terraform 1.10+)',
        required: false,
        omittable: true,
      },
    ],
  },
  {
    name: 'read-only',
    description:
      'View metadata (Describe/List) of common services; no data reads (no S3 objects, no secrets)',
    params: [],
  },
];

export function findPolicyTemplate(name: string): PolicyTemplateInfo | undefined {
  return POLICY_TEMPLATES.find((t) => t.name === name);
}

/** Placeholder names in a template's text, unique, in order of appearance. */
export function listTemplateParams(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z][A-Za-z0-9]*)\}/g)].map((m) => m[1]!))];
}

const S3_RESERVED = /^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/;

/** S3 general purpose bucket naming rules. Returns an error message or undefined. */
export function checkBucketName(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'must be 3-63 characters';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    return 'may only hold lower-case letters, digits, "." and "-", starting and ending with a letter or digit';
  }
  if (name.includes('..')) return 'must not contain ".."';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'must not look like an IP address';
  if (S3_RESERVED.test(name)) return 'uses a prefix or suffix S3 reserves';
  return undefined;
}

/** ECR repository name: lower-case path components separated by `/`, 2-256 characters. */
export function checkEcrRepositoryName(name: string): string | undefined {
  if (name.length < 2 || name.length > 256) return 'must be 2-256 characters';
  if (!/^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name)) {
    return 'must be lower-case letters and digits, separated by ".", "_", "-" or "/"';
  }
  return undefined;
}

const CHECKS: Record<string, (value: string) => string | undefined> = {
  bucket: checkBucketName,
  repository: checkEcrRepositoryName,
  partition: (v) =>
    /^aws(-[a-z]+)*$/.test(v) ? undefined : 'is not an AWS partition (aws, aws-cn, aws-us-gov, …)',
  account: (v) => (/^\d{12}$/.test(v) ? undefined : 'must be a 12-digit account ID'),
  region: (v) => (/^[a-z]{2}(-[a-z]+)+-\d+$/.test(v) ? undefined : 'is not a region name like eu-west-1'),
  keyPrefix: (v) =>
    /^(?:[A-Za-z0-9!_.'()=-]+\/)*(?:[A-Za-z0-9!_.'()=-]+\/?)?$/.test(v) && !v.startsWith('/')
      ? undefined
      : "must be a key prefix like envs/prod/ (letters, digits, ! _ . ' ( ) = - and /, no wildcards)",
  lockTable: (v) =>
    /^[A-Za-z0-9_.-]{3,255}$/.test(v) ? undefined : 'must be 3-255 characters of letters, digits, _ . -',
};

/** The rule for one template parameter's value (bucket, repository, …): an error message or undefined. */
export function checkTemplateParam(name: string, value: string): string | undefined {
  return CHECKS[name]?.(value);
}

function substitute(value: unknown, values: Map<string, string>): unknown {
  if (typeof value === 'string')
    return value.replace(/\$\{([A-Za-z][A-Za-z0-9]*)\}/g, (m, p: string) => values.get(p) ?? m);
  if (Array.isArray(value)) return value.map((v) => substitute(v, values));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, values)]));
  }
  return value;
}

/**
 * Renders a template into a validated permission policy. Unknown, missing or invalid parameters
 * give a UsageError naming --template-param. `context` fills partition/account/region by default.
 */
export function renderPolicyTemplate(
  name: string,
  text: string,
  params: Readonly<Record<string, string>>,
  context: TemplateContext = {},
): PolicyDocument {
  const info = findPolicyTemplate(name);
  if (!info) {
    throw UsageError.field(
      '--template',
      `unknown template "${name}"`,
      `Choose one of: ${POLICY_TEMPLATES.map((t) => t.name).join(', ')}.`,
    );
  }
  const accepted = info.params.map((p) => p.name);
  const undeclared = listTemplateParams(text).filter((p) => !accepted.includes(p));
  if (undeclared.length) {
    throw new CliError(
      'TEMPLATE_INVALID',
      `Template ${name} uses undeclared parameter(s): ${undeclared.join(', ')}.`,
    );
  }
  const acceptedText = accepted.length ? accepted.join(', ') : 'none';
  for (const key of Object.keys(params)) {
    if (!accepted.includes(key)) {
      throw UsageError.field(
        FIELD,
        `unknown parameter "${key}" for template ${name} (accepted: ${acceptedText})`,
      );
    }
  }
  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const spec of info.params) {
    const value = params[spec.name] ?? (spec.context ? context[spec.context] : undefined) ?? spec.default;
    if (value === undefined) {
      if (spec.required) missing.push(spec.name);
      continue;
    }
    const problem = CHECKS[spec.name]?.(value);
    if (problem) throw UsageError.field(FIELD, `${spec.name}="${value}" ${problem}`);
    values.set(spec.name, value);
  }
  const parsed = parsePolicyJson(text, `template ${name}`);
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
  const mentions = (st: unknown, p: string) => JSON.stringify(st).includes(`\${${p}}`);
  const omitted = info.params.filter((p) => p.omittable && !values.has(p.name)).map((p) => p.name);
  const kept = statements.filter((st) => !omitted.some((p) => mentions(st, p)));
  for (const spec of info.params) {
    if (
      !values.has(spec.name) &&
      !missing.includes(spec.name) &&
      kept.some((st) => mentions(st, spec.name))
    ) {
      missing.push(spec.name);
    }
  }
  if (missing.length) {
    throw UsageError.field(
      FIELD,
      `template ${name} needs ${missing.join(', ')}`,
      `Pass ${missing.map((m) => `--template-param ${m}=<${m}>`).join(' ')}.`,
    );
  }
  const rendered = substitute({ ...parsed, Statement: kept }, values);
  return validatePermissionPolicy(rendered, `--template ${name}`);
}
