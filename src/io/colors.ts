import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Colour is decided per stream: on only for a TTY, off with NO_COLOR (any non-empty value) or TERM=dumb,
 * forced with FORCE_COLOR. All colour goes through the semantic map below.
 */
export function colorLevelFor(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') {
    if (force === '0' || force === 'false') return 0;
    return 1;
  }
  if (env.TERM === 'dumb') return 0;
  return stream.isTTY ? 1 : 0;
}

export interface Palette {
  /** Something is created / allowed / succeeded. */
  good(text: string): string;
  /** Something changes in place. */
  change(text: string): string;
  /** Danger: broadening trust, deletion, failure. */
  danger(text: string): string;
  warn(text: string): string;
  muted(text: string): string;
  strong(text: string): string;
  code(text: string): string;
}

export function createPalette(level: 0 | 1 | 2 | 3): Palette {
  const c: ChalkInstance = new Chalk({ level });
  return {
    good: (t) => c.green(t),
    change: (t) => c.yellow(t),
    danger: (t) => c.red.bold(t),
    warn: (t) => c.yellow(t),
    muted: (t) => c.dim(t),
    strong: (t) => c.bold(t),
    code: (t) => c.cyan(t),
  };
}

/** A line of a unified diff: additions good, removals danger, file headers and context as they are. */
export function colorDiffLine(line: string, palette: Palette): string {
  if (line.startsWith('+') && !line.startsWith('+++')) return palette.good(line);
  if (line.startsWith('-') && !line.startsWith('---')) return palette.danger(line);
  return line;
}
