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
  input(
    field: string,
    q: { message: string; default?: string; validate?: (v: string) => true | string },
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

export type ScriptedAnswer = string | boolean | string[];

/**
 * A prompter that answers from a script. Asking a question that is not scripted fails the test,
 * so tests also prove which questions are asked. Validation runs as it would interactively.
 */
export function createScriptedPrompter(
  answers: Record<string, ScriptedAnswer>,
): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const take = (field: string): ScriptedAnswer => {
    asked.push(field);
    if (!(field in answers)) throw new Error(`scripted prompter: no answer for ${field}`);
    return answers[field] as ScriptedAnswer;
  };
  return {
    asked,
    async input(field, q) {
      const value = String(take(field));
      const verdict = q.validate?.(value) ?? true;
      if (verdict !== true) throw new Error(`scripted prompter: answer for ${field} rejected: ${verdict}`);
      return value;
    },
    async select(field, q) {
      const value = take(field) as string;
      if (!q.choices.some((c) => c.value === value))
        throw new Error(`scripted prompter: ${value} is not a choice for ${field}`);
      return value as never;
    },
    async checkbox(field) {
      return take(field) as never;
    },
    async confirm(field) {
      return Boolean(take(field));
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
