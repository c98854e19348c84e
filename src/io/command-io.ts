/**
 * What a command writes through, built from its context: progress and diagnostics on stderr (silent
 * when `quiet`), results on stdout (lines, or with `json` exactly one document).
 */
import { colorLevelFor, createPalette, type Palette } from './colors.js';
import type { CommandContext } from './context.js';
import { createLogger, type Logger } from './logger.js';
import { createOutput, type Output } from './output.js';

export interface CommandIo {
  logger: Logger;
  output: Output;
  /** A progress line on stderr, muted. */
  progress(message: string): void;
  /** Colours for result lines, decided for stdout (which may be piped while stderr is a terminal). */
  stdoutPalette: Palette;
}

export function createCommandIo(
  context: CommandContext,
  options: { json?: boolean; quiet?: boolean } = {},
): CommandIo {
  const logger = createLogger({ stream: context.stderr, env: context.env, quiet: options.quiet });
  return {
    logger,
    output: createOutput(options.json ?? false, context.stdout),
    progress: (message) => logger.info(logger.palette.muted(message)),
    stdoutPalette: createPalette(colorLevelFor(context.stdout as { isTTY?: boolean }, context.env)),
  };
}
