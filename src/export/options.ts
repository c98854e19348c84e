/**
 * The contract of `export`: its own flags (format, where the files go) plus the setup, resolved by
 * init's own resolver (`resolveInitOptions`: flags → the existing role's values → detected → prompt →
 * error), so `export` and `init` with the same inputs describe the same resources. Export writes
 * nothing to AWS: the setup is resolved as a dry run, and the pipeline file only with `--ci-file`.
 */
import { resolve as resolvePath } from 'node:path';
import * as z from 'zod';
import type { RawInitFlags } from '../commands/init.js';
import type { InitOptions } from '../init/options.js';
import { type ResolveContext, resolveInitOptions } from '../init/resolve.js';
import { parseOptions } from '../options/zod-issues.js';
import { standInFiles } from './renderers.js';
import { planOutFiles } from './write.js';

/** Raw commander flags of `export`: init's setup flags, minus those that only make sense when applying. */
export interface RawExportFlags
  extends Omit<RawInitFlags, 'ciFile' | 'dryRun' | 'overwriteDrift' | 'allowWidening' | 'detachUnowned'> {
  format?: string;
  out?: string;
  ciFile?: string;
  manageProvider?: boolean;
}

export const EXPORT_FORMATS = ['terraform', 'cloudformation'] as const;

const exportFlagsSchema = z
  .object({
    format: z.enum(EXPORT_FORMATS, { error: 'must be terraform or cloudformation' }),
    /** Absolute folder for the files; undefined: print them on stdout. */
    out: z.string().min(1, 'must name a folder').optional(),
    /** Replace files in --out (and pipeline jobs) the tool did not write. */
    force: z.boolean(),
    manageProvider: z.boolean(),
    json: z.boolean(),
  })
  .superRefine((o, ctx) => {
    if (o.manageProvider && o.format !== 'terraform') {
      ctx.addIssue({
        code: 'custom',
        path: ['manageProvider'],
        message:
          'only goes with --format terraform (the CloudFormation template creates the provider behind its CreateProvider parameter)',
      });
    }
  });

export type ExportFlags = z.output<typeof exportFlagsSchema>;
export type ExportOptions = ExportFlags & { setup: InitOptions };

/** Export's own flags, checked before anything is detected, read or asked. */
export function parseExportFlags(flags: RawExportFlags, cwd: string): ExportFlags {
  return parseOptions(
    exportFlagsSchema,
    {
      format: flags.format,
      out: flags.out === undefined ? undefined : flags.out.trim() === '' ? '' : resolvePath(cwd, flags.out),
      force: Boolean(flags.force),
      manageProvider: Boolean(flags.manageProvider),
      json: Boolean(flags.json),
    },
    'export options',
  );
}

export async function resolveExportOptions(
  flags: RawExportFlags,
  ctx: ResolveContext,
): Promise<ExportOptions> {
  const own = parseExportFlags(flags, ctx.cwd);
  // Files in --out that an export did not write are refused before anything is read or asked.
  if (own.out) {
    const names = { project: flags.project ?? ctx.git.projectPath, roleName: flags.roleName };
    await planOutFiles(own.out, await standInFiles(own.format, names), own.force);
  }
  // The pipeline file only when asked; the rest exactly as init resolves it, as a dry run.
  const setup = await resolveInitOptions({ ...flags, ciFile: flags.ciFile ?? false, dryRun: true }, ctx);
  return { ...own, setup };
}
