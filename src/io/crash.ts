/**
 * The last resort for an error that escapes cli.ts's one catch (an `error` event nobody listens to, a
 * rejected promise nobody awaits): it is reported like any other unexpected failure, on stderr, and
 * under --json as the run's one document, then the process exits 1. Without it Node prints a stack
 * trace and a --json caller gets no document at all.
 */
import { ExitCode } from '../errors.js';
import type { Palette } from './colors.js';
import { errorDocument, formatError, writeDocumentOnce } from './output.js';

export interface CrashHandlerOptions {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  palette: () => Palette;
  json: boolean;
  command: () => string | undefined;
  exit: (code: number) => void;
}

export function createCrashHandler(options: CrashHandlerOptions): (error: unknown) => void {
  let crashed = false;
  return (error) => {
    // A failure while reporting a failure: exit without trying again.
    if (crashed) return options.exit(ExitCode.Failure);
    crashed = true;
    try {
      for (const line of formatError(error, options.palette())) options.stderr.write(`${line}\n`);
      if (options.json) writeDocumentOnce(options.stdout, errorDocument(error, options.command()));
    } finally {
      options.exit(ExitCode.Failure);
    }
  };
}
