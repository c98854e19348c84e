/**
 * The init schema's own field rules, one field at a time: for the flags a user gave (checked before any
 * question or AWS call, all at once) and for each wizard answer where it is asked (a bad answer is
 * re-asked with the schema's message, never reported after the last question under a flag nobody typed).
 */
import type * as z from 'zod';
import { buildRefRules } from '../core/refs.js';
import type { RefType } from '../core/types.js';
import { type FieldIssue, UsageError } from '../errors.js';
import { issuesFromZod } from '../options/zod-issues.js';
import { INIT_FLAG_ALIASES, initOptionsSchema } from './options.js';

type Shape = typeof initOptionsSchema.shape;
export type InitField = keyof Shape;

/** Problems of one value under one field's rules, each naming its flag. */
export function fieldIssues<K extends InitField>(key: K, value: z.input<Shape[K]>): FieldIssue[] {
  const result = initOptionsSchema.shape[key].safeParse(value);
  if (result.success) return [];
  const issues = result.error.issues.map((issue) => ({ ...issue, path: [key, ...issue.path] }));
  return issuesFromZod({ issues } as z.ZodError, INIT_FLAG_ALIASES);
}

/** Throws one UsageError listing every problem of the values given (undefined values are skipped). */
export function checkGivenFields(values: { [K in InitField]?: z.input<Shape[K]> | undefined }): void {
  const issues: FieldIssue[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) issues.push(...fieldIssues(key as InitField, value as never));
  }
  if (issues.length) {
    throw new UsageError(
      `Invalid init options (${issues.length} problem${issues.length === 1 ? '' : 's'}).`,
      issues,
    );
  }
}

/** The prompt form of a field rule: `true`, or the message to re-ask with. */
export function answerCheck<K extends InitField>(
  key: K,
  toValue: (answer: string) => z.input<Shape[K]>,
): (answer: string) => true | string {
  return (answer) => {
    const issues = fieldIssues(key, toValue(answer));
    return issues.length ? issues.map((i) => i.message).join('; ') : true;
  };
}

/** Turns a validator that throws (the core's style) into the prompt form. */
export function throwingCheck(
  fn: (v: string) => unknown | Promise<unknown>,
): (value: string) => Promise<true | string> {
  return async (value) => {
    try {
      await fn(value);
      return true;
    } catch (error) {
      if (error instanceof UsageError && error.issues.length) {
        const message = error.issues.map((i) => i.message).join('; ');
        return error.hint ? `${message}. ${error.hint}` : message;
      }
      return error instanceof Error ? error.message.replace(/^Invalid [^:]+: /, '') : String(error);
    }
  };
}

export const splitList = (text: string) =>
  text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** A comma-separated list of refs of one type, checked as `buildRefRules` will (names, `*` without consent). */
export function checkRefList(type: RefType, allowAnyRef: boolean) {
  return throwingCheck((answer) => {
    const values = splitList(answer);
    if (values.length === 0) return;
    buildRefRules(type === 'branch' ? { branches: values, allowAnyRef } : { tags: values, allowAnyRef });
  });
}
