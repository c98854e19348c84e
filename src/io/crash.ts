/**
 * The last resort for an error that escapes cli.ts's one catch (an `error` event nobody listens to, a
 * rejected promise nobody awaits): it is reported like any other unexpected failure, on stderr, and
 * under --json as the run's one document, then the process exits 1. Without it Node prints a stack
 * trace and a --json caller gets no document at all.
 */
import { ExitCode } from '../errors.js';
import type { Palette } from './colors.js';
import { reportError } from './output.js';

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
      reportError(error, { ...options, palette: options.palette(), command: options.command() });
    } finally {
      options.exit(ExitCode.Failure);
    }
  };
}
