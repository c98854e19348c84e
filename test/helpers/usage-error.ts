import { UsageError } from '../../src/errors.js';

/** Runs `fn` and returns the UsageError it throws; any other error is rethrown, no error fails the test. */
export function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError');
}
