/**
 * Bounded backoff for IAM's eventual consistency (a just-created provider or role is refused for
 * a few seconds). Throttling is not handled here: the SDK's retry strategy owns it.
 * Sleep and clock are injectable so tests run instantly.
 */
import { AwsError } from '../errors.js';
import { sleepUnlessAborted } from '../io/sleep.js';

export interface RetryOptions {
  /** Give up once this much time has passed (real or slept). Default 120 000 ms. */
  maxElapsedMs?: number;
  /** First delay; doubles each attempt up to `maxDelayMs`. Default 1 000 ms. */
  baseDelayMs?: number;
  /** Default 10 000 ms. */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** 0..1, for jitter. Default Math.random. */
  random?: () => number;
  /** Called before each wait, e.g. to log "waiting for IAM to propagate". */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Once aborted, no further attempt is made (the last error is rethrown) and a real wait ends early. */
  signal?: AbortSignal | undefined;
}

export type RetryPredicate = (error: unknown) => boolean;

export const DEFAULT_MAX_ELAPSED_MS = 120_000;

/**
 * Runs `fn` until it succeeds, fails with an error `retryIf` rejects, or the time budget is
 * spent; then rethrows the last error. Elapsed time is the larger of the clock and the total
 * slept, so an injected sleep alone also bounds the loop.
 */
export async function retryWithBackoff<T>(
  fn: () => Promise<T>,
  retryIf: RetryPredicate,
  options: RetryOptions = {},
): Promise<T> {
  const {
    maxElapsedMs = DEFAULT_MAX_ELAPSED_MS,
    baseDelayMs = 1_000,
    maxDelayMs = 10_000,
    now = Date.now,
    random = Math.random,
    onRetry,
    signal,
  } = options;
  const sleep = options.sleep ?? ((ms: number) => sleepUnlessAborted(ms, signal));
  const start = now();
  let slept = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!retryIf(error) || signal?.aborted) throw error;
      const elapsed = Math.max(now() - start, slept);
      const remaining = maxElapsedMs - elapsed;
      if (remaining <= 0) throw error;
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      // Equal jitter: at least half the ceiling, so waits still grow.
      const delayMs = Math.min(remaining, Math.round(ceiling / 2 + (random() * ceiling) / 2));
      onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
      slept += delayMs;
      if (signal?.aborted) throw error;
    }
  }
}

function isAwsCode(error: unknown, code: string): error is AwsError {
  return error instanceof AwsError && error.awsCode === code;
}

/** `MalformedPolicyDocument: Invalid principal in policy` right after the provider was created. */
export const isInvalidPrincipal: RetryPredicate = (error) =>
  isAwsCode(error, 'MalformedPolicyDocument') && /invalid principal/i.test(error.message);

export const isConcurrentModification: RetryPredicate = (error) => isAwsCode(error, 'ConcurrentModification');

/** For operations on an entity this run just created. */
export const isNoSuchEntity: RetryPredicate = (error) => isAwsCode(error, 'NoSuchEntity');

/**
 * NoSuchEntity naming an AWS managed policy (`arn:…:iam::aws:policy/…`): such a policy exists in every
 * account from the start, so it does not exist at all (a typo), and waiting for propagation is pointless.
 */
export function isMissingAwsManagedPolicy(policyArn: string): RetryPredicate {
  const awsManaged = /^arn:[\w-]+:iam::aws:policy\//.test(policyArn);
  return (error) => awsManaged && isNoSuchEntity(error) && (error as AwsError).message.includes(policyArn);
}

/** `retryIf`, except for errors `unless` matches. */
export function except(retryIf: RetryPredicate, unless: RetryPredicate): RetryPredicate {
  return (error) => !unless(error) && retryIf(error);
}

export function anyOf(...predicates: RetryPredicate[]): RetryPredicate {
  return (error) => predicates.some((p) => p(error));
}
