/**
 * Bounded concurrency, shared by every command that makes many calls (audit and status reads, destroy,
 * apply phases, fleet runs). IAM throttles at unpublished rates: the SDK retries, we keep the number in
 * flight small.
 *
 * One runner, two ways to use it:
 * - settleWithConcurrency: every item runs; each failure is collected with its item (one project's
 *   failure does not stop the others), or, with `stopOnFailure`, no new item starts after the first one;
 * - mapWithConcurrency: results in input order, rejecting with the first failure.
 * Either way an abort (Ctrl-C) stops starting new items and lets the calls in flight finish; no call is
 * ever left running when the promise settles.
 */

export const DEFAULT_CONCURRENCY = 8;

export interface ConcurrencyProgress<T> {
  item: T;
  index: number;
  /** This item's outcome. */
  ok: boolean;
  error?: unknown;
  /** Items finished so far (this one included), of which `failed` failed. */
  done: number;
  failed: number;
  total: number;
  /** Still running after this one. */
  inFlight: number;
}

export interface ConcurrencyOptions<T> {
  /** Most calls in flight at once (at least 1). */
  limit: number;
  /** Aborted: no new item starts; the ones in flight finish. */
  signal?: AbortSignal | undefined;
  /** After each item finishes (in completion order). Thrown errors are not caught. */
  onProgress?: ((progress: ConcurrencyProgress<T>) => void) | undefined;
}

export interface SettleOptions<T> extends ConcurrencyOptions<T> {
  /** No new item starts after the first failure (the ones in flight finish). Default false: run them all. */
  stopOnFailure?: boolean | undefined;
}

export type Settled<R> =
  | { status: 'fulfilled'; value: R }
  | { status: 'rejected'; reason: unknown }
  /** Never started: aborted, or stopped after a failure. */
  | { status: 'skipped' };

export interface SettledAll<T, R> {
  /** One entry per item, in input order. */
  results: Settled<R>[];
  /** The failures in the order they happened. */
  failures: Array<{ item: T; index: number; reason: unknown }>;
  /** Items never started. */
  skipped: T[];
  /** True when the signal stopped the run before every item started. */
  aborted: boolean;
}

/** Runs `fn` over `items` with at most `options.limit` in flight and collects every outcome. */
export async function settleWithConcurrency<T, R>(
  items: readonly T[],
  options: SettleOptions<T>,
  fn: (item: T, index: number) => Promise<R>,
): Promise<SettledAll<T, R>> {
  const { signal, onProgress, stopOnFailure = false } = options;
  const results: Settled<R>[] = items.map(() => ({ status: 'skipped' }));
  const failures: SettledAll<T, R>['failures'] = [];
  let next = 0;
  let done = 0;
  let inFlight = 0;
  const stopped = () => signal?.aborted === true || (stopOnFailure && failures.length > 0);

  const worker = async () => {
    while (next < items.length && !stopped()) {
      const index = next++;
      const item = items[index] as T;
      inFlight++;
      let outcome: Settled<R>;
      try {
        outcome = { status: 'fulfilled', value: await fn(item, index) };
      } catch (reason) {
        outcome = { status: 'rejected', reason };
        failures.push({ item, index, reason });
      }
      inFlight--;
      done++;
      results[index] = outcome;
      onProgress?.({
        item,
        index,
        ok: outcome.status === 'fulfilled',
        ...(outcome.status === 'rejected' ? { error: outcome.reason } : {}),
        done,
        failed: failures.length,
        total: items.length,
        inFlight,
      });
    }
  };
  const width = Math.max(1, Math.min(Math.floor(options.limit) || 1, items.length));
  await Promise.all(Array.from({ length: width }, worker));
  const skipped = items.filter((_, i) => results[i]!.status === 'skipped');
  return { results, failures, skipped, aborted: signal?.aborted === true && skipped.length > 0 };
}

/**
 * Maps `items` with at most `limit` calls in flight; results keep the input order. After the first
 * failure no new call starts and, once the calls in flight finish, it rejects with that failure; an
 * abort rejects with the signal's reason the same way.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number | ConcurrencyOptions<T>,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const options = typeof limit === 'number' ? { limit } : limit;
  const settled = await settleWithConcurrency(items, { ...options, stopOnFailure: true }, fn);
  if (settled.failures.length) throw settled.failures[0]!.reason;
  if (settled.aborted) throw options.signal?.reason ?? new Error('aborted');
  return settled.results.map((r) => (r as { value: R }).value);
}

/**
 * Promises by key: `get` computes a key's promise once and hands the same one to every later caller.
 * With `forgetFailures`, a rejected promise is dropped, so the next caller asks again (a throttled read
 * is not remembered as a failure for the rest of the run). `clear` forgets everything.
 */
export function promiseCache<R>({ forgetFailures = false }: { forgetFailures?: boolean } = {}) {
  let cache = new Map<string, Promise<R>>();
  return {
    get(key: string, compute: () => Promise<R>): Promise<R> {
      let hit = cache.get(key);
      if (!hit) {
        const made = compute();
        hit = made;
        cache.set(key, made);
        if (forgetFailures)
          made.catch(() => {
            if (cache.get(key) === made) cache.delete(key);
          });
      }
      return hit;
    },
    clear(): void {
      cache = new Map();
    },
  };
}

/** Memoises an async lookup by key (e.g. one GetPolicyVersion per policy ARN across all roles). */
export function memoizeAsync<R>(fn: (key: string) => Promise<R>): (key: string) => Promise<R> {
  const cache = promiseCache<R>();
  return (key) => cache.get(key, () => fn(key));
}
