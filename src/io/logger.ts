import { colorLevelFor, createPalette, type Palette } from './colors.js';

/** Progress and diagnostics: always stderr, never stdout. */
export interface Logger {
  readonly palette: Palette;
  info(message: string): void;
  warn(message: string): void;
  /** A step of a step list: `start` prints `… message`, `done` prints `✓ message`, `fail` prints `✗ message`. */
  step(state: 'start' | 'done' | 'fail', message: string): void;
  debug(message: string): void;
}

export interface LoggerOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
  quiet?: boolean;
  verbose?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  const palette = createPalette(colorLevelFor(stream, env));
  const write = (line: string) => {
    if (!options.quiet) stream.write(`${line}\n`);
  };
  return {
    palette,
    info: (m) => write(m),
    warn: (m) => write(palette.warn(`warning: ${m}`)),
    step: (state, m) => {
      if (state === 'start') write(palette.muted(`… ${m}`));
      else if (state === 'done') write(`${palette.good('✓')} ${m}`);
      else write(`${palette.danger('✗')} ${m}`);
    },
    debug: (m) => {
      if (options.verbose || env.GITLAB_AWS_OIDC_DEBUG) write(palette.muted(`debug: ${m}`));
    },
  };
}

/** A logger that records lines, for tests. */
export function createMemoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const palette = createPalette(0);
  return {
    lines,
    palette,
    info: (m) => lines.push(m),
    warn: (m) => lines.push(`warning: ${m}`),
    step: (s, m) => lines.push(`${s}: ${m}`),
    debug: () => {},
  };
}
