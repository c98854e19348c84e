/** The fleet's own flags (not a member's InitOptions): how many members at once, and per-project detail. */
import { UsageError } from '../errors.js';
import { DEFAULT_CONCURRENCY } from './run.js';

export const MAX_CONCURRENCY = 32;

export interface FleetFlags {
  concurrency?: string | undefined;
  details?: boolean | undefined;
}

export interface FleetOptions {
  concurrency: number;
  details: boolean;
}

/** Validated before anything is read: a bad --concurrency is exit 2 naming the flag and the range. */
export function resolveFleetOptions(flags: FleetFlags): FleetOptions {
  const raw = flags.concurrency;
  let concurrency = DEFAULT_CONCURRENCY;
  if (raw !== undefined) {
    const trimmed = raw.trim();
    concurrency = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || concurrency < 1 || concurrency > MAX_CONCURRENCY)
      throw UsageError.field(
        '--concurrency',
        `"${raw}" is not a whole number from 1 to ${MAX_CONCURRENCY}`,
        `Projects planned and applied at once, e.g. --concurrency ${DEFAULT_CONCURRENCY} (the default).`,
      );
  }
  return { concurrency, details: Boolean(flags.details) };
}
