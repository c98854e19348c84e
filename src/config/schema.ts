/**
 * The fleet configuration file `gitlab-aws-oidc.yml`, as a zod schema: its SHAPE only (keys, types,
 * enums, placeholders, globs). The VALUES of a member (ref names, audience, ARNs, tags, role name
 * length…) are checked by init's own option parsing, run on the member's raw init flags
 * (`config/member.ts`), so one project and a fleet of thousands are validated by the same rules.
 *
 * Precedence, for each project (lowest first; a later layer replaces a field set by an earlier one):
 *   1. `defaults`
 *   2. every `projects` entry with a `match` glob that matches the project path, in file order
 *   3. every `projects` entry with a `path` equal to the project path, in file order
 * A field replaces the earlier value as a whole (`refs`, `permissions` included), except `tags`, which
 * merge by key (a later value of the same key wins).
 *
 * Strict: an unknown key is an error that names it and lists the allowed keys. No transforms here, so
 * the JSON Schema for editors (`schemas/gitlab-aws-oidc.schema.json`) is generated from this very schema.
 */
import picomatch from 'picomatch';
import * as z from 'zod';

export const CONFIG_FILE_NAME = 'gitlab-aws-oidc.yml';
export const CONFIG_SCHEMA_ID = 'https://unpkg.com/gitlab-aws-oidc/schemas/gitlab-aws-oidc.schema.json';

/**
 * Placeholders of `roleName`, for project `acme/platform/api`:
 * `{path}` acme-platform-api, `{group}` acme-platform (the project's namespace), `{project}` api.
 * The `/` of a path becomes `-`, and any character IAM does not allow in a role name becomes `-`.
 */
export const ROLE_NAME_PLACEHOLDERS = ['group', 'project', 'path'] as const;
export type RoleNamePlaceholder = (typeof ROLE_NAME_PLACEHOLDERS)[number];
/** Placeholders that name one project: not allowed with `role: per-group` (one role per group). */
export const PER_PROJECT_PLACEHOLDERS: readonly RoleNamePlaceholder[] = ['project', 'path'];

export const DELIVERY_MODES = ['merge-request', 'ci-variables', 'none'] as const;
export const ROLE_MODES = ['per-project', 'per-group'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];
export type RoleMode = (typeof ROLE_MODES)[number];

const PLACEHOLDER_RE = /\{([^{}]*)\}/g;

/** The placeholders a role name pattern uses (unknown ones included, for the error). */
export function placeholdersIn(pattern: string): string[] {
  return [...pattern.matchAll(PLACEHOLDER_RE)].map((m) => m[1] as string);
}

/** Options every glob of the file is compiled and matched with (see `fleet/selection.ts`). */
export const GLOB_OPTIONS = { dot: true, nocase: true } as const;

/** A glob picomatch can compile; `*` stays within one path segment, `**` crosses them. */
const glob = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .superRefine((v, ctx) => {
      if (v === '') return;
      try {
        picomatch.makeRe(v, GLOB_OPTIONS);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not a valid glob: ${(error as Error).message}` });
      }
    });

const roleNamePattern = z
  .string()
  .min(1)
  .superRefine((v, ctx) => {
    const unknown = placeholdersIn(v).filter(
      (p) => !(ROLE_NAME_PLACEHOLDERS as readonly string[]).includes(p),
    );
    for (const name of unknown) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown placeholder {${name}}`,
        params: { allowed: ROLE_NAME_PLACEHOLDERS.map((p) => `{${p}}`) },
      });
    }
    if (/[{}]/.test(v.replace(PLACEHOLDER_RE, ''))) {
      ctx.addIssue({
        code: 'custom',
        message: 'has an unmatched "{" or "}"',
        params: { allowed: ROLE_NAME_PLACEHOLDERS.map((p) => `{${p}}`) },
      });
    }
  })
  .meta({
    description:
      'IAM role name, with placeholders {group} (the namespace, "/" as "-"), {project} (last segment) and {path} (full path, "/" as "-"). Default: gitlab-{path} (shortened with a hash past 64 characters).',
    examples: ['gitlab-{group}-{project}', 'ci-{path}'],
  });

const refs = z
  .strictObject({
    branches: z
      .array(z.string())
      .optional()
      .meta({ description: 'Branches (or patterns such as release/*) allowed to assume the role.' }),
    tags: z
      .array(z.string())
      .optional()
      .meta({ description: 'Tags (or patterns such as v*) allowed to assume the role.' }),
    allowAnyRef: z
      .boolean()
      .optional()
      .meta({ description: 'Consent to a pattern matching every branch or tag (`*`).' }),
  })
  .meta({
    description:
      'Refs allowed to assume the role (replaces the inherited refs as a whole). Default: the project default branch, as GitLab reports it.',
  });

const permissions = z
  .strictObject({
    template: z
      .string()
      .optional()
      .meta({ description: 'Starter policy: s3-deploy, ecr-push, terraform-state, read-only.' }),
    params: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: 'Parameters of the template, e.g. bucket: my-site.' }),
    managedPolicies: z.array(z.string()).optional().meta({ description: 'Managed policy ARNs to attach.' }),
    policyFile: z
      .string()
      .optional()
      .meta({ description: 'Permission policy JSON file, relative to this config file.' }),
  })
  .meta({ description: 'The role permissions (replaces the inherited permissions as a whole).' });

/** The fields `defaults` and every `projects` entry may set. */
export const settingsShape = {
  refs: refs.optional(),
  audience: z.string().optional().meta({ description: 'id_token audience (default: the GitLab URL).' }),
  protectedOnly: z
    .boolean()
    .optional()
    .meta({ description: 'On gitlab.com, require gitlab.com:ref_protected = "true".' }),
  permissions: permissions.optional(),
  roleName: roleNamePattern.optional(),
  rolePath: z.string().optional().meta({ description: 'IAM role path (default: /gitlab-oidc/).' }),
  boundary: z.string().optional().meta({ description: 'Permissions boundary policy ARN.' }),
  maxSessionDuration: z
    .number()
    .optional()
    .meta({ description: 'Role maximum session duration in seconds, 3600-43200.' }),
  tags: z
    .record(z.string(), z.string())
    .optional()
    .meta({ description: 'Extra IAM tags; merged by key over the inherited ones.' }),
  region: z.string().optional().meta({ description: 'AWS region written to the pipeline (AWS_REGION).' }),
  delivery: z.enum(DELIVERY_MODES).optional().meta({
    description:
      'How the pipeline change reaches the project: a merge request, CI/CD variables, or none (default: none).',
  }),
  role: z.enum(ROLE_MODES).optional().meta({
    description:
      'One role per project, or one per group holding every project of the group (default: per-project).',
  }),
};

export const settingsSchema = z.strictObject(settingsShape);
export type Settings = z.output<typeof settingsSchema>;
export type SettingKey = keyof Settings;

export const projectEntrySchema = z
  .strictObject({
    path: z
      .string()
      .optional()
      .meta({ description: 'Exact project path (group/sub/project); beats every match glob.' }),
    match: glob('match')
      .optional()
      .meta({ description: 'Glob over project paths: * within one segment, ** across segments.' }),
    ...settingsShape,
  })
  .superRefine((entry, ctx) => {
    if ((entry.path === undefined) === (entry.match === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: entry.path === undefined ? [] : ['match'],
        message: 'give exactly one of path (one project) or match (a glob)',
        params: { allowed: ['path', 'match'] },
      });
    }
  });
export type ProjectEntry = z.output<typeof projectEntrySchema>;

export const fleetConfigSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'JSON Schema of this file, for editors.' }),
    version: z.literal(1).meta({ description: 'Format version: 1.' }),
    gitlabUrl: z
      .string()
      .optional()
      .meta({ description: 'GitLab instance URL (default: https://gitlab.com).' }),
    group: z.string().optional().meta({
      description: 'Group whose projects (and subgroups’ projects) are members; archived ones are skipped.',
    }),
    include: z
      .array(glob('include'))
      .optional()
      .meta({ description: 'Only the group’s projects whose path matches one of these globs.' }),
    exclude: z
      .array(glob('exclude'))
      .optional()
      .meta({ description: 'Never the group’s projects whose path matches one of these globs.' }),
    defaults: settingsSchema.optional().meta({ description: 'Settings of every member.' }),
    projects: z.array(projectEntrySchema).optional().meta({
      description:
        'Overrides: exact path entries (always members) and match globs (over the group’s projects).',
    }),
  })
  .superRefine((config, ctx) => {
    if (config.group === undefined && !config.projects?.some((p) => p.path !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'selects no project: give a group, or projects entries with a path',
        params: { allowed: ['group', 'projects[].path'] },
      });
    }
  })
  .meta({
    title: 'gitlab-aws-oidc fleet configuration',
    description: 'The projects gitlab-aws-oidc init onboards, with their defaults and overrides.',
  });

export type FleetConfig = z.output<typeof fleetConfigSchema>;

/** The fleet schema as JSON Schema (draft 2020-12), for editors (yaml-language-server). */
export function fleetConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(fleetConfigSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = schema;
  return { $schema, $id: CONFIG_SCHEMA_ID, ...rest };
}

/** The committed `schemas/gitlab-aws-oidc.schema.json`, byte for byte (`npm run schema` writes it). */
export function renderFleetConfigJsonSchema(): string {
  return `${JSON.stringify(fleetConfigJsonSchema(), null, 2)}\n`;
}
