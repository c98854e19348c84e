/**
 * What every command action receives from cli.ts: the output streams, the environment, whether a
 * terminal is attached, and the abort signal that Ctrl-C trips.
 */
export interface CommandContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** True when prompts may be shown: stdin and stderr are TTYs and CI is not set. */
  interactive: boolean;
  signal: AbortSignal;
}

export function isInteractive(
  env: NodeJS.ProcessEnv,
  stdin: { isTTY?: boolean },
  stderr: { isTTY?: boolean },
): boolean {
  const ci = env.CI;
  if (ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false') return false;
  return Boolean(stdin.isTTY && stderr.isTTY);
}
