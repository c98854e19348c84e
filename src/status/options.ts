/**
 * `status` options: the contract between flags and runStatus. Parsed before any I/O.
 */
import { z } from 'zod';
import { gitlabUrlField, projectPathField } from '../options/fields.js';
import { parseOptions } from '../options/zod-issues.js';

export const StatusOptionsSchema = z.object({
  /** Only the roles of this project. */
  project: projectPathField().optional(),
  /** Only the roles (and providers) of this GitLab instance, normalised as init tags it. */
  gitlabUrl: gitlabUrlField().optional(),
  json: z.boolean().default(false),
  region: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
  concurrency: z.number().int().min(1).max(32).default(8),
});

export type StatusOptions = z.output<typeof StatusOptionsSchema>;

export interface RawStatusFlags {
  project?: string;
  gitlabUrl?: string;
  json?: boolean;
  region?: string;
  profile?: string;
}

export function parseStatusFlags(flags: RawStatusFlags): StatusOptions {
  return parseOptions(StatusOptionsSchema, { ...flags }, 'status options');
}
