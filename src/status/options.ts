/**
 * `status` options: the contract between flags and runStatus. Parsed before any I/O.
 */
import { z } from 'zod';
import { parseIssuerUrl } from '../core/issuer.js';
import { validateProjectPath } from '../core/refs.js';
import { parseOptions, refineWith } from '../options/zod-issues.js';

export const StatusOptionsSchema = z.object({
  /** Only the roles of this project. */
  project: z
    .string()
    .superRefine(refineWith((v: string) => validateProjectPath(v)))
    .transform((v) => v.trim())
    .optional(),
  /** Only the roles (and providers) of this GitLab instance, normalised as init tags it. */
  gitlabUrl: z
    .string()
    .superRefine(refineWith((v: string) => parseIssuerUrl(v)))
    .transform((v) => parseIssuerUrl(v).url)
    .optional(),
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
