/**
 * The `migrate --apply` part of migrate's options: its fields (spread into MigrateFindOptionsSchema)
 * and their rules. Parsed with the rest before any I/O: a bad combination is exit 2 naming the flag.
 */
import * as z from 'zod';

export const MIGRATE_APPLY_FIELDS = {
  /** --apply: plan (and, confirmed, apply) a role per project instead of only reporting. */
  apply: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  yes: z.boolean().default(false),
  /** How the pipeline change reaches each project: a merge request (required with --apply). */
  mergeRequest: z.boolean().default(false),
  /** The role ARN and region as project CI/CD variables, like init --ci-variables. */
  ciVariables: z.boolean().default(false),
  /** Refs the role trusts (default: each project's default branch, from GitLab), like init --branch/--tag. */
  branch: z.array(z.string().min(1)).default([]),
  tag: z.array(z.string().min(1)).default([]),
};

export interface RawMigrateApplyFlags {
  apply?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  mergeRequest?: boolean;
  ciVariables?: boolean;
  branch?: string[];
  tag?: string[];
}

const APPLY_ONLY = ['dryRun', 'yes', 'mergeRequest', 'ciVariables', 'branch', 'tag'] as const;

/** The rules of the --apply fields (called from the schema's superRefine). */
export function refineApplyOptions(
  o: { apply: boolean; aws: boolean } & Record<(typeof APPLY_ONLY)[number], boolean | string[]>,
  ctx: z.RefinementCtx,
): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (!o.apply) {
    for (const key of APPLY_ONLY) {
      const v = o[key];
      if (v === true || (Array.isArray(v) && v.length > 0)) issue(key, 'only goes with --apply');
    }
    return;
  }
  if (!o.aws) {
    ctx.addIssue({
      code: 'custom',
      path: ['aws'],
      params: { field: '--no-aws' },
      message: 'cannot go with --apply: the roles are made in AWS (drop --no-aws)',
    });
  }
  if (!o.mergeRequest) {
    issue(
      'mergeRequest',
      'is needed with --apply: each project gets its pipeline change as a merge request (add --merge-request; --ci-variables as well to keep the role ARN in CI/CD variables)',
    );
  }
}
