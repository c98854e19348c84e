/** A CommandContext for running a command in-process, with what it writes to stdout and stderr recorded. */
import { PassThrough } from 'node:stream';
import type { CommandContext } from '../../src/io/context.js';

export interface CapturedContext {
  context: CommandContext;
  /** Everything written to stdout so far. */
  out(): string;
  /** Everything written to stderr so far. */
  err(): string;
}

/** A stdout and a stderr stream that record what is written to them. */
export function captureStreams(): {
  stdout: PassThrough;
  stderr: PassThrough;
  out(): string;
  err(): string;
} {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += String(d);
  });
  stderr.on('data', (d) => {
    err += String(d);
  });
  return { stdout, stderr, out: () => out, err: () => err };
}

/** No colour (NO_COLOR=1); not interactive unless asked; `cwd` defaults to the process's. */
export function captureContext(options: { cwd?: string; interactive?: boolean } = {}): CapturedContext {
  const { stdout, stderr, out, err } = captureStreams();
  const context: CommandContext = {
    stdout,
    stderr,
    // No anonymous lookup on gitlab.com: a test never reaches the real internet.
    env: { NO_COLOR: '1', GITLAB_AWS_OIDC_GITLAB_ANONYMOUS: 'off' },
    cwd: options.cwd ?? process.cwd(),
    interactive: options.interactive ?? false,
    signal: new AbortController().signal,
  };
  return { context, out, err };
}
