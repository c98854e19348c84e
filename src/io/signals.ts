/**
 * SIGINT (Ctrl-C) and SIGTERM (how GitLab cancels a job, or `kill`) are handled alike. The first one
 * aborts the run's signal: calls in flight are cancelled, nothing new starts, and the run ends through
 * cli.ts's one catch with what was done and not done (exit 130). A second one exits at once, still
 * printing the --json document first (unless the run already printed its one document).
 */
import { AbortError, ExitCode } from '../errors.js';
import { errorDocument, writeDocumentOnce } from './output.js';

export interface InterruptHandlerOptions {
  controller: AbortController;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** --json: a forced exit prints the error document. */
  json: boolean;
  /** The command being run, for the document. */
  command: () => string | undefined;
  exit: (code: number) => void;
}

export function createInterruptHandler(options: InterruptHandlerOptions): (signal: NodeJS.Signals) => void {
  let interrupts = 0;
  return (signal) => {
    interrupts += 1;
    const name = signal === 'SIGINT' ? 'Interrupt' : signal;
    if (interrupts > 1) {
      options.stderr.write(`\n${name} received again: exiting now.\n`);
      if (options.json) {
        const error = new AbortError(
          'Interrupted twice: exited without waiting for the calls in flight. Re-run the same command: it reads the state again and finishes what is left.',
        );
        writeDocumentOnce(options.stdout, errorDocument(error, options.command()));
      }
      options.exit(ExitCode.Aborted);
      return;
    }
    options.stderr.write(
      `\n${name} received: cancelling the calls in flight, then stopping (${signal === 'SIGINT' ? 'Ctrl-C again' : 'a second signal'} to exit at once).\n`,
    );
    options.controller.abort();
  };
}
