/**
 * The fleet selection flags, for any command that acts on projects (`init`, `status`, `destroy`,
 * `audit`): `--group`, `--include`, `--exclude`, `--config`, next to the command's own `--project`.
 * Registered by `addSelectionOptions`, parsed by `parseSelectionFlags` before any I/O.
 */
import picomatch from 'picomatch';
import * as z from 'zod';
import { GLOB_OPTIONS } from '../config/schema.js';
import { validateGroupPath, validateProjectPath } from '../core/refs.js';
import { parseOptions, refineWith } from '../options/zod-issues.js';

export interface RawSelectionFlags {
  project?: string | undefined;
  group?: string | undefined;
  include?: string[] | undefined;
  exclude?: string[] | undefined;
  config?: string | undefined;
}

export type Selection =
  /** One project (`--project`, or none given: the command's own default, e.g. the git remote). */
  | { kind: 'project'; project?: string | undefined }
  | { kind: 'group'; group: string; include: string[]; exclude: string[] }
  /** The config file's projects and/or group; `include`/`exclude` add to the file's own. */
  | { kind: 'config'; file: string; include: string[]; exclude: string[] };

// The flags themselves (commander only) live apart, so registering them loads neither zod nor picomatch.
export { addSelectionOptions } from './selection-flags.js';

const globField = (flag: string) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .superRefine((v, ctx) => {
      if (v === '') return;
      try {
        picomatch.makeRe(v, GLOB_OPTIONS);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `"${v}" is not a valid glob: ${(error as Error).message}`,
          params: { field: flag },
        });
      }
    });

export const selectionFlagsSchema = z
  .object({
    project: z
      .string()
      .superRefine(refineWith((v: string) => validateProjectPath(v)))
      .transform((v) => v.trim())
      .optional(),
    group: z
      .string()
      .superRefine(refineWith((v: string) => validateGroupPath(v)))
      .transform((v) => v.trim())
      .optional(),
    include: z.array(globField('--include')).default([]),
    exclude: z.array(globField('--exclude')).default([]),
    config: z.string().trim().min(1, 'must name a file').optional(),
  })
  .superRefine((o, ctx) => {
    const given = (['project', 'group', 'config'] as const).filter((k) => o[k] !== undefined);
    if (given.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [given[1] as string],
        message: `give one of --project, --group or --config, not ${given.map((k) => `--${k}`).join(' and ')}`,
      });
    }
    if (o.group === undefined && o.config === undefined) {
      for (const key of ['include', 'exclude'] as const) {
        if (o[key].length)
          ctx.addIssue({ code: 'custom', path: [key], message: 'only goes with --group or --config' });
      }
    }
  });

/** Raw selection flags → one Selection; a UsageError naming the flag otherwise. */
export function parseSelectionFlags(raw: RawSelectionFlags): Selection {
  const o = parseOptions(selectionFlagsSchema, raw, 'selection');
  if (o.group !== undefined) return { kind: 'group', group: o.group, include: o.include, exclude: o.exclude };
  if (o.config !== undefined)
    return { kind: 'config', file: o.config, include: o.include, exclude: o.exclude };
  return { kind: 'project', project: o.project };
}
