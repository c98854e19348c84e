/**
 * Several roles in one pipeline file (a prod/dev split with --role-name): each role has its own jobs.
 *
 * The rule, in order:
 * 1. a hidden job (`.aws-oidc` or `.aws-oidc-<suffix>`) whose AWS_ROLE_ARN names this role is this role's:
 *    a re-run updates those jobs and no others;
 * 2. otherwise, a file without `.aws-oidc` gets the plain names (`.aws-oidc`, `aws-oidc-check`,
 *    `aws-oidc-verify`), so a single-role pipeline and every `extends: .aws-oidc` stay as they are;
 * 3. otherwise `.aws-oidc` belongs to another role, and this one gets `.aws-oidc-<role-name>`,
 *    `aws-oidc-check-<role-name>` and `aws-oidc-verify-<role-name>`.
 * A role is its name in its account (role names are unique per account, case-insensitively); the path
 * is not part of it.
 */
import { isMap } from 'yaml';
import { UsageError } from '../errors.js';
import { CHECK_JOB_NAME, type CiJobNames, HIDDEN_JOB_NAME, jobNamesFor, VERIFY_JOB_NAME } from './ci-file.js';
import { asRecord, parseCiDocument } from './ci-yaml.js';

export type CiJobKind = 'hidden' | 'check' | 'verify';

/** The jobs of one role found in a pipeline file. */
export interface CiRoleJobs {
  names: CiJobNames;
  /** The role-name suffix of the names; undefined for the plain names. */
  suffix: string | undefined;
  /** AWS_ROLE_ARN of the hidden job, when it is a string. */
  roleArn: string | undefined;
}

const PREFIXES: [CiJobKind, string][] = [
  ['hidden', HIDDEN_JOB_NAME],
  ['check', CHECK_JOB_NAME],
  ['verify', VERIFY_JOB_NAME],
];

/** Which of the tool's jobs a top-level key would be, by name alone (ownership is checked elsewhere). */
export function parseJobName(name: string): { kind: CiJobKind; suffix: string | undefined } | undefined {
  for (const [kind, prefix] of PREFIXES) {
    if (name === prefix) return { kind, suffix: undefined };
    if (name.startsWith(`${prefix}-`) && name.length > prefix.length + 1) {
      return { kind, suffix: name.slice(prefix.length + 1) };
    }
  }
  return undefined;
}

/** `arn:<partition>:iam::<account>:role/<path/><name>` → account and name; undefined for anything else. */
export function parseRoleArn(arn: string): { account: string; name: string } | undefined {
  const m = /^arn:[a-z-]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m ? { account: m[1]!, name: m[2]! } : undefined;
}

/** Same role: same name (IAM compares role names case-insensitively) in the same account (unless `anyAccount`). */
export function isSameRole(a: string, b: string, anyAccount = false): boolean {
  const x = parseRoleArn(a);
  const y = parseRoleArn(b);
  if (!x || !y) return false;
  return x.name.toLowerCase() === y.name.toLowerCase() && (anyAccount || x.account === y.account);
}

/** `$KEY` or `${KEY}`: a job variable that only names another variable. */
const VARIABLE_REFERENCE = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/;

/** The key a job variable's value names (`$AWS_OIDC_ROLE_ARN` → `AWS_OIDC_ROLE_ARN`), if it only names one. */
export function variableReference(value: string): string | undefined {
  const m = VARIABLE_REFERENCE.exec(value);
  return m ? (m[1] ?? m[2]) : undefined;
}

/**
 * Every hidden job with one of the tool's names, whoever wrote it, in file order. With `variables`
 * (the project's CI/CD variables, `--ci-variables`), an AWS_ROLE_ARN that reads one (`$KEY`) is its value.
 */
export function findRoleJobs(
  js: Record<string, unknown>,
  variables?: Readonly<Record<string, string>> | undefined,
): CiRoleJobs[] {
  const out: CiRoleJobs[] = [];
  for (const [name, value] of Object.entries(js)) {
    const parsed = parseJobName(name);
    if (parsed?.kind !== 'hidden') continue;
    let arn = asRecord(asRecord(value)?.variables)?.AWS_ROLE_ARN;
    const key = typeof arn === 'string' ? variableReference(arn) : undefined;
    if (key !== undefined) arn = variables?.[key];
    out.push({
      names: jobNamesFor(parsed.suffix),
      suffix: parsed.suffix,
      roleArn: typeof arn === 'string' ? arn : undefined,
    });
  }
  return out;
}

export interface JobNamesChoice {
  names: CiJobNames;
  /** The file already has this role's hidden job (a re-run), rather than getting it now. */
  found: boolean;
  /** The hidden jobs of other roles in the file: left as they are. */
  others: (CiRoleJobs & { roleArn: string })[];
}

/**
 * The names this role's jobs get in `existingText` (undefined: no file yet). `anyAccount` while the
 * account is not known yet (the preflight before any AWS call). Throws a UsageError when the suffixed
 * names are taken by another role of the same name (another account).
 */
export function chooseJobNames(
  existingText: string | undefined,
  roleArn: string,
  opts: {
    anyAccount?: boolean | undefined;
    fileName?: string | undefined;
    /** The project's CI/CD variables, for hidden jobs that read the role ARN from one. */
    variables?: Readonly<Record<string, string>> | undefined;
  } = {},
): JobNamesChoice {
  const plain = jobNamesFor();
  if (existingText === undefined) return { names: plain, found: false, others: [] };
  const doc = parseCiDocument(existingText.replace(/^\uFEFF/, ''));
  // Invalid files are reported by the merge.
  if (doc.errors.length || !isMap(doc.contents)) return { names: plain, found: false, others: [] };
  let js: Record<string, unknown>;
  try {
    js = (doc.toJS({ maxAliasCount: 1000 }) ?? {}) as Record<string, unknown>;
  } catch {
    return { names: plain, found: false, others: [] };
  }
  const groups = findRoleJobs(js, opts.variables);
  const mine = groups.find((g) => g.roleArn !== undefined && isSameRole(g.roleArn, roleArn, opts.anyAccount));
  const others = groups.filter(
    (g): g is CiRoleJobs & { roleArn: string } =>
      g !== mine && g.roleArn !== undefined && parseRoleArn(g.roleArn) !== undefined,
  );
  if (mine) return { names: mine.names, found: true, others };
  const holder = groups.find((g) => g.suffix === undefined);
  if (!holder || holder.roleArn === undefined || parseRoleArn(holder.roleArn) === undefined) {
    return { names: plain, found: false, others };
  }
  const roleName = parseRoleArn(roleArn)?.name;
  if (roleName === undefined) return { names: plain, found: false, others };
  const names = jobNamesFor(roleName);
  const taken = others.find((g) => g.names.hidden === names.hidden);
  if (taken) {
    const fileName = opts.fileName ?? '.gitlab-ci.yml';
    throw new UsageError(
      `${fileName} already has "${names.hidden}" for ${taken.roleArn}, another role named ${roleName} (another account); the jobs for ${roleArn} need other names`,
      [
        {
          field: '--role-name',
          message: `"${roleName}" is taken in ${fileName} by a role of another account`,
        },
      ],
      { hint: 'Give this role another --role-name, or use another --ci-file for this account.' },
    );
  }
  return { names, found: false, others };
}
