/**
 * `init --ci-variables`: the role ARN and the region as project CI/CD variables, read by the role's
 * hidden job, instead of literals in `.gitlab-ci.yml`. Pure: current variables + desired → steps.
 *
 * Keys. GitLab gives project variables precedence over the `variables:` of a job in `.gitlab-ci.yml`, so
 * a project variable named `AWS_ROLE_ARN` (or `AWS_REGION`) would override the hidden job of every other
 * role in the file, and every job of the user's that sets its own region. So the tool never sets those
 * names at project level: each role's hidden job maps its own keys, named after the job, onto them:
 *   `.aws-oidc`          ← AWS_OIDC_ROLE_ARN,         AWS_OIDC_REGION
 *   `.aws-oidc-<role>`   ← AWS_OIDC_ROLE_ARN_<ROLE>,  AWS_OIDC_REGION_<ROLE>
 * (`<ROLE>`: the role name upper-cased, every character outside [A-Z0-9_] as `_`). A job that extends
 * the hidden job can still set its own AWS_REGION, as today.
 *
 * Ownership. A variable the tool writes carries a description that starts with "Managed by
 * gitlab-aws-oidc" and names the hidden job it is for. A variable of the same key without it (set by
 * hand) is changed only with consent (`--overwrite-drift`, or a "yes"); one that the tool wrote for
 * another job (two role names that map to the same key) is refused.
 *
 * Protection. A protected variable is only given to pipelines on protected refs: on any other allowed
 * ref `$AWS_OIDC_ROLE_ARN` would silently be empty. So it is protected only when every allowed ref is
 * known to be protected.
 */
import type { ConsentItem } from '../core/types.js';
import { UsageError } from '../errors.js';
import type { CiVariable, CiVariableInput } from '../gitlab/api/ports.js';
import type { GitlabStep } from '../gitlab/api/steps.js';
import { type CiJobNames, type CiVariableKeys, HIDDEN_JOB_NAME, MANAGED_MARKER } from '../render/ci-file.js';

export const ROLE_ARN_KEY = 'AWS_OIDC_ROLE_ARN';
export const REGION_KEY = 'AWS_OIDC_REGION';
/** The only scope the tool writes (GitLab's default: every environment). */
export const ALL_ENVIRONMENTS = '*';

/** Project-level variables that would override the hidden job's (or the web identity) in every job. */
const OVERRIDING_KEYS = [
  'AWS_ROLE_ARN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
];

/** The keys the hidden job `jobNames.hidden` reads. */
export function ciVariableKeys(jobNames: Pick<CiJobNames, 'hidden'>): CiVariableKeys {
  const hidden = jobNames.hidden;
  const suffix = hidden === HIDDEN_JOB_NAME ? '' : hidden.slice(HIDDEN_JOB_NAME.length + 1);
  const tail = suffix ? `_${suffix.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}` : '';
  return { roleArn: `${ROLE_ARN_KEY}${tail}`, region: `${REGION_KEY}${tail}` };
}

const DESCRIPTION_PREFIX = `${MANAGED_MARKER[0]!.toUpperCase()}${MANAGED_MARKER.slice(1)}`;

/** The description the tool writes: its marker, what the value is and the job that reads it. */
export function variableDescription(
  what: 'role ARN' | 'region',
  hiddenJob: string,
  roleName: string,
): string {
  return `${DESCRIPTION_PREFIX}: the ${what} for jobs that extend ${hiddenJob} (role ${roleName}); rewritten by every init --ci-variables run.`;
}

/** Written by the tool (its marker opens the description). */
export function isToolVariable(variable: Pick<CiVariable, 'description'>): boolean {
  return (variable.description ?? '').trimStart().toLowerCase().startsWith(MANAGED_MARKER);
}

/** The hidden job a tool-written variable is for (from its description). */
export function variableJob(variable: Pick<CiVariable, 'description'>): string | undefined {
  return /\bjobs that extend (\S+) /.exec(variable.description ?? '')?.[1];
}

export interface DesiredVariablesInput {
  jobNames: Pick<CiJobNames, 'hidden'>;
  roleArn: string;
  region: string;
  /** Every allowed ref is protected (true only when the GitLab lookup says so). */
  refsProtected: boolean;
}

/** The two variables one role's hidden job reads. */
export function desiredVariables(input: DesiredVariablesInput): CiVariableInput[] {
  const keys = ciVariableKeys(input.jobNames);
  const roleName = input.roleArn.slice(input.roleArn.lastIndexOf('/') + 1);
  const base = {
    variableType: 'env_var' as const,
    protected: input.refsProtected,
    // Neither is a secret (they are in every job log as the role assumed), and masking would hide them
    // from the people who debug the pipeline.
    masked: false,
    // Taken as written: no `$` expansion inside the value.
    raw: true,
    environmentScope: ALL_ENVIRONMENTS,
  };
  return [
    {
      ...base,
      key: keys.roleArn,
      value: input.roleArn,
      description: variableDescription('role ARN', input.jobNames.hidden, roleName),
    },
    {
      ...base,
      key: keys.region,
      value: input.region,
      description: variableDescription('region', input.jobNames.hidden, roleName),
    },
  ];
}

export interface VariablesPlan {
  steps: Extract<GitlabStep, { kind: 'createVariable' | 'updateVariable' }>[];
  /** Changes to variables the tool did not write: applied only with consent. */
  consents: ConsentItem[];
  warnings: string[];
  /** One line on why the variables are (not) protected, for the plan. */
  protection: string;
}

type VariableShape = Omit<CiVariableInput, 'value'> & { value?: string | undefined };

function shapeOf(v: CiVariable): VariableShape {
  return {
    key: v.key,
    value: v.value,
    variableType: v.variableType,
    protected: v.protected,
    masked: v.masked,
    raw: v.raw,
    environmentScope: v.environmentScope,
    description: v.description ?? undefined,
  };
}

/** The fields that differ (value last), as `field: from → to`. */
export function variableChanges(from: VariableShape, to: CiVariableInput): string[] {
  const out: string[] = [];
  const fields = ['variableType', 'protected', 'masked', 'raw', 'description'] as const;
  for (const f of fields) {
    if ((from[f] ?? undefined) !== (to[f] ?? undefined)) {
      out.push(`${f}: ${JSON.stringify(from[f] ?? null)} → ${JSON.stringify(to[f] ?? null)}`);
    }
  }
  if (from.value !== to.value) {
    const shown = from.masked || from.value === undefined ? '(masked)' : JSON.stringify(from.value);
    out.push(`value: ${shown} → ${JSON.stringify(to.value)}`);
  }
  return out;
}

/**
 * Plans the project variables: none when every desired variable is there as desired (a re-run);
 * `createVariable` for a missing one; `updateVariable` (with `from`) for one that differs.
 * Throws a UsageError for a key another role's job already uses, or a hidden variable (its value
 * cannot be read nor compared).
 */
export function planVariables(
  project: number,
  current: readonly CiVariable[],
  desired: readonly CiVariableInput[],
  opts: { refs: string[]; unprotectedRefs: string[] },
): VariablesPlan {
  const steps: VariablesPlan['steps'] = [];
  const consents: ConsentItem[] = [];
  const warnings: string[] = [];
  for (const want of desired) {
    const scope = want.environmentScope ?? ALL_ENVIRONMENTS;
    const sameKey = current.filter((v) => v.key === want.key);
    const have = sameKey.find((v) => v.environmentScope === scope);
    for (const other of sameKey.filter((v) => v !== have)) {
      warnings.push(
        `CI/CD variable ${want.key} also exists for environment scope "${other.environmentScope}": jobs in those environments get that value instead; gitlab-aws-oidc leaves it as it is.`,
      );
    }
    if (!have) {
      steps.push({ kind: 'createVariable', project, variable: want });
      continue;
    }
    const wantJob = variableJob(want);
    const haveJob = variableJob(have);
    if (isToolVariable(have) && haveJob !== undefined && wantJob !== undefined && haveJob !== wantJob) {
      throw new UsageError(
        `CI/CD variable ${want.key} is already the one of ${haveJob}, another role's jobs (their role names differ only in characters a variable key cannot hold)`,
        [{ field: '--role-name', message: `maps to the CI/CD variable ${want.key}, taken by ${haveJob}` }],
        { hint: 'Give this role a --role-name that differs in letters or digits, or drop --ci-variables.' },
      );
    }
    if (have.hidden) {
      throw new UsageError(
        `CI/CD variable ${want.key} is hidden (masked and hidden): GitLab never returns its value, so it cannot be compared or changed`,
        [{ field: '--ci-variables', message: `${want.key} exists as a hidden variable` }],
        {
          hint: `Delete ${want.key} in Settings > CI/CD > Variables (the role ARN is no secret), then re-run.`,
        },
      );
    }
    const from = shapeOf(have);
    const changes = variableChanges(from, want);
    if (changes.length === 0) continue;
    steps.push({ kind: 'updateVariable', project, variable: want, from });
    if (!isToolVariable(have)) {
      consents.push({
        consent: 'overwrite-drift',
        resource: `CI/CD variable ${want.key}`,
        field: 'variable',
        message: `CI/CD variable ${want.key} was not set by gitlab-aws-oidc (its description has no "${DESCRIPTION_PREFIX}" marker): ${changes.join('; ')}`,
      });
    }
  }
  for (const key of OVERRIDING_KEYS) {
    if (current.some((v) => v.key === key)) {
      warnings.push(
        `The project sets the CI/CD variable ${key}: project variables override the variables: of every job, the hidden job's included; remove it from Settings > CI/CD > Variables unless you mean that.`,
      );
    }
  }
  const protection = desired.some((d) => d.protected)
    ? `protected: every allowed ref (${opts.refs.join(', ')}) is protected`
    : opts.unprotectedRefs.length
      ? `not protected: ${opts.unprotectedRefs.join(', ')} ${opts.unprotectedRefs.length === 1 ? 'is' : 'are'} not protected, and a protected variable is empty in pipelines on an unprotected ref`
      : 'not protected: whether every allowed ref is protected is not known, and a protected variable is empty in pipelines on an unprotected ref';
  return { steps, consents, warnings, protection };
}

/** `{ key: value }` of the project's variables (scope `*`), for hidden jobs that read the role ARN from one. */
export function variableValues(current: readonly CiVariable[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of current) {
    if (v.environmentScope === ALL_ENVIRONMENTS && v.value !== undefined) out[v.key] = v.value;
  }
  return out;
}
