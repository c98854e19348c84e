/**
 * Bounded concurrency for per-resource IAM reads (IAM throttles unpublished limits; the SDK retries,
 * we keep the number in flight small).
 */

export const DEFAULT_CONCURRENCY = 8;

/** Maps `items` with at most `limit` calls in flight; results keep the input order. Rejects on the first failure. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const width = Math.max(1, Math.min(limit, items.length));
  const workers = Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Memoises an async lookup by key (e.g. one GetPolicyVersion per policy ARN across all roles). */
export function memoizeAsync<R>(fn: (key: string) => Promise<R>): (key: string) => Promise<R> {
  const cache = new Map<string, Promise<R>>();
  return (key) => {
    let hit = cache.get(key);
    if (!hit) {
      hit = fn(key);
      cache.set(key, hit);
    }
    return hit;
  };
}
