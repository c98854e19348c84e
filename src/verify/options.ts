/**
 * The contract of `verify`: raw flags + environment → resolved options (zod), before any I/O.
 * Precedence: flag → environment (AWS_ROLE_ARN, the token variable, AWS_WEB_IDENTITY_TOKEN_FILE,
 * AWS_ROLE_SESSION_NAME, CI_* for the session name) → default → a usage error naming the flag.
 */
import * as z from 'zod';
import { parseIssuerUrl } from '../core/issuer.js';
import { validateProjectPath, validateRefName } from '../core/refs.js';
import { UsageError } from '../errors.js';
import { gitlabApiUrlField, gitlabTokenEnvField } from '../options/fields.js';
import { parseOptions, refineWith } from '../options/zod-issues.js';
import { DEFAULT_TOKEN_VARIABLE, TOKEN_FILE_VARIABLE } from '../render/ci-file.js';

/** Raw commander flags (camelCase). */
export interface RawVerifyFlags {
  roleArn?: string;
  tokenEnv?: string;
  token?: string;
  claims?: string;
  project?: string;
  projectId?: string;
  namespaceId?: string;
  branch?: string;
  tag?: string;
  refProtected?: boolean;
  audience?: string;
  gitlabUrl?: string;
  expectDeny?: boolean;
  /** `--no-assume` sets it to false. */
  assume?: boolean;
  sessionName?: string;
  timeout?: string;
  region?: string;
  profile?: string;
  json?: boolean;
  gitlabTokenEnv?: string;
  gitlabApiUrl?: string;
}

export const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMERIC_ID = /^[1-9]\d{0,19}$/;
const REGION = /^[a-z]{2,}(?:-[a-z]+)+-\d{1,2}$/;
export const DEFAULT_TIMEOUT_SECONDS = 60;
export const MAX_TIMEOUT_SECONDS = 900;

/** A regex check whose failure names the flag (nested fields would otherwise be reported by path). */
function matching(flag: string, re: RegExp, message: string) {
  return refineWith((v: string) => {
    if (!re.test(v)) throw UsageError.field(flag, message);
  });
}

const tokenSource = z.discriminatedUnion('kind', [
  /** `--token FILE`. */
  z.object({
    kind: z.literal('file'),
    path: z.string().superRefine(matching('--token', /./, 'must not be empty')),
    flag: z.string(),
  }),
  /** `--token -`. */
  z.object({ kind: z.literal('stdin') }),
  /** `--token-env NAME` or the default variable. */
  z.object({
    kind: z.literal('env'),
    name: z
      .string()
      .superRefine(matching('--token-env', ENV_NAME_RE, 'must be an environment variable name')),
  }),
]);

/** A simulated job's ref: one real branch or tag name (git refs never hold `*` or `?`). */
function validateJobRef(value: string, field: '--branch' | '--tag'): string {
  validateRefName(value, field);
  if (/[*?]/.test(value)) {
    throw UsageError.field(
      field,
      `"${value}" is a pattern; a job runs on one ${field.slice(2)}`,
      `Give a name it matches, e.g. ${value.replace(/[*?]/g, 'x')}.`,
    );
  }
  return value;
}

const simulatedJob = z.object({
  project: z.string().superRefine(refineWith((v: string) => validateProjectPath(v))),
  branch: z
    .string()
    .superRefine(refineWith((v: string) => validateJobRef(v, '--branch')))
    .optional(),
  tag: z
    .string()
    .superRefine(refineWith((v: string) => validateJobRef(v, '--tag')))
    .optional(),
  projectId: z
    .string()
    .superRefine(matching('--project-id', NUMERIC_ID, 'must be a numeric project ID'))
    .optional(),
  namespaceId: z
    .string()
    .superRefine(matching('--namespace-id', NUMERIC_ID, 'must be a numeric namespace ID'))
    .optional(),
  refProtected: z.boolean().optional(),
});

export const verifyOptionsSchema = z.object({
  roleArn: z
    .string({ error: 'missing: give --role-arn or set AWS_ROLE_ARN' })
    .regex(ROLE_ARN_RE, 'must be a role ARN such as arn:aws:iam::123456789012:role/gitlab-oidc/app'),
  /** Where the claims come from: a real token, `--claims`, or `--project` + `--branch`/`--tag`. */
  input: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('token'), source: tokenSource }),
    z.object({
      kind: z.literal('claims'),
      claims: z.string().superRefine(matching('--claims', /\S/, 'must not be empty')),
    }),
    z.object({ kind: z.literal('job'), job: simulatedJob }),
  ]),
  audience: z.string().min(1).max(255).optional(),
  gitlabUrl: z
    .string()
    .superRefine(refineWith((v: string) => parseIssuerUrl(v)))
    .optional(),
  expectDeny: z.boolean(),
  /** Call AssumeRoleWithWebIdentity (token input only). */
  assume: z.boolean(),
  sessionName: z
    .string()
    .regex(/^[\w+=,.@-]{2,64}$/, 'must be 2-64 characters of letters, digits and +=,.@_-'),
  timeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(MAX_TIMEOUT_SECONDS * 1000),
  region: z.string().regex(REGION, 'must be an AWS region such as us-east-1').optional(),
  profile: z.string().min(1).optional(),
  json: z.boolean(),
  /** The GitLab API token's variable and API base, for `--project` lookups. */
  gitlabTokenEnv: gitlabTokenEnvField().optional(),
  gitlabApiUrl: gitlabApiUrlField().optional(),
});

export type VerifyOptions = z.output<typeof verifyOptionsSchema>;
export type TokenSource = z.output<typeof tokenSource>;
export type SimulatedJobOptions = z.output<typeof simulatedJob>;

/** A valid STS session name (`[\w+=,.@-]`, 2–64 chars) from whatever text. */
export function sanitizeSessionName(raw: string): string {
  let name = raw.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  if (name.length < 2) name = `${name}--`.slice(0, 2);
  return name;
}

/** `--session-name`, else AWS_ROLE_SESSION_NAME, else derived from the GitLab job, else a timestamp. */
export function defaultSessionName(env: NodeJS.ProcessEnv, now: Date): string {
  if (env.AWS_ROLE_SESSION_NAME) return sanitizeSessionName(env.AWS_ROLE_SESSION_NAME);
  if (env.CI_JOB_ID) return sanitizeSessionName(`gitlab-${env.CI_PROJECT_ID ?? 'project'}-${env.CI_JOB_ID}`);
  return sanitizeSessionName(`gitlab-aws-oidc-verify-${Math.floor(now.getTime() / 1000)}`);
}

function resolveInput(flags: RawVerifyFlags, env: NodeJS.ProcessEnv): unknown {
  const simulated = flags.claims !== undefined || flags.project !== undefined;
  if (flags.claims !== undefined && flags.project !== undefined) {
    throw UsageError.field('--claims', 'give either --claims or --project/--branch/--tag, not both');
  }
  if (simulated && (flags.token !== undefined || flags.tokenEnv !== undefined)) {
    throw UsageError.field(
      flags.token !== undefined ? '--token' : '--token-env',
      'a real token and simulated claims (--claims/--project) cannot be combined',
    );
  }
  if (flags.project === undefined) {
    for (const f of ['branch', 'tag', 'projectId', 'namespaceId', 'refProtected'] as const) {
      if (flags[f] !== undefined) {
        const flag = `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
        throw UsageError.field(flag, 'only applies with --project (a simulated job)');
      }
    }
  }
  if (flags.claims !== undefined) return { kind: 'claims', claims: flags.claims };
  if (flags.project !== undefined) {
    if ((flags.branch === undefined) === (flags.tag === undefined)) {
      throw UsageError.field('--branch', 'give exactly one of --branch or --tag with --project');
    }
    return {
      kind: 'job',
      job: {
        project: flags.project,
        branch: flags.branch,
        tag: flags.tag,
        projectId: flags.projectId,
        namespaceId: flags.namespaceId,
        refProtected: flags.refProtected,
      },
    };
  }
  if (flags.token !== undefined && flags.tokenEnv !== undefined) {
    throw UsageError.field('--token', 'give either --token or --token-env, not both');
  }
  if (flags.token === '-') return { kind: 'token', source: { kind: 'stdin' } };
  if (flags.token !== undefined)
    return { kind: 'token', source: { kind: 'file', path: flags.token, flag: '--token' } };
  if (flags.tokenEnv !== undefined) return { kind: 'token', source: { kind: 'env', name: flags.tokenEnv } };
  if (env[DEFAULT_TOKEN_VARIABLE])
    return { kind: 'token', source: { kind: 'env', name: DEFAULT_TOKEN_VARIABLE } };
  const file = env[TOKEN_FILE_VARIABLE];
  if (file) return { kind: 'token', source: { kind: 'file', path: file, flag: TOKEN_FILE_VARIABLE } };
  throw new UsageError(
    'No token and no claims to check.',
    [
      {
        field: '--token',
        message: `give --token FILE|-, --token-env NAME, set ${DEFAULT_TOKEN_VARIABLE} or ${TOKEN_FILE_VARIABLE}, or simulate a job with --claims or --project/--branch`,
      },
    ],
    {
      hint: 'On a laptop, simulate a job: verify --role-arn ARN --project grp/app --branch main',
    },
  );
}

function parseTimeout(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  if (!/^\d+$/.test(raw.trim()))
    throw UsageError.field('--timeout', `"${raw}" is not a whole number of seconds`);
  const seconds = Number(raw.trim());
  // 0 would give up on the first refusal, before a just-created role could propagate.
  if (seconds < 1) throw UsageError.field('--timeout', 'must be at least 1 second');
  if (seconds > MAX_TIMEOUT_SECONDS)
    throw UsageError.field('--timeout', `must be at most ${MAX_TIMEOUT_SECONDS} seconds`);
  return seconds * 1000;
}

/** Raw flags + environment → validated options. Throws one UsageError listing every problem. */
export function resolveVerifyOptions(
  flags: RawVerifyFlags,
  env: NodeJS.ProcessEnv,
  now: Date = new Date(),
): VerifyOptions {
  const input = resolveInput(flags, env);
  const candidate = {
    roleArn: flags.roleArn ?? (env.AWS_ROLE_ARN || undefined),
    input,
    audience: flags.audience,
    gitlabUrl: flags.gitlabUrl,
    expectDeny: flags.expectDeny ?? false,
    assume: flags.assume ?? true,
    sessionName: flags.sessionName ?? defaultSessionName(env, now),
    timeoutMs: parseTimeout(flags.timeout),
    region: flags.region ?? (env.AWS_REGION || undefined),
    profile: flags.profile,
    json: flags.json ?? false,
    gitlabTokenEnv: flags.gitlabTokenEnv,
    gitlabApiUrl: flags.gitlabApiUrl,
  };
  return parseOptions(verifyOptionsSchema, candidate, 'verify options', {
    input: '--token',
    timeoutMs: '--timeout',
    gitlabTokenEnv: '--gitlab-token-env',
    gitlabApiUrl: '--gitlab-api-url',
  });
}
