/**
 * The prompt port. `prompts/inquirer.ts` is the only module that imports @inquirer/prompts;
 * tests use `createScriptedPrompter` with answers keyed by field name.
 */
import { AbortError, isPromptAbort } from '../errors.js';

export interface Choice<T extends string = string> {
  value: T;
  name: string;
  description?: string;
}

export interface Prompter {
  /** `field` names the flag the answer stands for (used by scripted tests and error messages). */
  /** A `validate` that returns a message re-asks the question with it (the answer is never lost). */
  input(
    field: string,
    q: {
      message: string;
      default?: string;
      validate?: (v: string) => true | string | Promise<true | string>;
    },
  ): Promise<string>;
  select<T extends string>(
    field: string,
    q: { message: string; choices: Choice<T>[]; default?: T },
  ): Promise<T>;
  checkbox<T extends string>(
    field: string,
    q: { message: string; choices: (Choice<T> & { checked?: boolean })[] },
  ): Promise<T[]>;
  confirm(field: string, q: { message: string; default?: boolean }): Promise<boolean>;
}

/** Runs a prompt and turns Ctrl-C into one typed abort. */
export async function guardAbort<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isPromptAbort(error)) throw new AbortError('Aborted: nothing was changed.');
    throw error;
  }
}

/**
 * One scripted answer. For `input`, a list is the successive attempts at one question: each rejected
 * attempt is recorded (with the validator's message) and the next one is typed, as a user would after
 * the prompt showed the message. `ENTER` presses Enter: the question's default (for `select`, the
 * default choice or else the first; for `confirm`, the default).
 */
export type ScriptedAnswer = string | boolean | string[] | typeof ENTER;

export const ENTER: unique symbol = Symbol('press Enter');

export interface ScriptedPrompterOptions {
  /** Questions without a scripted answer take their default (Enter) instead of failing the test. */
  enterForUnscripted?: boolean;
}

/**
 * A prompter that answers from a script. Asking a question that is not scripted fails the test,
 * so tests also prove which questions are asked. Validation runs as it would interactively.
 * `defaults` records the default each question offered; `rejected` every attempt a validator refused.
 */
export function createScriptedPrompter(
  answers: Record<string, ScriptedAnswer>,
  options: ScriptedPrompterOptions = {},
): Prompter & {
  asked: string[];
  defaults: Record<string, unknown>;
  rejected: { field: string; value: string; message: string }[];
} {
  const asked: string[] = [];
  const defaults: Record<string, unknown> = {};
  const rejected: { field: string; value: string; message: string }[] = [];
  const take = (field: string, offered: unknown): ScriptedAnswer => {
    asked.push(field);
    defaults[field] = offered;
    if (!(field in answers)) {
      if (options.enterForUnscripted) return ENTER;
      throw new Error(`scripted prompter: no answer for ${field}`);
    }
    return answers[field] as ScriptedAnswer;
  };
  return {
    asked,
    defaults,
    rejected,
    async input(field, q) {
      const answer = take(field, q.default);
      const attempts = Array.isArray(answer) ? answer : [answer];
      for (const attempt of attempts) {
        // Like the terminal prompt: Enter on an empty line gives the default.
        const value = attempt === ENTER ? (q.default ?? '') : String(attempt);
        const verdict = (await q.validate?.(value)) ?? true;
        if (verdict === true) return value;
        rejected.push({ field, value, message: verdict });
      }
      const last = rejected.at(-1);
      throw new Error(`scripted prompter: answer for ${field} rejected: ${last?.message}`);
    },
    async select(field, q) {
      const answer = take(field, q.default);
      const value = answer === ENTER ? (q.default ?? q.choices[0]?.value) : (answer as string);
      if (!q.choices.some((c) => c.value === value))
        throw new Error(`scripted prompter: ${String(value)} is not a choice for ${field}`);
      return value as never;
    },
    async checkbox(field, q) {
      const answer = take(field, undefined);
      if (answer === ENTER) return q.choices.filter((c) => c.checked).map((c) => c.value) as never;
      return answer as never;
    },
    async confirm(field, q) {
      const answer = take(field, q.default);
      return answer === ENTER ? Boolean(q.default) : Boolean(answer);
    },
  };
}

/** The terminal prompter, loaded on first use: runs that never ask do not load @inquirer/prompts. */
export function lazyInquirerPrompter(): () => Promise<Prompter> {
  let prompter: Prompter | undefined;
  return async () => {
    if (!prompter) {
      const { createInquirerPrompter } = await import('./inquirer.js');
      prompter = createInquirerPrompter();
    }
    return prompter;
  };
}
