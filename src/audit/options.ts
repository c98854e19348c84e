/**
 * `audit` options: the contract between flags and runAudit. Parsed before any I/O.
 */
import * as z from 'zod';
import { SEVERITIES } from '../core/lint.js';
import type { FleetTargets, RawFleetFlags } from '../fleet/command-selection.js';
import { gitlabApiUrlField, gitlabTokenEnvField, gitlabUrlField } from '../options/fields.js';
import { parseOptions } from '../options/zod-issues.js';

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const FORMATS = ['table', 'json', 'sarif'] as const;

export const AuditOptionsSchema = z.object({
  /** Audit this role only. */
  role: z
    .string()
    .regex(ROLE_NAME, 'must be an IAM role name: 1-64 characters of letters, digits and +=,.@_-')
    .optional(),
  /** Lint this trust policy file offline (no AWS call). */
  policyFile: z.string().min(1, 'must name a file').optional(),
  /** Output: a table (default), one JSON document, or SARIF 2.1.0. */
  format: z.enum(FORMATS).default('table'),
  /** Exit 1 when a finding is at least this severe (critical > high > functional > medium > low). */
  failOn: z.enum(SEVERITIES).optional(),
  /** For --policy-file: the role can change things (any-ref is high) or is read-only (medium). */
  writeRole: z.boolean().optional(),
  region: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
  /** Per-role reads in flight. */
  concurrency: z.number().int().min(1).max(32).default(8),
  /** The GitLab instance whose protection rules confirm or clear GAO010/GAO012 (with a token). */
  gitlabUrl: gitlabUrlField(),
  gitlabTokenEnv: gitlabTokenEnvField().optional(),
  gitlabApiUrl: gitlabApiUrlField().optional(),
});

export type AuditOptions = z.output<typeof AuditOptionsSchema> & {
  /** --group/--config: only the roles that trust these projects (resolved before any AWS call). */
  targets?: FleetTargets | undefined;
};

export interface RawAuditFlags extends RawFleetFlags {
  role?: string;
  policyFile?: string;
  format?: string;
  json?: boolean;
  failOn?: string;
  writeRole?: boolean;
  readOnlyRole?: boolean;
  region?: string;
  profile?: string;
  gitlabUrl?: string;
  gitlabTokenEnv?: string;
  gitlabApiUrl?: string;
}

const FlagsSchema = z
  .object({
    role: z.string().optional(),
    policyFile: z.string().optional(),
    format: z.string().optional(),
    json: z.boolean().optional(),
    writeRole: z.boolean().optional(),
    readOnlyRole: z.boolean().optional(),
  })
  .passthrough()
  .superRefine((f, ctx) => {
    if (f.role !== undefined && f.policyFile !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['policyFile'],
        message: 'cannot be combined with --role (a file is linted offline)',
      });
    if (f.json && f.format !== undefined && f.format !== 'json')
      ctx.addIssue({
        code: 'custom',
        path: ['json'],
        message: `cannot be combined with --format ${f.format}`,
      });
    if (f.writeRole && f.readOnlyRole)
      ctx.addIssue({
        code: 'custom',
        path: ['writeRole'],
        message: 'cannot be combined with --read-only-role',
      });
    if ((f.writeRole || f.readOnlyRole) && f.policyFile === undefined)
      ctx.addIssue({
        code: 'custom',
        path: [f.writeRole ? 'writeRole' : 'readOnlyRole'],
        message: 'only applies with --policy-file (in the account the role’s policies tell)',
      });
  });

/** commander flags → validated options (one UsageError listing every bad flag). */
export function parseAuditFlags(flags: RawAuditFlags): AuditOptions {
  parseOptions(FlagsSchema, flags, 'audit options');
  return parseOptions(
    AuditOptionsSchema,
    {
      role: flags.role,
      policyFile: flags.policyFile,
      format: flags.json ? 'json' : flags.format,
      failOn: flags.failOn,
      writeRole: flags.writeRole ? true : flags.readOnlyRole ? false : undefined,
      region: flags.region,
      profile: flags.profile,
      gitlabUrl: flags.gitlabUrl ?? 'https://gitlab.com',
      gitlabTokenEnv: flags.gitlabTokenEnv,
      gitlabApiUrl: flags.gitlabApiUrl,
    },
    'audit options',
  );
}
