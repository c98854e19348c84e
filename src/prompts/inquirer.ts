// The only module that imports @inquirer/prompts. Loaded lazily, only for interactive runs.
import { checkbox, confirm, input, select } from '@inquirer/prompts';
import { guardAbort, type Prompter } from './prompter.js';

export function createInquirerPrompter(): Prompter {
  return {
    input: (_field, q) =>
      guardAbort(() =>
        input({
          message: q.message,
          ...(q.default !== undefined ? { default: q.default } : {}),
          ...(q.validate ? { validate: q.validate } : {}),
        }),
      ),
    select: (_field, q) =>
      guardAbort(() =>
        select({
          message: q.message,
          choices: q.choices,
          ...(q.default !== undefined ? { default: q.default } : {}),
        }),
      ),
    checkbox: (_field, q) => guardAbort(() => checkbox({ message: q.message, choices: q.choices })),
    confirm: (_field, q) => guardAbort(() => confirm({ message: q.message, default: q.default ?? false })),
  };
}
