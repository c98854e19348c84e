/**
 * `destroy` options: the contract between flags and runDestroy. Parsed before any I/O.
 */
import * as z from 'zod';
import type { RawFleetFlags } from '../fleet/command-selection.js';
import { gitlabUrlField, projectPathField } from '../options/fields.js';
import { parseOptions } from '../options/zod-issues.js';

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

export const DestroyOptionsSchema = z
  .object({
    /** Remove what `init` created for this project (roles found by the tool's project tag). */
    project: projectPathField().optional(),
    /**
     * With --project: only the roles made for this GitLab instance (their gitlab-url tag). Required
     * when the project path has roles on more than one instance. Normalised as init tags it.
     */
    gitlabUrl: gitlabUrlField().optional(),
    /** Remove this role (and its tool-managed policy). */
    role: z
      .string()
      .regex(ROLE_NAME, 'must be an IAM role name: 1-64 characters of letters, digits and +=,.@_-')
      .optional(),
    /**
     * With --role: delete the role even though the tool did not create it. With --ci-file: remove the
     * generated jobs even though other jobs still extend `.aws-oidc`.
     */
    force: z.boolean().default(false),
    /**
     * Pipeline file to remove the generated jobs from: a path (--ci-file), false (--no-ci-file), or
     * undefined: `.gitlab-ci.yml` in `cwd` when its generated jobs use a role this run deletes.
     */
    ciFile: z.union([z.string().min(1, 'must name a file'), z.literal(false)]).optional(),
    /** The working folder (relative --ci-file paths, the default file). Without it no file is looked for. */
    cwd: z.string().optional(),
    /** The top of the git work tree `cwd` is in: where the default `.gitlab-ci.yml` is looked for. */
    repoRoot: z.string().optional(),
    /** Keep the OIDC provider even when no other role trusts it. */
    keepProvider: z.boolean().default(false),
    /**
     * Consent to take the roles out of the EC2 instance profiles they are in (IAM cannot delete a role
     * that is in one; the profiles are kept). Without it such a run is refused (exit 2) or, with a
     * terminal, asked.
     */
    removeFromInstanceProfiles: z.boolean().default(false),
    /**
     * Make no GitLab call: the CI/CD variables `init --ci-variables` set are left alone (the plan says
     * they were not checked). AWS is still called: destroy cannot do without it.
     */
    offline: z.boolean().default(false),
    yes: z.boolean().default(false),
    dryRun: z.boolean().default(false),
    json: z.boolean().default(false),
    region: z.string().min(1).optional(),
    profile: z.string().min(1).optional(),
    concurrency: z.number().int().min(1).max(32).default(8),
    /** --group/--config: the projects come from the selection (fleet.ts), not --project/--role. */
    fleet: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    if (o.project === undefined && o.role === undefined && !o.fleet)
      ctx.addIssue({
        code: 'custom',
        path: ['project'],
        message: 'say what to destroy: --project <path> or --role <name>',
      });
    if (o.project !== undefined && o.role !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['role'],
        message: 'cannot be combined with --project; give one of them',
      });
    if (o.gitlabUrl !== undefined && o.role !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['gitlabUrl'],
        message: 'only applies with --project (--role already names one role)',
      });
    if (o.force && o.role === undefined && typeof o.ciFile !== 'string')
      ctx.addIssue({
        code: 'custom',
        path: ['force'],
        message:
          'only applies with --role (untagged resources are only touched when named explicitly) or --ci-file',
      });
  });

export type DestroyOptions = z.output<typeof DestroyOptionsSchema>;

export interface RawDestroyFlags extends RawFleetFlags {
  project?: string;
  gitlabUrl?: string;
  role?: string;
  force?: boolean;
  /** `--ci-file <path>`, or false for `--no-ci-file`. */
  ciFile?: string | false;
  keepProvider?: boolean;
  removeFromInstanceProfiles?: boolean;
  offline?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
  region?: string;
  profile?: string;
}

/** Flags → options. Pass the working folder (the CLI does) to let destroy find `.gitlab-ci.yml` in it. */
export function parseDestroyFlags(
  flags: RawDestroyFlags,
  context: { cwd?: string; repoRoot?: string | undefined; fleet?: boolean } = {},
): DestroyOptions {
  return parseOptions(
    DestroyOptionsSchema,
    { ...flags, cwd: context.cwd, repoRoot: context.repoRoot, fleet: context.fleet },
    'destroy options',
  );
}
