/**
 * Progress of long runs (fleet plans and applies, audits of many roles), always on stderr, never stdout.
 *
 * - `bar`: stderr is a terminal: a cli-progress bar redrawn in place, coloured through the logger's
 *   palette (none with NO_COLOR / TERM=dumb, like every other line);
 * - `lines`: stderr is not a terminal (CI logs, a file): a plain line at most every `intervalMs` and a
 *   final one, no ANSI at all;
 * - `silent`: `--quiet`, or `--json` unless progress was asked for explicitly (`progress: true`), or
 *   `progress: false`.
 * Lines that must appear during a run (warnings, failures) go through `log`, which keeps the bar intact.
 */
import { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import type { ConcurrencyProgress } from '../core/concurrency.js';
import { colorLevelFor, createPalette, type Palette } from './colors.js';

export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface ProgressOptions {
  /** What is counted: `Onboarding projects`. */
  label: string;
  total: number;
  /** Default process.stderr. */
  stream?: ProgressStream | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** The logger's palette; default: the one the logger would pick for `stream`. */
  palette?: Palette | undefined;
  /** `--json`: silent unless `progress` is true. */
  json?: boolean | undefined;
  quiet?: boolean | undefined;
  /** Tri-state: true forces progress (even with --json), false turns it off, undefined decides. */
  progress?: boolean | undefined;
  /** `lines` mode: the least time between two lines (ms). Default 5,000. */
  intervalMs?: number | undefined;
  /** Clock (tests). */
  now?: (() => number) | undefined;
}

export type ProgressMode = 'bar' | 'lines' | 'silent';

export interface ProgressReporter {
  readonly mode: ProgressMode;
  /** One more item finished (failed or not). */
  tick(outcome?: { failed?: boolean | undefined }): void;
  /** A line to show now (above the bar on a terminal). Not shown in silent mode. */
  log(line: string): void;
  /** Ends the bar (or prints the last line). Idempotent. */
  stop(): void;
}

/** How progress is shown for these options (see the module comment). */
export function progressModeFor(
  options: Pick<ProgressOptions, 'stream' | 'env' | 'json' | 'quiet' | 'progress'>,
): ProgressMode {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  if (options.quiet || options.progress === false) return 'silent';
  if (options.json && options.progress !== true) return 'silent';
  return stream.isTTY && env.TERM !== 'dumb' ? 'bar' : 'lines';
}

const fmt = (n: number) => n.toLocaleString('en-US');

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

interface Counts {
  done: number;
  failed: number;
}

/** `Onboarding projects: 120/1,000 (12%), 3 failed, 14s` */
function plainLine(label: string, total: number, counts: Counts, elapsedMs: number): string {
  const pct = total === 0 ? 100 : Math.floor((counts.done / total) * 100);
  const failed = counts.failed ? `, ${fmt(counts.failed)} failed` : '';
  return `${label}: ${fmt(counts.done)}/${fmt(total)} (${pct}%)${failed}, ${formatDuration(elapsedMs)}`;
}

function createLines(options: ProgressOptions, stream: ProgressStream): ProgressReporter {
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 5000;
  const started = now();
  const counts: Counts = { done: 0, failed: 0 };
  let last = started;
  let stopped = false;
  const print = () => {
    stream.write(`${plainLine(options.label, options.total, counts, now() - started)}\n`);
    last = now();
  };
  return {
    mode: 'lines',
    tick(outcome) {
      if (stopped) return;
      counts.done++;
      if (outcome?.failed) counts.failed++;
      if (now() - last >= interval && counts.done < options.total) print();
    },
    log(line) {
      if (!stopped) stream.write(`${line}\n`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      print();
    },
  };
}

function createBar(options: ProgressOptions, stream: ProgressStream, palette: Palette): ProgressReporter {
  const counts: Counts = { done: 0, failed: 0 };
  const bar = new cliProgress.SingleBar({
    stream,
    // Our own signal handling (io/signals.ts) decides what Ctrl-C does; the bar is stopped by the caller.
    gracefulExit: false,
    hideCursor: false,
    linewrap: null,
    barsize: 30,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    format: (opts, params) => {
      const width = opts.barsize ?? 30;
      const complete = Math.round(params.progress * width);
      const filled = palette.good((opts.barCompleteString ?? '').slice(0, complete));
      const empty = palette.muted((opts.barIncompleteString ?? '').slice(0, width - complete));
      const pct = `${Math.floor(params.progress * 100)}%`.padStart(4);
      const failed = counts.failed ? `  ${palette.danger(`${fmt(counts.failed)} failed`)}` : '';
      const eta =
        params.value > 0 && params.value < params.total
          ? palette.muted(`  ETA ${formatDuration(params.eta * 1000)}`)
          : '';
      return `${options.label} ${filled}${empty} ${pct} ${fmt(params.value)}/${fmt(params.total)}${failed}${eta}`;
    },
  });
  bar.start(options.total, 0);
  let stopped = false;
  return {
    mode: 'bar',
    tick(outcome) {
      if (stopped) return;
      counts.done++;
      if (outcome?.failed) counts.failed++;
      bar.update(counts.done);
    },
    log(line) {
      if (stopped) {
        stream.write(`${line}\n`);
        return;
      }
      // Clear the bar's line, print above it, redraw it below; the bar restores the cursor it saved at
      // start() when it stops, so save it again at the new position.
      stream.write(`\r\x1b[2K${line}\n`);
      (bar as unknown as { terminal: { cursorSave(): void } }).terminal.cursorSave();
      bar.render();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

const SILENT: ProgressReporter = { mode: 'silent', tick() {}, log() {}, stop() {} };

/** A progress reporter on stderr for `options.total` items. Call stop() when the run ends (finally). */
export function createProgress(options: ProgressOptions): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  const mode = progressModeFor({ ...options, stream, env });
  if (mode === 'silent') return SILENT;
  if (mode === 'lines') return createLines(options, stream);
  return createBar(options, stream, options.palette ?? createPalette(colorLevelFor(stream, env)));
}

/** settleWithConcurrency's / mapWithConcurrency's onProgress, feeding a reporter. */
export function reportConcurrencyProgress<T>(
  reporter: ProgressReporter,
): (p: ConcurrencyProgress<T>) => void {
  return (p) => reporter.tick({ failed: !p.ok });
}

/**
 * A stream for the logger while a bar is shown: on a terminal its lines go through `reporter.log` (above
 * the bar, which stays intact); otherwise straight to `stream`. Same isTTY/columns as `stream`, so the
 * logger picks the same colours: `createLogger({ stream: progressAwareStream(progress, stderr) })`.
 */
export function progressAwareStream(reporter: ProgressReporter, stream: ProgressStream): ProgressStream {
  let pending = '';
  const out = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      if (reporter.mode !== 'bar') {
        stream.write(chunk);
        done();
        return;
      }
      pending += String(chunk);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) reporter.log(line);
      done();
    },
  });
  return Object.assign(out, { isTTY: stream.isTTY, columns: stream.columns });
}
