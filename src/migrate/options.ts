/**
 * `migrate` options: the contract between flags and runMigrateFind. Parsed before any I/O.
 */
import * as z from 'zod';
import { validateGroupPath } from '../core/refs.js';
import {
  gitlabApiUrlField,
  gitlabTokenEnvField,
  gitlabUrlField,
  projectPathField,
} from '../options/fields.js';
import type { RawGitlabApiFlags } from '../options/gitlab-api.js';
import { parseOptions, refineWith } from '../options/zod-issues.js';
import { MIGRATE_APPLY_FIELDS, type RawMigrateApplyFlags, refineApplyOptions } from './apply-options.js';

/** `--group g/sub`: a literal group path (core/refs.ts validateGroupPath). */
const groupPathField = () =>
  z
    .string()
    .superRefine(refineWith((v: string) => validateGroupPath(v)))
    .transform((v) => v.trim());

export const MigrateFindOptionsSchema = z
  .object({
    project: z.array(projectPathField()).default([]),
    group: z.array(groupPathField()).default([]),
    gitlabUrl: gitlabUrlField().default('https://gitlab.com'),
    gitlabApiUrl: gitlabApiUrlField().optional(),
    gitlabTokenEnv: gitlabTokenEnvField().optional(),
    /** False (--no-aws): report the GitLab side only, resolve no key. */
    aws: z.boolean().default(true),
    region: z.string().min(1).optional(),
    profile: z.string().min(1).optional(),
    json: z.boolean().default(false),
    /** Projects (and IAM users) read at once. */
    concurrency: z.number().int().min(1).max(32).default(8),
    ...MIGRATE_APPLY_FIELDS,
  })
  .superRefine((o, ctx) => {
    refineApplyOptions(o, ctx);
    if (o.project.length === 0 && o.group.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['project'],
        message: 'name at least one project (--project group/app) or group (--group group)',
      });
    }
  });

export type MigrateFindOptions = z.output<typeof MigrateFindOptionsSchema>;

export interface RawMigrateFlags extends RawGitlabApiFlags, RawMigrateApplyFlags {
  project?: string[];
  group?: string[];
  gitlabUrl?: string;
  aws?: boolean;
  region?: string;
  profile?: string;
  json?: boolean;
}

/** commander flags → validated options (one UsageError listing every bad flag). */
export function parseMigrateFlags(flags: RawMigrateFlags): MigrateFindOptions {
  return parseOptions(
    MigrateFindOptionsSchema,
    {
      project: flags.project,
      group: flags.group,
      gitlabUrl: flags.gitlabUrl,
      gitlabApiUrl: flags.gitlabApiUrl,
      gitlabTokenEnv: flags.gitlabTokenEnv,
      aws: flags.aws,
      region: flags.region,
      profile: flags.profile,
      json: flags.json,
      apply: flags.apply,
      dryRun: flags.dryRun,
      yes: flags.yes,
      mergeRequest: flags.mergeRequest,
      ciVariables: flags.ciVariables,
      branch: flags.branch,
      tag: flags.tag,
    },
    'migrate options',
  );
}
