/**
 * `migrate` options: the contract between flags and runMigrateFind / runMigrateApply /
 * runMigrateRetire. Parsed before any I/O. The selection is the fleet's (`--group`/`--config` with
 * `--include`/`--exclude`, fleet/selection-options.ts) or `--project`, repeatable.
 */
import * as z from 'zod';
import { type FieldIssue, UsageError } from '../errors.js';
import { parseFleetSelection } from '../fleet/command-selection.js';
import {
  gitlabApiUrlField,
  gitlabTokenEnvField,
  gitlabUrlField,
  projectPathField,
} from '../options/fields.js';
import type { RawGitlabApiFlags } from '../options/gitlab-api.js';
import { parseOptions } from '../options/zod-issues.js';
import { MIGRATE_APPLY_FIELDS, type RawMigrateApplyFlags, refineApplyOptions } from './apply-options.js';
import type { MigrateSelection } from './select.js';

export const MigrateFindOptionsSchema = z
  .object({
    project: z.array(projectPathField()).default([]),
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
    /** `--retire`: delete the key variables and deactivate the keys whose switch is proven. */
    retire: z.boolean().default(false),
    /** `--delete-keys` (with --retire): delete the keys an earlier --retire deactivated. */
    deleteKeys: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (o.retire && o.apply) issue('retire', 'is a separate, later run than --apply: give one of them');
    // --yes and --dry-run belong to --apply and to --retire; the rest of --apply's rules are its own.
    refineApplyOptions(o.apply ? o : { ...o, yes: false, dryRun: false }, ctx);
    if (!o.apply && !o.retire) {
      for (const key of ['yes', 'dryRun'] as const) {
        if (o[key]) issue(key, 'only goes with --apply or --retire (migrate alone changes nothing)');
      }
    }
    if (o.deleteKeys && !o.retire) issue('deleteKeys', 'only goes with --retire');
    if (o.retire && !o.aws) issue('aws', '--no-aws cannot retire keys (it reads no key)');
  });

export type MigrateFindOptions = z.output<typeof MigrateFindOptionsSchema> & { selection: MigrateSelection };

export interface RawMigrateFlags extends RawGitlabApiFlags, RawMigrateApplyFlags {
  project?: string[];
  group?: string;
  include?: string[];
  exclude?: string[];
  config?: string;
  gitlabUrl?: string;
  aws?: boolean;
  region?: string;
  profile?: string;
  json?: boolean;
  retire?: boolean;
  deleteKeys?: boolean;
}

/** commander flags → validated options (one UsageError listing every bad flag). */
export function parseMigrateFlags(flags: RawMigrateFlags): MigrateFindOptions {
  const issues: FieldIssue[] = [];
  const collect = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      issues.push(...error.issues);
      return undefined;
    }
  };
  const options = collect(() =>
    parseOptions(
      MigrateFindOptionsSchema,
      {
        project: flags.project,
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
        retire: flags.retire,
        deleteKeys: flags.deleteKeys,
      },
      'migrate options',
    ),
  );
  const fleet = collect(() =>
    parseFleetSelection({
      group: flags.group,
      include: flags.include,
      exclude: flags.exclude,
      config: flags.config,
    }),
  );
  const projects = flags.project ?? [];
  if (fleet && projects.length) {
    issues.push({ field: '--project', message: `cannot be combined with --${fleet.kind}` });
  }
  if (!issues.length && !fleet && projects.length === 0) {
    issues.push({
      field: '--project',
      message: 'name at least one project (--project group/app), a group (--group group) or --config file',
    });
  }
  if (issues.length || !options) {
    throw new UsageError(
      `Invalid migrate options (${issues.length} problem${issues.length === 1 ? '' : 's'}).`,
      issues,
    );
  }
  return { ...options, selection: fleet ?? { kind: 'projects', projects: options.project } };
}
