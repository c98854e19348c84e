/**
 * `status` options: the contract between flags and runStatus. Parsed before any I/O.
 */
import * as z from 'zod';
import { UsageError } from '../errors.js';
import type { RawFleetFlags } from '../fleet/command-selection.js';
import {
  gitlabApiUrlField,
  gitlabTokenEnvField,
  gitlabUrlField,
  projectPathField,
} from '../options/fields.js';
import { parseOptions } from '../options/zod-issues.js';

export const StatusOptionsSchema = z.object({
  /** Only the roles of this project. */
  project: projectPathField().optional(),
  /** Only the roles (and providers) of this GitLab instance, normalised as init tags it. */
  gitlabUrl: gitlabUrlField().optional(),
  json: z.boolean().default(false),
  /** --group/--config: each project's roles in full, not only the summary. */
  details: z.boolean().default(false),
  region: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
  concurrency: z.number().int().min(1).max(32).default(8),
  /** --group: the token that lists the group, and the API base when it differs from --gitlab-url. */
  gitlabTokenEnv: gitlabTokenEnvField().optional(),
  gitlabApiUrl: gitlabApiUrlField().optional(),
});

export type StatusOptions = z.output<typeof StatusOptionsSchema>;

export interface RawStatusFlags extends RawFleetFlags {
  project?: string;
  gitlabUrl?: string;
  json?: boolean;
  details?: boolean;
  region?: string;
  profile?: string;
  gitlabTokenEnv?: string;
  gitlabApiUrl?: string;
}

/** The flags that only mean something with a fleet (`--group`/`--config`). */
const FLEET_ONLY = {
  details: '--details',
  gitlabTokenEnv: '--gitlab-token-env',
  gitlabApiUrl: '--gitlab-api-url',
} as const;

export function parseStatusFlags(
  flags: RawStatusFlags,
  { fleet = false }: { fleet?: boolean } = {},
): StatusOptions {
  const options = parseOptions(
    StatusOptionsSchema,
    {
      project: flags.project,
      gitlabUrl: flags.gitlabUrl,
      json: flags.json,
      details: flags.details,
      region: flags.region,
      profile: flags.profile,
      gitlabTokenEnv: flags.gitlabTokenEnv,
      gitlabApiUrl: flags.gitlabApiUrl,
    },
    'status options',
  );
  if (!fleet) {
    const given = Object.entries(FLEET_ONLY).filter(([key]) => flags[key as keyof typeof FLEET_ONLY]);
    if (given.length)
      throw new UsageError(
        `Invalid status options (${given.length} problem${given.length === 1 ? '' : 's'}).`,
        given.map(([, field]) => ({ field, message: 'only goes with --group or --config' })),
      );
  }
  return options;
}
