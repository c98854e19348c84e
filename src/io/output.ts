import { CliError, exitCodeFor, isPromptAbort } from '../errors.js';
import type { Palette } from './colors.js';

/**
 * Results go to stdout: human lines, or with --json exactly one JSON document (failures included).
 */
export interface Output {
  readonly json: boolean;
  /** Human result lines (ignored in --json mode). */
  lines(lines: string[]): void;
  /** The one JSON document of a --json run (ignored in human mode). */
  document(doc: unknown): void;
}

/** Streams that already carry their one --json document (a run, a forced exit and the catch share it). */
const documented = new WeakSet<NodeJS.WritableStream>();

/**
 * Writes the run's one JSON document to `stream`, unless the command (or an earlier exit path) wrote
 * one already; returns false then. cli.ts prints error and forced-exit documents through it.
 */
export function writeDocumentOnce(stream: NodeJS.WritableStream, doc: unknown): boolean {
  if (documented.has(stream)) return false;
  documented.add(stream);
  stream.write(`${JSON.stringify(doc, null, 2)}\n`);
  return true;
}

export function createOutput(json: boolean, stream: NodeJS.WritableStream = process.stdout): Output {
  return {
    json,
    lines(lines) {
      if (!json && lines.length) stream.write(`${lines.join('\n')}\n`);
    },
    document(doc) {
      if (!json) return;
      documented.add(stream);
      stream.write(`${JSON.stringify(doc, null, 2)}\n`);
    },
  };
}

/** The JSON document printed for a failed --json run. */
export function errorDocument(error: unknown, command?: string): Record<string, unknown> {
  const exitCode = exitCodeFor(error);
  const body =
    error instanceof CliError
      ? error.toJSON()
      : isPromptAbort(error)
        ? { code: 'ABORTED', message: 'Aborted.' }
        : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
  const result = error instanceof CliError ? error.resultDocument() : undefined;
  return { ...result, ok: false, ...(command ? { command } : {}), exitCode, error: body };
}

/** Human lines for an error (stderr). */
export function formatError(error: unknown, palette: Palette): string[] {
  if (isPromptAbort(error)) return [palette.danger('Aborted.')];
  if (!(error instanceof CliError)) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return [
      palette.danger(`error: unexpected failure: ${message}`),
      palette.muted('This is a bug in gitlab-aws-oidc; please report it with the command you ran.'),
    ];
  }
  const lines = [palette.danger(`error: ${error.message}`)];
  for (const d of error.details()) lines.push(`  ${d}`);
  if (error.hint) lines.push(palette.muted(`hint: ${error.hint}`));
  return lines;
}

/**
 * Reports a failure: its lines on stderr (unless something printed them already, as commander does for
 * its flag errors) and, under --json, the run's one error document on stdout.
 */
export function reportError(
  error: unknown,
  options: {
    stdout: NodeJS.WritableStream;
    stderr: NodeJS.WritableStream;
    palette: Palette;
    json: boolean;
    command: string | undefined;
    printed?: boolean;
  },
): void {
  if (!options.printed)
    for (const line of formatError(error, options.palette)) options.stderr.write(`${line}\n`);
  if (options.json) writeDocumentOnce(options.stdout, errorDocument(error, options.command));
}
