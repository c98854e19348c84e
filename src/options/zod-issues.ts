import type * as z from 'zod';
import { CliError, type FieldIssue, UsageError } from '../errors.js';

/** camelCase option key → the flag the user typed. */
export function flagName(key: PropertyKey): string {
  return `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Option keys whose flag is not simply the kebab-case key (`awsTags` ← `--aws-tag`). */
export type FlagAliases = Record<string, string>;

/**
 * One line per invalid field, each naming the flag (a refinement may name it itself via `params.field`).
 * A problem found twice (a field's own check and a whole-object rule that re-validates it) is listed once.
 */
export function issuesFromZod(error: z.ZodError, aliases: FlagAliases = {}): FieldIssue[] {
  const issues = error.issues.map((issue): FieldIssue => {
    const named =
      issue.code === 'custom' ? (issue.params as { field?: string } | undefined)?.field : undefined;
    if (named) return { field: named, message: issue.message };
    const [head, ...rest] = issue.path;
    const flag = head === undefined ? 'options' : (aliases[String(head)] ?? flagName(head));
    const field = rest.length ? `${flag} ${rest.map((p) => `[${String(p)}]`).join('')}` : flag;
    return { field, message: issue.message };
  });
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.field}\n${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Parses with a schema and throws one UsageError listing every invalid field. */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what = 'options',
  aliases: FlagAliases = {},
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = issuesFromZod(result.error, aliases);
  throw new UsageError(
    `Invalid ${what} (${issues.length} problem${issues.length === 1 ? '' : 's'}).`,
    issues,
  );
}

/**
 * Adapts a validator that throws a CliError (the style of the pure core) to a zod refinement,
 * so every field's problem is collected in one pass.
 */
export function refineWith<T>(validate: (value: T) => unknown) {
  return (value: T, ctx: z.RefinementCtx) => {
    try {
      validate(value);
    } catch (error) {
      if (error instanceof UsageError && error.issues.length) {
        for (const issue of error.issues) {
          ctx.addIssue({ code: 'custom', message: issue.message, params: { field: issue.field } });
        }
      } else if (error instanceof CliError) {
        ctx.addIssue({ code: 'custom', message: error.message });
      } else {
        throw error;
      }
    }
  };
}
